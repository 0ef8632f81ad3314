"""Taking on a new client from nothing, in a real browser and at the command line: lines and
calendar, the escalation contact and contract, a plan, a policy previewed then put in force,
reason codes (each on a set-up page of the manager's, with no admin permission), staff and an
approver from a CP932 file, until the checklist is green; then customers imported with a column
mapping, and a call to the new line pops one of them.
Every page is saved under screenshots/ (git-ignored)."""

# The browser fixtures are imported, so their names are parameters too.
# ruff: noqa: F811

import datetime as dt
import json
import re
import urllib.request

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from azukari.api.services import api_token_create
from azukari.customers.models import Customer
from azukari.dataio.models import ImportBatch, ImportStatus
from azukari.org.models import Client, Role, User
from azukari.subscriptions.models import PolicyVersion
from azukari.testing.factories import UserFactory
from azukari.web.tests.browser import (  # noqa: F401 (fixtures)
    PASSWORD,
    browser_page,
    chromium,
    log_in,
    log_out,
    shots,
    submit,
)
from azukari.web.tests.test_security import _code as totp_code

pytestmark = pytest.mark.browser

POLICY = """
[policy]
code = "standard"
name = "パン定期便の解約規定"

[[versions]]
effective_from = 2026-01-01
min_deliveries = 3
device_list_price_yen = 12000
device_price_paid_yen = 3000
decision_limit_days = 10
grounds = [
  { code = "defect", approval = "sv" },
  { code = "moving_abroad", approval = "client" },
]
"""
STAFF = [
    ["社員番号", "氏名", "役割", "拠点", "担当企業", "覚書締結日", "覚書版", "内線"],
    ["E501", "西村 さくら", "オペレーター", "札幌センター", "bread", "2026/4/1", "2026-04", "4501"],
    ["E502", "東 健太", "SV", "sapporo", "bread coffee", "2026/4/1", "2026-04", ""],
    ["A501", "麦田 承子", "企業担当者", "", "bread", "", "", ""],
]
CUSTOMERS = [
    ["会員ID", "お客様氏名", "フリガナ", "TEL"],
    ["B-0001", "髙橋 一郎", "タカハシ　イチロウ", "090-1111-2222"],
    ["B-0002", "山﨑花子", "ヤマザキ ハナコ", "090-3333-4444"],
]
# The one admin page the walk still uses: the customers' upload. Everything else a manager
# does on the set-up pages, with no permission of Django's own.
MANAGER_PERMISSIONS = ["dataio.view_importbatch"]


def _csv(rows: list[list[str]]) -> bytes:
    return "\r\n".join(",".join(row) for row in rows).encode("cp932")


@pytest.fixture
def manager(cast):
    """A center manager whose group gives the one admin page the walk uses (the upload)."""
    group = Group.objects.create(name="center managers")
    for dotted in MANAGER_PERMISSIONS:
        app, codename = dotted.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    manager = UserFactory(
        username="mgr",
        role=Role.MANAGER,
        home_site=cast.sapporo,
        clients=[cast.coffee],
        is_staff=True,
    )
    manager.groups.add(group)
    return manager


def _log_in_verified(page, user) -> None:
    device = TOTPDevice.objects.get_or_create(user=user, name="app", confirmed=True)[0]
    log_in(page, user.username)
    if "/account/2fa/" in page.url:
        page.fill("input[name=token]", totp_code(device))
        submit(page, "main button[type=submit]")


def _state(page, code: str) -> str:
    return page.get_attribute(f"#item-{code}", "class")


