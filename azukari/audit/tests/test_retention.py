"""Retention scrubs an erased customer out of free text, names who ran it, and runs per client
on the worker's schedule; what a pattern misses is listed for a person."""

import ast
import datetime as dt

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_q.models import Schedule

from azukari.audit.models import (
    AccessAction,
    AccessEvent,
    RetentionFrequency,
    RetentionRun,
    RetentionSource,
)
from azukari.audit.retention import (
    retention_apply,
    retention_policy_set,
    retention_review,
    schedule_name,
)
from azukari.audit.services import audit_seal_all
from azukari.audit.verify import audit_verify
from azukari.cases import services as cases
from azukari.cases.models import CaseEvent, CaseKind, Contact, Inquiry
from azukari.core.errors import NotVisible, PermissionRefused
from azukari.customers.models import Customer
from azukari.org.models import Role
from azukari.testing.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.usefixtures("english")

PHONE_WRITINGS = [
    "090-1234-5678",
    "09012345678",
    "090 1234 5678",
    "(090)1234-5678",
    "+81 90-1234-5678",
    "+81-(0)90-1234-5678",
    "０９０－１２３４－５６７８",
    "090ー1234ー5678",
]


@pytest.fixture
def manager(cast):
    return UserFactory(
        username="mgr", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )


@pytest.fixture
def old_customer(cast):
    """A customer last heard of three years ago, whose name and numbers are all over the notes."""
    now = timezone.now()
    with time_machine.travel(now - dt.timedelta(days=1100), tick=False):
        customer = CustomerFactory(
            client=cast.coffee,
            family_name="山田",
            given_name="花子",
            family_name_kana="ヤマダ",
            given_name_kana="ハナコ",
            phones=["+819012345678"],
            email="hanako.yamada@example.jp",
            postcode="060-0001",
            address="札幌市中央区北1条西2丁目3-4",
            birth_date=dt.date(1980, 4, 5),
        )
        contact = cases.contact_log(
            actor=cast.operator,
            client=cast.coffee,
            customer=customer,
            caller_number="+819012345678",
            summary=(
                f"顧客番号 {customer.customer_number}、"
                "山田花子様（ﾔﾏﾀﾞ ﾊﾅｺ）より。折り返しは "
                + " / ".join(PHONE_WRITINGS)
                + "、メール HANAKO.YAMADA@example.jp、住所 札幌市中央区北１条西２丁目３－４"
            ),
        )
        case = cases.case_open(
            contact=contact, actor=cast.operator, kind=CaseKind.BILLING, subject="山田様の解約相談"
        )
        cases.case_note(
            case=case, actor=cast.operator, note="山田 花子さんは夕方なら 09012345678 に"
        )
        case = cases.inquiry_send(
            case=case,
            version=case.version,
            actor=cast.operator,
            question="やまだ はなこ様から、返金の可否をご判断ください。",
            options=[{"code": "yes", "label": "はい"}, {"code": "no", "label": "いいえ"}],
        ).case
        case.refresh_from_db()
        case = cases.case_resolve(
            case=case, version=case.version, actor=cast.operator, outcome="花子様に返金を案内"
        )
    with time_machine.travel(now - dt.timedelta(days=1000), tick=False):
        cases.case_close(case=case, version=case.version, actor=cast.operator)
    return customer


def _texts(customer) -> str:
    contact = Contact.objects.get(customer=customer)
    case = contact.case
    events = CaseEvent.objects.filter(case=case).values_list("note", flat=True)
    inquiry = Inquiry.objects.get(case=case)
    return "\n".join([contact.summary, case.subject, case.outcome, *events, inquiry.question])


