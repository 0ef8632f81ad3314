"""The APPI incident register as a manager keeps it: each step in order, with its date, the
legal clocks, corrections that add to the history, every change in the client's audit chain,
and reminders that only count as sent when someone received them."""

# The fixture tea_manager is imported, so its name is a parameter too.
# ruff: noqa: F811

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.test import RequestFactory, TestCase

from azukari.audit.models import (
    AccessAction,
    AccessEvent,
    Incident,
    IncidentEntry,
    IncidentKind,
    IncidentStatus,
    IncidentStep,
    NotifyMethod,
    ReminderError,
)
from azukari.audit.reminders import incident_reminders_send
from azukari.audit.services import (
    audit_seal_all,
    incident_close,
    incident_correct,
    incident_notify_client,
    incident_record,
    incident_report_final,
    incident_report_preliminary,
)
from azukari.audit.tests.managers import coffee_manager, tea_manager  # noqa: F401 (fixture)
from azukari.audit.verify import audit_verify
from azukari.core.errors import DomainError, IllegalTransition, NotVisible, PermissionRefused
from azukari.org.models import Role
from azukari.testing.factories import UserFactory

pytestmark = pytest.mark.usefixtures("english")

NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def manager(cast):
    return coffee_manager(cast, email="mgr@center.example")


def _leak(manager, cast, *, days_ago: float = 1, intentional: bool = False) -> Incident:
    return incident_record(
        by=manager,
        client=cast.coffee,
        title="Order list mailed to the wrong customer",
        kind=IncidentKind.LEAK,
        discovered_at=NOW - dt.timedelta(days=days_ago),
        affected_count=120,
        intentional=intentional,
    )


def _to_final(manager, incident: Incident) -> Incident:
    incident_notify_client(
        by=manager,
        incident=incident,
        notified_at=NOW - dt.timedelta(hours=20),
        whom="Sato, coffee compliance",
        how=NotifyMethod.PHONE,
    )
    incident_report_preliminary(
        by=manager, incident=incident, reported_at=NOW - dt.timedelta(hours=2), reference="P-1"
    )
    return incident_report_final(
        by=manager, incident=incident, reported_at=NOW - dt.timedelta(hours=1), reference="F-1"
    )


def test_an_incident_shows_its_legal_clocks(cast, manager):
    leak = _leak(manager, cast)
    assert leak.preliminary_due == NOW + 4 * DAY
    assert leak.final_due == NOW + 29 * DAY
    theft = _leak(manager, cast, days_ago=0, intentional=True)
    assert theft.final_due == NOW + 60 * DAY
    late = _leak(manager, cast, days_ago=6)
    assert late.preliminary_overdue() and not late.final_overdue()


def test_a_manager_walks_an_incident_from_discovery_to_closed(cast, manager):
    incident = _to_final(manager, _leak(manager, cast))
    incident = incident_close(by=manager, incident=incident, note="Regulator confirmed receipt")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED
    assert (incident.client_notified_whom, incident.client_notified_how) == (
        "Sato, coffee compliance",
        NotifyMethod.PHONE,
    )
    assert (incident.preliminary_reference, incident.final_reference) == ("P-1", "F-1")
    assert [e.step for e in incident.entries.all()] == [
        IncidentStep.RECORDED,
        IncidentStep.CLIENT_NOTIFIED,
        IncidentStep.PRELIMINARY,
        IncidentStep.FINAL,
        IncidentStep.CLOSED,
    ]
    # Every entry is an event of the client's audit chain, which still verifies.
    events = AccessEvent.objects.filter(client=cast.coffee, action=AccessAction.INCIDENT)
    assert sorted(events.values_list("purpose", flat=True)) == sorted(
        ["recorded", "notified", "preliminary", "final", "closed"]
    )
    assert set(events.values_list("actor_id", flat=True)) == {manager.pk}
    audit_seal_all()
    assert audit_verify(client=cast.coffee).ok


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("preliminary", "client company was notified"),
        ("final", "after the preliminary report"),
        ("close", "only after the final report"),
    ],
)
def test_steps_out_of_order_are_refused_and_change_nothing(cast, manager, step, message):
    incident = _leak(manager, cast)
    calls = {
        "preliminary": lambda: incident_report_preliminary(
            by=manager, incident=incident, reported_at=NOW, reference="P-1"
        ),
        "final": lambda: incident_report_final(
            by=manager, incident=incident, reported_at=NOW, reference="F-1"
        ),
        "close": lambda: incident_close(by=manager, incident=incident),
    }
    with pytest.raises(IllegalTransition, match=message):
        calls[step]()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN
    assert incident.entries.count() == 1


