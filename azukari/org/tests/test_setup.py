"""Setting up a client, its sites, teams and staff through the services and the commands."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from azukari.core.errors import DomainError, NotVisible, PermissionRefused
from azukari.org.checklist import client_checklist, client_go_live
from azukari.org.models import Client, ClientLine, EmploymentStatus, Role, Site, Team, User
from azukari.org.setup import (
    client_create,
    client_line_add,
    client_update,
    site_create,
    staff_create,
    staff_update,
    team_create,
)
from azukari.testing.factories import UserFactory


@pytest.fixture
def manager(cast):
    return UserFactory(
        username="mgr", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )


def _new_client(manager, **extra) -> Client:
    return client_create(
        actor=manager,
        code="bread",
        name="パン工房株式会社",
        lines=[("0120-555-666", "解約窓口")],
        closed_days=[timezone.localdate() + dt.timedelta(days=20)],
        escalation_email="cs@bread.example",
        contract_signed_on=dt.date(2026, 1, 5),
        **extra,
    )


def test_a_new_client_has_its_lines_calendar_and_is_served_by_its_creator(cast, manager):
    client = _new_client(manager)
    assert client.went_live_on is None
    assert list(client.lines.values_list("number", "label")) == [("+81120555666", "解約窓口")]
    assert client.closed_days.count() == 1
    assert client.pk in User.objects.get(pk=manager.pk).visible_client_ids()


def test_client_create_refuses_what_would_break_the_pop_or_the_calendar(cast, manager):
    ClientLine.objects.create(client=cast.coffee, number="+81120555666")
    with pytest.raises(DomainError) as taken:
        _new_client(manager)
    assert taken.value.field == "lines" and cast.coffee.name in str(taken.value)
    assert not Client.objects.filter(code="bread").exists()  # nothing half-made
    with pytest.raises(DomainError) as past:
        client_create(
            actor=manager,
            code="bread",
            name="パン",
            closed_days=[timezone.localdate() - dt.timedelta(days=1)],
        )
    assert past.value.field == "date"
    for bad, field in (
        ({"code": "パン"}, "code"),
        ({"code": "coffee"}, "code"),
        ({"name": " "}, "name"),
        ({"escalation_email": "not-mail"}, "escalation_email"),
        ({"lines": ["123"]}, "lines"),
    ):
        with pytest.raises(DomainError) as refused:
            client_create(actor=manager, **{"code": "bread", "name": "パン", **bad})
        assert refused.value.field == field


def test_only_managers_set_up_clients_and_only_clients_they_serve(cast, manager):
    with pytest.raises(PermissionRefused):
        client_create(actor=cast.operator, code="bread", name="パン")
    with pytest.raises(NotVisible):
        client_line_add(actor=manager, client=cast.tea, number="0120-777-888")
    with pytest.raises(NotVisible):
        client_update(actor=manager, client=cast.tea, name="x")
    client_update(actor=manager, client=cast.coffee, escalation_email="new@coffee.example")
    assert Client.objects.get(pk=cast.coffee.pk).escalation_email == "new@coffee.example"


def test_a_site_with_hours_and_a_team_serving_clients(cast, manager):
    site = site_create(
        actor=manager,
        code="sendai",
        name="仙台センター",
        hours={0: (dt.time(9), dt.time(18)), 5: (dt.time(10), dt.time(17))},
    )
    assert sorted(site.hours.values_list("weekday", flat=True)) == [0, 5]
    team = team_create(
        actor=manager,
        site=site,
        code="sendai-desk",
        name="預かり管理",
        is_azukari_desk=True,
        clients=[cast.coffee],
    )
    assert list(team.clients.all()) == [cast.coffee]
    with pytest.raises(DomainError) as hours:
        site_create(actor=manager, code="x", name="X", hours={1: (dt.time(18), dt.time(9))})
    assert hours.value.field == "closes_at"
    with pytest.raises(DomainError) as down:
        site_create(actor=manager, code="x", name="X", status="down")
    assert down.value.field == "status"
    with pytest.raises(NotVisible):
        team_create(actor=manager, site=site, code="t2", name="T", clients=[cast.tea])
    with pytest.raises(PermissionRefused):
        site_create(actor=cast.operator, code="y", name="Y")
    assert not Site.objects.filter(code__in=["x", "y"]).exists()
    assert not Team.objects.filter(code="t2").exists()


def test_staff_create_and_update_keep_the_record_coherent(cast, manager):
    person = staff_create(
        actor=manager,
        username="e1001",
        employee_number="E1001",
        role=Role.OPERATOR,
        family_name="髙橋",
        given_name="一郎",
        home_site=cast.sapporo,
        clients=[cast.coffee],
        agreement_signed_on=dt.date(2026, 4, 1),
        agreement_version="2026-04",
    )
    assert person.display_name == "髙橋" and person.has_access
    assert not person.has_usable_password()
    staff_update(actor=manager, staff=person, home_site=cast.osaka, agent_id="4999")
    person.refresh_from_db()
    assert person.home_site == cast.osaka and person.agent_id == "4999"
    refusals = [
        ({"role": Role.CLIENT_APPROVER}, "company"),
        ({"team": cast.sapporo_desk}, "team"),  # the team is at another site
    ]
    for changes, field in refusals:
        with pytest.raises(DomainError) as refused:
            staff_update(actor=manager, staff=person, **changes)
        assert refused.value.field == field
    with pytest.raises(DomainError) as twice:
        staff_create(
            actor=manager,
            username="other",
            employee_number="E1001",
            family_name="X",
            home_site=cast.sapporo,
        )
    assert twice.value.field == "employee_number"
    with pytest.raises(NotVisible):
        staff_create(
            actor=manager, username="t", family_name="X", home_site=cast.osaka, clients=[cast.tea]
        )
    with pytest.raises(PermissionRefused):
        staff_create(actor=cast.operator, username="t", family_name="X", home_site=cast.osaka)


def test_an_approver_belongs_to_one_company_and_has_no_site(cast, manager):
    approver = staff_create(
        actor=manager,
        username="appr",
        role=Role.CLIENT_APPROVER,
        family_name="承認",
        company=cast.coffee,
    )
    assert approver.has_access  # the company's contract binds them
    with pytest.raises(DomainError) as site:
        staff_create(
            actor=manager,
            username="appr2",
            role=Role.CLIENT_APPROVER,
            family_name="承認",
            company=cast.coffee,
            home_site=cast.sapporo,
        )
    assert site.value.field == "home_site"


# ---------------------------------------------------------------- checklist and go-live


def _complete(client: Client, manager) -> None:
    from azukari.reports.models import ReasonCode
    from azukari.subscriptions.models import Plan
    from azukari.subscriptions.services import policy_load

    Plan.objects.create(client=client, code="loaf", name="食パン便", price_yen=1200)
    policy_load(
        client=client,
        data={
            "policy": {"code": "standard", "name": "標準"},
            "versions": [{"effective_from": dt.date(2026, 1, 1), "min_deliveries": 0}],
        },
    )
    staff_create(
        actor=manager,
        username="appr",
        role=Role.CLIENT_APPROVER,
        family_name="承認",
        company=client,
    )
    staff_create(
        actor=manager,
        username="op",
        family_name="新人",
        home_site=manager.home_site,
        clients=[client],
        agreement_signed_on=dt.date(2026, 4, 1),
        agreement_version="2026-04",
    )
    ReasonCode.objects.create(client=client, code="cancel", label="解約", label_en="Cancel")


def test_go_live_is_refused_with_every_missing_item_named(cast, manager, english):
    client = client_create(actor=manager, code="bread", name="パン工房")
    missing = {i.code for i in client_checklist(client=client) if not i.done}
    assert missing == {
        "lines",
        "plans",
        "policy",
        "calendar",
        "approver",
        "escalation",
        "reasons",
        "operators",
    }
    with pytest.raises(DomainError) as refused:
        client_go_live(actor=manager, client=client)
    for words in ("phone line", "plan", "policy", "approver", "escalation", "Operators"):
        assert words in str(refused.value)
    assert "reason codes" not in str(refused.value)  # recommended, not required
    client.refresh_from_db()
    assert client.went_live_on is None


def test_a_complete_client_goes_live_once(cast, manager):
    client = _new_client(manager)
    _complete(client, manager)
    assert all(item.done for item in client_checklist(client=client))
    with pytest.raises(PermissionRefused):
        client_go_live(actor=cast.operator, client=client)
    client_go_live(actor=manager, client=client)
    client.refresh_from_db()
    assert client.went_live_on == timezone.localdate()
    with pytest.raises(DomainError):
        client_go_live(actor=manager, client=client)


# ---------------------------------------------------------------- commands


def test_client_and_site_commands(cast, manager, capsys):
    day = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    call_command(
        "client",
        "create",
        "bread",
        "--name",
        "パン工房株式会社",
        "--line",
        "0120-555-666=解約窓口",
        "--closed-day",
        f"{day}=棚卸",
        "--escalation-email",
        "cs@bread.example",
        "--contract-signed-on",
        "2026-01-05",
        "--served-by",
        "mgr",
    )
    client = Client.objects.get(code="bread")
    assert client.lines.get().number == "+81120555666"
    assert client.closed_days.get().note == "棚卸"
    assert client.pk in User.objects.get(pk=manager.pk).visible_client_ids()
    out = capsys.readouterr().out
    assert "✓" in out and "✗" in out
    with pytest.raises(CommandError, match=r"^code: "):
        call_command("client", "create", "bread", "--name", "x")
    with pytest.raises(CommandError):
        call_command("client", "go-live", "bread")
    call_command("site", "create", "sendai", "--name", "仙台", "--hours", "mon-fri=09:00-18:00")
    assert Site.objects.get(code="sendai").hours.count() == 5
    with pytest.raises(CommandError):
        call_command("site", "create", "kobe", "--name", "神戸", "--hours", "mon=18:00-09:00")
    with pytest.raises(CommandError):
        call_command("site", "create", "kobe", "--name", "神戸", "--hours", "monday=9:00-18:00")


# ---------------------------------------------------------------- staff import

STAFF_HEADER = ["社員番号", "氏名", "役割", "拠点", "担当企業", "覚書締結日", "覚書版", "退職日"]


def _staff_file(tmp_path, rows, encoding="cp932", name="staff.csv"):
    import csv

    path = tmp_path / name
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows([STAFF_HEADER, *rows])
    return path


@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig", "utf-8"])
def test_staff_import_reads_cp932_and_utf8_and_is_idempotent(
    cast, manager, tmp_path, encoding, capsys
):
    path = _staff_file(
        tmp_path,
        [
            [
                "E1",
                "髙橋　一郎",
                "オペレーター",
                "札幌センター",
                "coffee",
                "2026/4/1",
                "2026-04",
                "",
            ],
            ["E2", "山﨑 花子", "SV", "osaka", "coffee", "2026-04-01", "2026-04", ""],
            ["A1", "承認 太郎", "企業担当者", "", "coffee", "", "", ""],
        ],
        encoding=encoding,
    )
    call_command("staff", "import", str(path), "--by", "mgr", "--language", "en")
    first = User.objects.get(employee_number="E1")
    assert (first.last_name, first.first_name, first.role) == ("髙橋", "一郎", Role.OPERATOR)
    assert first.home_site == cast.sapporo and list(first.clients.all()) == [cast.coffee]
    assert User.objects.get(employee_number="E2").last_name == "山﨑"
    approver = User.objects.get(employee_number="A1")
    assert approver.role == Role.CLIENT_APPROVER and approver.client == cast.coffee
    assert "3 created" in capsys.readouterr().out
    call_command("staff", "import", str(path), "--by", "mgr", "--language", "ja")
    assert "変更なし 3件" in capsys.readouterr().out
    assert User.objects.filter(employee_number__isnull=False).count() == 3


def test_staff_import_is_all_or_nothing_with_row_errors_in_the_users_language(
    cast, manager, tmp_path, capsys
):
    path = _staff_file(
        tmp_path,
        [
            ["E1", "髙橋 一郎", "オペレーター", "札幌センター", "coffee", "2026-04-01", "v1", ""],
            ["E2", "山田 花子", "社長", "札幌センター", "coffee", "2026-04-01", "v1", ""],
            ["E3", "佐藤 次郎", "オペレーター", "函館", "nosuch", "2026-04-01", "v1", ""],
            ["E1", "髙橋 一郎", "オペレーター", "札幌センター", "coffee", "2026-04-01", "v1", ""],
        ],
    )
    with pytest.raises(CommandError):
        call_command("staff", "import", str(path), "--by", "mgr", "--language", "ja")
    err = capsys.readouterr().err
    assert "3行目" in err or "row 3" in err
    for expected in ("役割", "拠点", "担当企業", "社員番号"):
        assert expected in err
    assert not User.objects.filter(employee_number__isnull=False).exists()
    with pytest.raises(CommandError):
        call_command("staff", "import", str(path), "--by", "mgr", "--language", "en")
    assert "is not a role" in capsys.readouterr().err


def test_leavers_in_the_file_go_through_the_leaver_service(cast, manager, tmp_path):
    staff_update(actor=None, staff=cast.operator, employee_number="E9")
    path = _staff_file(
        tmp_path,
        [
            [
                "E9",
                "三浦 彩",
                "オペレーター",
                "sapporo",
                "coffee",
                "2024-04-01",
                "2024-04",
                "2026-03-31",
            ]
        ],
        encoding="utf-8",
    )
    call_command("staff", "import", str(path), "--by", "mgr")
    cast.operator.refresh_from_db()
    assert cast.operator.employment_status == EmploymentStatus.LEFT
    assert cast.operator.left_on == dt.date(2026, 3, 31) and not cast.operator.has_access
    call_command("staff", "import", str(path), "--by", "mgr")  # again: nothing changes
    with pytest.raises(CommandError):
        call_command("staff", "import", str(path), "--by", "op_tea")  # not a manager


# ---------------------------------------------------------------- the admin


def _admin_form(prefix: str, total: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_a_client_added_in_the_admin_goes_through_the_service(cast, manager):
    from django.contrib.auth.models import Permission
    from django.test import Client as Browser
    from django.urls import reverse

    from azukari.org.tests.test_calendars import login_verified

    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    manager.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="org",
            codename__in=["add_client", "change_client", "view_client", "add_clientline"],
        )
    )
    browser = Browser()
    login_verified(browser, User.objects.get(pk=manager.pk))
    data = {
        "code": "bread",
        "name": "パン工房株式会社",
        "name_kana": "",
        "escalation_email": "cs@bread.example",
        "contract_signed_on": "2026-01-05",
        "reopen_window_days": "14",
        "inquiry_due_hours": "16",
        "callback_max_attempts": "3",
        "callback_retry_minutes": "120",
        "unreachable_next_step": "desk_review",
        "inquiry_remind_hours": "4",
        "is_active": "on",
        **_admin_form("lines", 1),
        "lines-0-number": "0120-555-666",
        "lines-0-label": "窓口",
        **_admin_form("closed_days"),
    }
    added = browser.post(reverse("admin:org_client_add"), data)
    assert added.status_code == 302, added.content.decode()[:3000]
    assert added["Location"] == reverse("setup-checklist", args=["bread"])
    client = Client.objects.get(code="bread")
    assert client.lines.get().number == "+81120555666"  # stored as the pop reads it
    assert client.went_live_on is None
    assert client.pk in User.objects.get(pk=manager.pk).visible_client_ids()
    # A line another client has is refused on the form; nothing is created.
    again = browser.post(
        reverse("admin:org_client_add"), {**data, "code": "bread2", "lines-0-number": "0120555666"}
    )
    assert again.status_code == 200
    assert not Client.objects.filter(code="bread2").exists()
    # The refused form created nothing beside the first client.
    assert Client.objects.count() == 3


def test_a_persons_record_changed_in_the_admin_obeys_the_staff_rules(cast):
    from django.test import Client as Browser
    from django.urls import reverse

    from azukari.org.tests.test_calendars import login_verified

    admin_user = UserFactory(
        username="adm",
        role=Role.ADMIN,
        home_site=cast.osaka,
        clients=[cast.coffee, cast.tea],
        is_staff=True,
        is_superuser=True,
    )
    browser = Browser()
    login_verified(browser, admin_user)
    url = reverse("admin:org_user_change", args=[cast.operator.pk])
    form = browser.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None and name != "password"
    }
    data["clients"] = [c.pk for c in cast.operator.clients.all()]
    data["home_site"] = cast.operator.home_site_id
    data["date_joined_0"], data["date_joined_1"] = "2026-01-01", "09:00:00"
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("groups", None)
    data.pop("user_permissions", None)
    refused = browser.post(url, {**data, "team": cast.osaka_desk.pk})
    assert refused.status_code == 200  # the Osaka desk is not at the operator's site
    assert "別の拠点" in refused.content.decode() or "another site" in refused.content.decode()
    cast.operator.refresh_from_db()
    assert cast.operator.team is None
    saved = browser.post(url, {**data, "team": cast.sapporo_desk.pk})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    cast.operator.refresh_from_db()
    assert cast.operator.team == cast.sapporo_desk
