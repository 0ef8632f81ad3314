"""Builders for the board, floor, notice and portal tests: real rows through real services."""

import datetime as dt
import itertools

import time_machine
from django.utils import timezone

from azukari.cases import services as cases
from azukari.cases.models import AzukariReason, Case, CaseKind, Contact, Inquiry
from azukari.core.businesstime import TOKYO
from azukari.floor.models import HarassmentCriterion
from azukari.org.models import Client, Team, User
from azukari.testing.factories import CustomerFactory

_phones = itertools.count(10_000_000)


def at(day: str, time: str = "10:00") -> dt.datetime:
    """A Tokyo time, e.g. at("2026-11-25")."""
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=TOKYO)


def contact(*, client: Client, handler: User, started_at: dt.datetime | None = None) -> Contact:
    customer = CustomerFactory(client=client, phones=[f"+8190{next(_phones):08d}"])
    return cases.contact_log(
        actor=handler,
        client=client,
        customer=customer,
        started_at=started_at,
        summary="Calls about the subscription",
    )


def parked_case(
    *,
    client: Client,
    operator: User,
    team: Team,
    when: dt.datetime | None = None,
    reason: str = AzukariReason.INVESTIGATION,
    subject: str = "Wants to cancel",
) -> Case:
    """A case opened and parked as azukari at `when` (now if not given)."""
    with time_machine.travel(when or timezone.now(), tick=False):
        c = contact(client=client, handler=operator)
        case = cases.case_open(
            contact=c, actor=operator, kind=CaseKind.CANCELLATION, subject=subject
        )
        return cases.case_park(
            case=case, version=case.version, actor=operator, reason=reason, team=team
        )


def asked_case(
    *,
    client: Client,
    operator: User,
    team: Team,
    when: dt.datetime | None = None,
    due_at: dt.datetime | None = None,
) -> Inquiry:
    """A case sent to the client as an inquiry (伺い) at `when`."""
    with time_machine.travel(when or timezone.now(), tick=False):
        c = contact(client=client, handler=operator)
        case = cases.case_open(
            contact=c, actor=operator, kind=CaseKind.CANCELLATION, subject="Exception asked"
        )
        return cases.inquiry_send(
            case=case,
            version=case.version,
            actor=operator,
            question="May the customer cancel without the device fee?",
            options=[
                {"code": "waive", "label": "Waive the fee"},
                {"code": "charge", "label": "Charge the fee"},
            ],
            due_at=due_at,
            team=team,
        )


def criterion(client: Client, code: str = "abuse") -> HarassmentCriterion:
    return HarassmentCriterion.objects.create(
        client=client, code=code, label="Abusive language after one warning"
    )


def login_verified(browser, user: User) -> None:
    """Logs in and passes the second factor (TOTP), as a client approver must."""
    from django.urls import reverse
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    browser.force_login(user)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    response = browser.post(reverse("two-factor"), {"token": code})
    assert response.status_code == 302, "the second factor was not accepted"