@pytest.mark.django_db(transaction=True)
def test_a_new_client_from_nothing_to_its_first_call(
    browser_page, shots, cast, manager, monkeypatch, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr("django_q.conf.Conf.SYNC", True)  # the worker, inline
    page = browser_page
    walk = "setup"

    # The client, its line and its calendar, at the command line.
    closed = timezone.localdate() + dt.timedelta(days=40)
    call_command(
        "client",
        "create",
        "bread",
        "--name",
        "パン工房株式会社",
        "--kana",
        "パンコウボウ",
        "--line",
        "0120-555-666=お客様窓口",
        "--closed-day",
        f"{closed.isoformat()}=棚卸",
        "--served-by",
        "mgr",
    )
    bread = Client.objects.get(code="bread")

    _log_in_verified(page, manager)
    page.goto(reverse("setup-clients"))
    page.click("text=パン工房株式会社")
    page.wait_for_url(re.compile(r"/setup/bread/$"))
    assert _state(page, "lines") == "done" and _state(page, "calendar") == "done"
    for code in ("plans", "policy", "approver", "escalation", "reasons", "operators"):
        assert _state(page, code) == "missing", code
    shots.take(page, walk, 1, "checklist-new")

    # Going live now is refused, every missing item named.
    submit(page, "#go-live-form button")
    assert "稼働できません" in page.inner_text("main")
    bread.refresh_from_db()
    assert bread.went_live_on is None
    shots.take(page, walk, 2, "go-live-refused")

    # The escalation contact and the company's contract, on the client's set-up page.
    page.click("#item-escalation a")
    page.wait_for_url(re.compile(r"/setup/bread/contact/$"))
    page.fill("#id_escalation_email", "cs@pan-kobo.example")
    page.fill("#id_contract_signed_on", "2026-01-05")
    shots.take(page, walk, 3, "escalation-contract")
    submit(page, "#client-contact-form button[type=submit]")
    page.wait_for_url(re.compile(r"/setup/bread/$"))
    assert "エスカレーション先と契約を保存しました" in page.inner_text("main")
    assert _state(page, "escalation") == "done"

    # A plan, from the checklist's link: a bad device price is refused and nothing is kept.
    page.click("#item-plans a")
    page.wait_for_url(re.compile(r"/setup/bread/plans/new/$"))
    page.fill("#id_code", "loaf-monthly")
    page.fill("#id_name", "食パンの定期便")
    page.fill("#id_price_yen", "1980")
    page.fill("#id_min_deliveries", "3")
    page.fill("#id_device_list_price_yen", "12000")
    page.fill("#id_device_price_paid_yen", "13000")
    submit(page, "#plan-form button[type=submit]")
    assert "定価を超えられません" in page.inner_text("#plan-form")
    shots.take(page, walk, 4, "plan-refused")
    page.fill("#id_device_price_paid_yen", "3000")
    submit(page, "#plan-form button[type=submit]")
    page.wait_for_url(re.compile(r"/setup/bread/$"))
    assert "プラン「食パンの定期便」を追加しました" in page.inner_text("main")
    assert _state(page, "plans") == "done"

    # The policy: previewed for a customer after one delivery, then put in force.
    page.click("#item-policy a")
    page.set_input_files(
        "#id_file",
        {"name": "bread-policy.toml", "mimeType": "text/plain", "buffer": POLICY.encode()},
    )
    page.fill("#id_deliveries_made", "1")
    submit(page, "#policy-form button[type=submit]")
    preview = page.inner_text("#policy-preview")
    assert "食パンの定期便" in preview and "6,000" in preview  # 9,000 yen × 2/3 unrecovered
    assert not PolicyVersion.objects.filter(client=bread).exists()
    shots.take(page, walk, 5, "policy-preview")
    submit(page, "#policy-confirm button")
    page.wait_for_url(re.compile(r"/setup/bread/$"))
    assert _state(page, "policy") == "done"

    # Contact reason codes, one after another on their page.
    page.click("#item-reasons a")
    page.wait_for_url(re.compile(r"/setup/bread/reasons/$"))
    for code, label, label_en in (("cancel", "解約", "Cancellation"), ("billing", "請求", "")):
        page.fill("#id_code", code)
        page.fill("#id_label", label)
        page.fill("#id_label_en", label_en)
        submit(page, "#reason-form button[type=submit]")
        assert f"「{code}」" in page.inner_text("main")
    assert "Cancellation" in page.inner_text("#reason-codes")
    shots.take(page, walk, 6, "reason-codes")
    page.goto(reverse("setup-checklist", args=["bread"]))
    assert _state(page, "reasons") == "done"

    # Staff and the client's approver from a CP932 file.
    page.click("#item-operators a")
    page.set_input_files(
        "#id_file", {"name": "staff.csv", "mimeType": "text/csv", "buffer": _csv(STAFF)}
    )
    submit(page, "#staff-import-form button[type=submit]")
    assert "作成 3件" in page.inner_text("main")
    operator = User.objects.get(employee_number="E501")
    assert (operator.last_name, operator.first_name, operator.agent_id) == (
        "西村",
        "さくら",
        "4501",
    )
    assert User.objects.get(employee_number="A501").client == bread

    # Everything required is there: green, and live.
    page.goto(reverse("setup-checklist", args=["bread"]))
    assert page.locator("#checklist tr.missing").count() == 0
    shots.take(page, walk, 7, "checklist-green")
    submit(page, "#go-live-form button")
    assert "稼働しました" in page.inner_text("main")
    bread.refresh_from_db()
    assert bread.went_live_on == timezone.localdate()
    shots.take(page, walk, 8, "live")

    # Customers from the client's own file: its columns mapped from lists.
    page.click("text=顧客を取り込む")
    assert page.input_value("#id_client") == str(bread.pk)
    page.select_option("#id_kind", "customers")
    page.set_input_files(
        "#id_file", {"name": "kaiin.csv", "mimeType": "text/csv", "buffer": _csv(CUSTOMERS)}
    )
    submit(page, "#upload-form button[type=submit]")
    assert "髙橋 一郎" in page.inner_text("#mapping-preview")
    page.select_option("#id_col_0", "customer_number")
    page.select_option("#id_col_1", "full_name")
    page.select_option("#id_col_2", "full_name_kana")
    page.select_option("#id_col_3", "phone")
    shots.take(page, walk, 9, "column-mapping")
    submit(page, "#mapping-form button[type=submit]")
    batch = ImportBatch.objects.get(client=bread)
    assert batch.status == ImportStatus.DONE and batch.created == 2
    assert batch.warning_count == 1  # 山﨑花子 has no space: kept whole as the family name
    page.reload()
    assert "山﨑花子" in page.inner_text("#import-warnings")
    shots.take(page, walk, 10, "import-done")
    customer = Customer.objects.get(client=bread, customer_number="B-0001")
    assert (customer.family_name, customer.given_name) == ("髙橋", "一郎")

    # The PBX reports a call to the new line from the customer's phone, for the operator.
    _token, raw = api_token_create(
        name="PBX", scopes=["contacts:write"], center_clients=[bread], created_by=None
    )
    event = {
        "event": "started",
        "call_id": "bread-first-call",
        "dialled_number": "0120-555-666",
        "caller_number": "090-1111-2222",
        "at": timezone.now().isoformat(),
        "agent_id": "4501",
    }
    request = urllib.request.Request(
        page.url.split("/admin/")[0] + "/api/v1/contacts/events",
        data=json.dumps(event).encode(),
        headers={"Authorization": f"Bearer {raw}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        contact = json.loads(answer.read())
    assert contact["client"] == "bread" and contact["customer_id"] == customer.pk

    # The operator, given a password in person, sees the call pop the imported customer.
    operator.set_password(PASSWORD)
    operator.save(update_fields=["password"])
    log_out(page)
    log_in(page, operator.username)
    page.goto(reverse("desk"))
    page.click("#incoming-pop")
    page.wait_for_url(re.compile(r"/desk/customers/\d+/"))
    main = page.inner_text("main")
    assert "髙橋" in main and "一郎" in main
    shots.take(page, walk, 11, "screen-pop")
