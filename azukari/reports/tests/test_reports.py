"""Reason codes on contacts, backlog snapshots and the monthly client report."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from azukari.cases.models import Direction
from azukari.cases.services import case_open, case_park, contact_log
from azukari.core.errors import DomainError, NotVisible
from azukari.reports.models import BacklogSnapshot, ContactCoding
from azukari.reports.selectors import monthly_report
from azukari.reports.services import (
    acw_code_create,
    backlog_snapshot_take,
    contact_code,
    reason_code_create,
)
from azukari.testing.factories import CustomerFactory

# Wording is compared in English; Japanese readers are covered where a test overrides it.
pytestmark = pytest.mark.usefixtures("english")

NOON = dt.datetime(2026, 10, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def codes(cast):
    return {
        # Codes are a manager's set-up; here through the trusted command-line path.
        "billing": reason_code_create(actor=None, client=cast.coffee, code="billing", label="請求"),
        "cancel": reason_code_create(actor=None, client=cast.coffee, code="cancel", label="解約"),
        "done": acw_code_create(actor=cast.sv, client=cast.coffee, code="done", label="完了"),
        "tea": reason_code_create(actor=None, client=cast.tea, code="billing", label="請求"),
    }


@pytest.mark.django_db
def test_contact_takes_only_its_own_clients_codes(cast, codes):
    customer = CustomerFactory(client=cast.coffee)
    contact = contact_log(actor=cast.operator, client=cast.coffee, customer=customer)

    with pytest.raises(DomainError) as refused:
        contact_code(actor=cast.operator, contact=contact, reason_code=codes["tea"])
    assert refused.value.field == "reason_code"
    assert not ContactCoding.objects.exists()
    with pytest.raises(NotVisible):
        contact_code(actor=cast.outsider, contact=contact, reason_code=codes["tea"])

    coding = contact_code(
        actor=cast.operator, contact=contact, reason_code=codes["billing"], acw_code=codes["done"]
    )
    again = contact_code(actor=cast.operator, contact=contact, reason_code=codes["cancel"])
    assert again.pk == coding.pk
    assert ContactCoding.objects.get().reason_code == codes["cancel"]


@pytest.mark.django_db
def test_backlog_snapshot_is_idempotent(cast):
    customer = CustomerFactory(client=cast.coffee)
    with time_machine.travel(NOON, tick=False):
        contact = contact_log(actor=cast.operator, client=cast.coffee, customer=customer)
        case = case_open(contact=contact, actor=cast.operator, kind="billing", subject="請求確認")
        case_park(
            case=case,
            version=case.version,
            actor=cast.operator,
            reason="investigation",
            team=cast.sapporo_desk,
        )
    with time_machine.travel(NOON + dt.timedelta(days=2), tick=False):
        assert backlog_snapshot_take() == 1
        assert backlog_snapshot_take() == 1
    snap = BacklogSnapshot.objects.get()
    assert (snap.client, snap.site, snap.open_count, snap.age_1_3) == (
        cast.coffee,
        cast.sapporo,
        1,
        1,
    )


@pytest.mark.django_db
def test_monthly_report_counts_calls_and_reasons_for_the_client_only(cast, codes):
    customer = CustomerFactory(client=cast.coffee)
    with time_machine.travel(NOON, tick=False):
        for minutes in (3, 5):
            contact = contact_log(
                actor=cast.operator,
                client=cast.coffee,
                customer=customer,
                direction=Direction.INBOUND,
                ended_at=timezone.now() + dt.timedelta(minutes=minutes),
            )
            contact_code(actor=cast.operator, contact=contact, reason_code=codes["billing"])
        contact_log(actor=cast.outsider, client=cast.tea, direction=Direction.INBOUND)

    report = monthly_report(
        viewer=cast.sv, client=cast.coffee, start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 1)
    )

    figures = {str(label): value for label, value, _unit in report.figures}
    assert figures["Calls offered"] == 2
    assert figures["Calls answered"] == 2
    assert figures["Answer rate"] == 100.0
    assert figures["Average handle time"] == 240
    assert report.by_reason == [("billing", "請求", 2)]
    outsider_view = monthly_report(
        viewer=cast.outsider,
        client=cast.coffee,
        start=dt.date(2026, 10, 1),
        end=dt.date(2026, 11, 1),
    )
    assert {str(k): v for k, v, _u in outsider_view.figures}["Calls offered"] == 0


@pytest.mark.django_db
def test_monthly_report_case_and_inquiry_figures_by_site(cast):
    from azukari.cases.services import case_resolve, inquiry_answer, inquiry_send

    customer = CustomerFactory(client=cast.coffee)

    def opened(subject):
        contact = contact_log(actor=cast.operator, client=cast.coffee, customer=customer)
        return case_open(contact=contact, actor=cast.operator, kind="billing", subject=subject)

    with time_machine.travel(NOON, tick=False) as clock:
        on_the_call = opened("請求確認")
        case_resolve(
            case=on_the_call, version=on_the_call.version, actor=cast.operator, outcome="説明済み"
        )
        asked = opened("返金の可否")
        inquiry = inquiry_send(
            case=asked,
            version=asked.version,
            actor=cast.operator,
            question="返金してよいか",
            options=[{"code": "refund", "label": "返金"}],
            due_at=NOON + dt.timedelta(hours=4),
            team=cast.sapporo_desk,
        )
        parked = opened("配送調査")
        case_park(
            case=parked,
            version=parked.version,
            actor=cast.operator,
            reason="investigation",
            team=cast.sapporo_desk,
        )
        clock.move_to(NOON + dt.timedelta(hours=2))
        inquiry_answer(inquiry=inquiry, actor=cast.approver, option="refund")

    month = {"start": dt.date(2026, 10, 1), "end": dt.date(2026, 11, 1)}
    report = monthly_report(viewer=cast.sv, client=cast.coffee, **month)
    figures = {str(label): value for label, value, _unit in report.figures}
    assert figures["Cases opened"] == 3
    assert figures["First-contact resolution"] == 33.3
    assert figures["Azukari rate"] == 66.7
    assert figures["Inquiries sent to the client"] == 1
    assert figures["Average inquiry response time"] == 2 * 3600
    assert figures["Inquiries answered on time"] == 100.0
    assert figures["Average azukari age, client's turn"] is not None

    osaka = monthly_report(viewer=cast.sv, client=cast.coffee, site=cast.osaka, **month)
    assert {str(k): v for k, v, _u in osaka.figures}["Cases opened"] == 0


@pytest.mark.django_db
def test_monthly_report_page_csv_and_print(cast, client):
    client.force_login(cast.sv)
    index = client.get("/reports/?month=2026-10")
    assert b"/reports/coffee/monthly/?month=2026-10" in index.content
    assert b"/reports/tea/" not in index.content  # the SV serves coffee only
    assert b"/exports/" not in index.content  # exports are the desk's and managers'
    client.force_login(cast.desk)
    index = client.get("/reports/?month=2026-10")
    assert b"/exports/coffee/?what=customers" in index.content
    client.force_login(cast.sv)
    page = client.get("/reports/coffee/monthly/?month=2026-10")
    assert page.status_code == 200
    csv = client.get("/reports/coffee/monthly/?month=2026-10&format=csv")
    assert b"".join(csv.streaming_content).startswith(b"\xef\xbb\xbf")
    printable = client.get("/reports/coffee/monthly/?month=2026-10&format=print")
    # The Content-Security-Policy forbids inline CSS and handlers: a static sheet and script.
    assert b"/static/reports/print.css" in printable.content
    assert b"data-print" in printable.content
    assert b"<style" not in printable.content and b"onclick" not in printable.content
    workbook = client.get("/reports/coffee/monthly/?month=2026-10&format=xlsx")
    assert b"".join(workbook.streaming_content).startswith(b"PK")  # a zip: the .xlsx
    client.force_login(cast.operator)
    assert client.get("/reports/coffee/monthly/").status_code == 403
    client.force_login(cast.outsider)  # an operator: refused by role, before any lookup
    assert client.get("/reports/coffee/monthly/").status_code == 403
    assert client.post("/reports/coffee/monthly/").status_code == 405


@pytest.mark.django_db
def test_manager_keeps_the_clients_code_lists_in_the_admin(cast, client):
    from django.urls import reverse
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from azukari.org.models import Role
    from azukari.reports.models import AfterCallWorkCode, ReasonCode
    from azukari.testing.factories import UserFactory

    manager = UserFactory(
        username="manager_codes",
        role=Role.MANAGER,
        home_site=cast.sapporo,
        clients=[cast.coffee],
        is_staff=True,
        is_superuser=True,
        language="en",
    )
    device = TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    client.force_login(manager)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    client.post(reverse("two-factor"), {"token": code})
    url = reverse("admin:reports_reasoncode_add")
    form = {"client": cast.coffee.pk, "code": "billing", "label": "請求", "position": 1}
    form["is_active"] = "on"

    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 200  # the same code twice is refused
    tea = client.post(url, {**form, "client": cast.tea.pk, "code": "tea"})
    assert tea.status_code == 200  # a client the manager does not serve is not offered
    assert list(ReasonCode.objects.values_list("client__code", "code")) == [("coffee", "billing")]
    acw = {"client": cast.coffee.pk, "code": "done", "label": "完了", "position": 0}
    assert client.post(reverse("admin:reports_aftercallworkcode_add"), acw).status_code == 302
    assert AfterCallWorkCode.objects.get().code == "done"
    billing = ReasonCode.objects.get()
    delete = reverse("admin:reports_reasoncode_delete", args=[billing.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