def test_retention_scrubs_names_phones_email_and_address_from_every_text(
    cast, manager, old_customer
):
    before = _texts(old_customer)
    assert "山田" in before and "ﾊﾅｺ" in before and "5678" in before
    retention_policy_set(
        by=manager, client=cast.coffee, customer_inactive_days=730, audit_days=None
    )
    result = retention_apply(client=cast.coffee, dry_run=False, by=manager)
    assert result.customers == 1 and result.texts >= 5
    after = _texts(old_customer)
    for gone in [
        "山田",
        "花子",
        "ﾔﾏﾀﾞ",
        "ﾊﾅｺ",
        "やまだ",
        "はなこ",
        "HANAKO",
        "札幌市",
        "5678",
        "５６７８",
    ]:
        assert gone not in after, gone
    assert "(erased)様の解約相談" in after
    assert old_customer.customer_number not in after
    erased = Customer.objects.get(pk=old_customer.pk)
    assert (erased.family_name, erased.birth_date) == ("(erased)", None)
    # The run and the erasure in the audit both name who ran it; the chain still verifies.
    run = RetentionRun.objects.get(pk=result.run_id)
    assert (run.ran_by, run.source, run.texts_scrubbed) == (manager, "command", result.texts)
    erasure = AccessEvent.objects.get(action=AccessAction.ERASE, customer_ref=old_customer.pk)
    assert erasure.actor == manager
    audit_seal_all()
    assert audit_verify(client=cast.coffee).ok


def test_the_command_line_run_names_its_user_and_refuses_an_unknown_one(
    cast, manager, old_customer, capsys
):
    retention_policy_set(
        by=manager, client=cast.coffee, customer_inactive_days=730, audit_days=None
    )
    with pytest.raises(CommandError, match="--as USERNAME"):
        call_command("retention", "apply", "--client", "coffee")
    with pytest.raises(CommandError, match="No active user named “nobody”"):
        call_command("retention", "apply", "--client", "coffee", "--as", "nobody")
    with pytest.raises(CommandError, match="Only a center manager or administrator"):
        call_command("retention", "apply", "--client", "coffee", "--as", "op_sapporo")
    assert not RetentionRun.objects.exists()
    call_command("retention", "apply", "--client", "coffee", "--as", "mgr")
    assert "anonymised 1 customers" in capsys.readouterr().out
    assert RetentionRun.objects.get().ran_by == manager
    assert "山田" not in _texts(old_customer)


def test_what_a_pattern_cannot_find_is_listed_until_a_person_redacts_it(
    cast, manager, old_customer, capsys
):
    retention_policy_set(
        by=manager, client=cast.coffee, customer_inactive_days=730, audit_days=None
    )
    case = Contact.objects.get(customer=old_customer).case
    CaseEvent.objects.filter(case=case, kind="note").update(
        note="奥様の佐藤様 mail: sato＠example.jp 口座 1234567890"
    )
    retention_apply(client=cast.coffee, dry_run=False, by=manager)
    items = retention_review(viewer=manager, client=cast.coffee)
    [item] = [i for i in items if i.object_type == "cases.CaseEvent"]
    assert set(item.flags) == {"digits", "name"}  # the e-mail was scrubbed, the rest was not
    with pytest.raises(PermissionRefused):
        retention_review(viewer=cast.operator, client=cast.coffee)
    call_command("retention", "review", "--client", "coffee", "--as", "mgr")
    assert item.key in capsys.readouterr().out
    call_command(
        "retention", "redact", item.key, "--client", "coffee", "--as", "mgr", "--text", "(家族)"
    )
    assert CaseEvent.objects.get(pk=item.object_id).note == "(家族)"
    assert item.key not in {i.key for i in retention_review(viewer=manager, client=cast.coffee)}
    redaction = AccessEvent.objects.get(object_type="cases.CaseEvent", object_ref=item.object_id)
    assert redaction.actor == manager
    with pytest.raises(CommandError, match="not a text on the review list"):
        call_command(
            "retention", "clean", "cases.Case:999999:subject", "--client", "coffee", "--as", "mgr"
        )
    audit_seal_all()
    assert audit_verify(client=cast.coffee).ok