def test_the_final_report_cannot_come_before_the_preliminary_one(cast, manager):
    incident = _leak(manager, cast)
    incident_notify_client(
        by=manager, incident=incident, notified_at=NOW, whom="Sato", how=NotifyMethod.EMAIL
    )
    with pytest.raises(IllegalTransition, match="after the preliminary report"):
        incident_report_final(by=manager, incident=incident, reported_at=NOW, reference="F-1")


def test_dates_in_the_future_or_before_the_step_they_follow_are_refused(cast, manager):
    with pytest.raises(DomainError, match="in the future") as exc:
        incident_record(
            by=manager,
            client=cast.coffee,
            title="x",
            kind=IncidentKind.LEAK,
            discovered_at=NOW + DAY,
        )
    assert exc.value.field == "discovered_at"
    incident = _leak(manager, cast)
    with pytest.raises(DomainError, match="before the step it follows") as exc:
        incident_notify_client(
            by=manager,
            incident=incident,
            notified_at=NOW - 2 * DAY,
            whom="Sato",
            how=NotifyMethod.PHONE,
        )
    assert exc.value.field == "notified_at"
    with pytest.raises(DomainError, match="in the future"):
        incident_notify_client(
            by=manager, incident=incident, notified_at=NOW + DAY, whom="Sato", how="phone"
        )
    with pytest.raises(DomainError) as exc:
        incident_notify_client(
            by=manager, incident=incident, notified_at=NOW, whom=" ", how=NotifyMethod.PHONE
        )
    assert exc.value.field == "whom"
    with pytest.raises(DomainError) as exc:
        incident_notify_client(
            by=manager, incident=incident, notified_at=NOW, whom="Sato", how="pigeon"
        )
    assert exc.value.field == "how"
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN and incident.client_notified_at is None


def test_a_step_is_recorded_once(cast, manager):
    incident = _to_final(manager, _leak(manager, cast))
    with pytest.raises(IllegalTransition, match="already recorded"):
        incident_report_final(by=manager, incident=incident, reported_at=NOW, reference="F-2")
    with pytest.raises(IllegalTransition, match="already notified"):
        incident_notify_client(
            by=manager, incident=incident, notified_at=NOW, whom="x", how=NotifyMethod.PHONE
        )
    incident_close(by=manager, incident=incident)
    with pytest.raises(IllegalTransition, match="already closed"):
        incident_close(by=manager, incident=incident)


def test_a_correction_is_a_new_entry_that_keeps_the_value_before(cast, manager):
    incident = _leak(manager, cast)
    incident_correct(
        by=manager,
        incident=incident,
        changes={"affected_count": 340, "title": "Order list mailed to the wrong customer"},
        reason="The second batch was found",
    )
    incident.refresh_from_db()
    assert incident.affected_count == 340
    correction = incident.entries.get(step=IncidentStep.CORRECTED)
    assert correction.details == {
        "before": {"affected_count": 120},
        "after": {"affected_count": 340},
    }
    assert correction.note == "The second batch was found"
    # Moving the discovery moves the clocks, but never after a step that followed it.
    incident_correct(
        by=manager, incident=incident, changes={"discovered_at": NOW - 2 * DAY}, reason="Log"
    )
    incident.refresh_from_db()
    assert incident.preliminary_due == NOW + 3 * DAY
    with pytest.raises(DomainError, match="not recorded yet"):
        incident_correct(
            by=manager, incident=incident, changes={"final_reference": "F"}, reason="typo"
        )
    with pytest.raises(DomainError, match="Nothing was changed"):
        incident_correct(by=manager, incident=incident, changes={"affected_count": 340}, reason="x")
    with pytest.raises(DomainError) as exc:
        incident_correct(by=manager, incident=incident, changes={"title": "y"}, reason=" ")
    assert exc.value.field == "reason"
    incident_notify_client(
        by=manager, incident=incident, notified_at=NOW - DAY, whom="Sato", how="phone"
    )
    with pytest.raises(DomainError, match="after a step that follows it"):
        incident_correct(
            by=manager, incident=incident, changes={"discovered_at": NOW - 0.5 * DAY}, reason="x"
        )
    assert incident.entries.filter(step=IncidentStep.CORRECTED).count() == 2


def test_the_register_has_no_way_to_delete(cast, manager):
    from django.contrib import admin

    incident = _leak(manager, cast)
    model_admin = admin.site._registry[Incident]
    manager.is_superuser = True
    request = RequestFactory().get("/admin/audit/incident/")
    request.user = manager
    assert not model_admin.has_delete_permission(request, incident)
    assert not model_admin.has_change_permission(request, incident)
    assert not model_admin.has_add_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)
    with pytest.raises(Exception, match="protected"):
        incident.delete()  # its history protects it


def test_only_people_who_keep_the_register_for_the_client_may_write(cast, manager, tea_manager):
    for person in (cast.operator, cast.sv, cast.desk, cast.approver):
        with pytest.raises(PermissionRefused):
            _leak(person, cast)
    incident = _leak(manager, cast)
    for person in (cast.operator, cast.approver):
        with pytest.raises(PermissionRefused):
            incident_close(by=person, incident=incident)
    # A manager of another client does not learn the incident exists.
    with pytest.raises(NotVisible):
        incident_notify_client(
            by=tea_manager, incident=incident, notified_at=NOW, whom="x", how="phone"
        )
    with pytest.raises(DomainError) as exc:
        incident_record(
            by=tea_manager,
            client=cast.coffee,
            title="x",
            kind=IncidentKind.LEAK,
            discovered_at=NOW,
        )
    assert exc.value.field == "client"
    assert set(Incident.objects.visible_to(tea_manager)) == set()
    assert set(Incident.objects.visible_to(manager)) == {incident}


# ---------------------------------------------------------------- reminders


def _due_tomorrow(manager, cast) -> Incident:
    return _leak(manager, cast, days_ago=4.5)


def test_reminders_go_once_a_day_to_those_with_an_address_until_the_report_is_made(
    cast, manager, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    UserFactory(username="adm", role=Role.ADMIN, home_site=cast.sapporo, clients=[cast.coffee])
    incident = _due_tomorrow(manager, cast)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert incident_reminders_send() == 1
    assert incident_reminders_send() == 0  # a second run the same day sends nothing
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["mgr@center.example"]  # the admin has no address
    assert "Order list mailed to the wrong customer" in mail.outbox[0].subject
    sent = incident.entries.get(step=IncidentStep.REMINDER_SENT)
    assert sent.details["recipients"] == 1 and sent.details["stage"] == "preliminary"
    _to_final(manager, incident)
    with time_machine.travel(NOW + DAY, tick=False):
        assert incident_reminders_send() == 0
    assert len(mail.outbox) == 1


def test_a_reminder_with_no_one_to_send_to_is_an_error_on_the_register(cast, manager, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    incident = _due_tomorrow(manager, cast)
    manager.email = ""
    manager.save(update_fields=["email"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert incident_reminders_send() == 0
    assert mail.outbox == []
    incident.refresh_from_db()
    assert incident.reminder_error == ReminderError.NO_RECIPIENT
    failed = incident.entries.get(step=IncidentStep.REMINDER_FAILED)
    assert failed.details["recipients"] == 0
    assert not incident.entries.filter(step=IncidentStep.REMINDER_SENT).exists()
    # The next day someone has an address: the reminder goes out and the error clears.
    manager.email = "mgr@center.example"
    manager.save(update_fields=["email"])
    with (
        time_machine.travel(NOW + 0.2 * DAY, tick=False),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        assert incident_reminders_send() == 0  # still the same day: already done
    with (
        time_machine.travel(NOW + DAY, tick=False),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        assert incident_reminders_send() == 1
    incident.refresh_from_db()
    assert incident.reminder_error == "" and len(mail.outbox) == 1


def test_a_mail_server_that_refuses_the_reminder_leaves_an_error(cast, manager, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # discard: nothing listens there
    settings.EMAIL_TIMEOUT = 2
    incident = _due_tomorrow(manager, cast)
    with TestCase.captureOnCommitCallbacks(execute=True):
        incident_reminders_send()
    incident.refresh_from_db()
    assert incident.reminder_error == ReminderError.SEND_FAILED
    assert IncidentEntry.objects.filter(
        incident=incident, step=IncidentStep.REMINDER_FAILED
    ).exists()


def test_reminders_go_only_to_the_managers_of_the_incidents_client(cast, manager, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    UserFactory(
        username="mgr_tea2",
        role=Role.MANAGER,
        home_site=cast.osaka,
        clients=[cast.tea],
        email="tea@center.example",
    )
    UserFactory(
        username="sv_mail",
        role=Role.SV,
        home_site=cast.osaka,
        clients=[cast.coffee],
        email="sv@center.example",
    )
    _due_tomorrow(manager, cast)
    with TestCase.captureOnCommitCallbacks(execute=True):
        incident_reminders_send()
    assert [m.to for m in mail.outbox] == [["mgr@center.example"]]