def test_each_client_policy_schedules_its_own_run(cast, manager):
    retention_policy_set(
        by=manager,
        client=cast.coffee,
        customer_inactive_days=730,
        audit_days=365,
        run_every=RetentionFrequency.WEEKLY,
        run_at=dt.time(2, 30),
    )
    with pytest.raises(NotVisible):  # a manager acts for the clients they serve only
        retention_policy_set(
            by=manager, client=cast.tea, customer_inactive_days=365, audit_days=None
        )
    tea_manager = UserFactory(
        username="mgr_tea", role=Role.MANAGER, home_site=cast.osaka, clients=[cast.tea]
    )
    retention_policy_set(
        by=tea_manager,
        client=cast.tea,
        customer_inactive_days=365,
        audit_days=None,
        run_every=RetentionFrequency.DAILY,
    )
    coffee = Schedule.objects.get(name=schedule_name(cast.coffee))
    tea = Schedule.objects.get(name=schedule_name(cast.tea))
    assert (coffee.schedule_type, tea.schedule_type) == ("W", "D")
    assert timezone.localtime(coffee.next_run).time() == dt.time(2, 30)
    # The worker runs the scheduled function with the client's id: it applies, as the schedule.
    run_id = import_string(coffee.func)(ast.literal_eval(coffee.args))
    assert RetentionRun.objects.get(pk=run_id).source == RetentionSource.SCHEDULE
    retention_policy_set(
        by=tea_manager, client=cast.tea, customer_inactive_days=365, audit_days=None
    )
    assert not Schedule.objects.filter(name=schedule_name(cast.tea)).exists()


def test_a_policy_saved_in_the_admin_schedules_its_client(cast, client):
    admin_user = UserFactory(
        username="root", role=Role.ADMIN, home_site=cast.sapporo, is_staff=True, is_superuser=True
    )
    client.force_login(admin_user)
    device = TOTPDevice.objects.create(user=admin_user, name="app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    response = client.post(
        "/admin/audit/retentionpolicy/add/",
        {
            "client": cast.tea.pk,
            "customer_inactive_days": "365",
            "audit_days": "",
            "run_every": "monthly",
            "run_at": "04:15",
        },
    )
    assert response.status_code == 302 and "/change/" not in response["Location"]
    schedule = Schedule.objects.get(name=schedule_name(cast.tea))
    assert schedule.schedule_type == "M"
    assert timezone.localtime(schedule.next_run).time() == dt.time(4, 15)


def _verified(client, user):
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def test_a_manager_reviews_and_redacts_on_the_page(cast, manager, old_customer, client):
    retention_policy_set(
        by=manager, client=cast.coffee, customer_inactive_days=730, audit_days=None
    )
    case = Contact.objects.get(customer=old_customer).case
    CaseEvent.objects.filter(case=case, kind="note").update(note="ご主人の佐藤様へも連絡済み")
    retention_apply(client=cast.coffee, dry_run=False, by=manager)
    manager.language = "en"
    manager.save(update_fields=["language"])
    browser = _verified(client, manager)
    url = reverse("retention-review", args=["coffee"])
    page = browser.get(url).content.decode()
    assert "ご主人の佐藤様へも連絡済み" in page and "Case event" in page and "a name" in page
    [item] = retention_review(viewer=manager, client=cast.coffee)
    answer = browser.post(
        url, {"item": item.key, "action": "redact", "item0-text": "ご主人へも連絡済み"}, follow=True
    )
    assert "The redacted text is saved." in answer.content.decode()
    assert CaseEvent.objects.get(pk=item.object_id).note == "ご主人へも連絡済み"
    assert "Nothing to review" in browser.get(url).content.decode()
    # Another client's review and the operator are turned away.
    assert browser.get(reverse("retention-review", args=["tea"])).status_code == 404
    client.force_login(cast.operator)
    assert client.get(url).status_code == 404
    assert client.get(reverse("retention")).status_code == 403


def test_the_admin_applies_a_policy_now_as_the_signed_in_person(cast, old_customer, client):
    admin_user = UserFactory(
        username="root", role=Role.ADMIN, home_site=cast.sapporo, is_staff=True, is_superuser=True
    )
    admin_user.language = "en"
    admin_user.save(update_fields=["language"])
    policy = retention_policy_set(
        by=admin_user, client=cast.coffee, customer_inactive_days=730, audit_days=None
    )
    _verified(client, admin_user)
    response = client.post(
        "/admin/audit/retentionpolicy/",
        {"action": "apply_now", "_selected_action": [policy.pk]},
        follow=True,
    )
    assert "anonymised 1 customers" in response.content.decode()
    run = RetentionRun.objects.get()
    assert (run.ran_by, run.source) == (admin_user, RetentionSource.ADMIN)
    assert "山田" not in _texts(old_customer)
