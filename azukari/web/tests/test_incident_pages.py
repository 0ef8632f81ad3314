"""The incident register and the harassment criteria in pages: managers keep them for the
clients they serve; operators are refused with a reason, client approvers find nothing, and a
manager of another client finds another client's incident missing."""

# The fixture tea_manager is imported, so its name is a parameter too.
# ruff: noqa: F811

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from azukari.audit.models import Incident, IncidentKind, IncidentStatus, IncidentStep
from azukari.audit.services import incident_record
from azukari.audit.tests.managers import coffee_manager, tea_manager  # noqa: F401 (fixture)
from azukari.floor.models import HarassmentCriterion
from azukari.floor.tests.factories import criterion, login_verified
from azukari.org.models import Role
from azukari.testing.factories import UserFactory

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def manager(cast):
    return coffee_manager(cast, language="en")


@pytest.fixture
def leak(cast, manager) -> Incident:
    return incident_record(
        by=manager,
        client=cast.coffee,
        title="Order list mailed to the wrong customer",
        kind=IncidentKind.LEAK,
        discovered_at=timezone.now() - dt.timedelta(days=6),
    )


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_manager_sees_the_register_with_overdue_deadlines_in_red(client, cast, manager, leak):
    login_verified(client, manager)
    page = client.get(reverse("incidents")).content.decode()
    assert "Order list mailed to the wrong customer" in page
    assert 'class="flag"' in page and "overdue" in page  # 6 days: the preliminary is late
    assert reverse("incidents") in client.get(reverse("home"), follow=True).content.decode()


def test_operators_are_refused_and_approvers_find_nothing(client, cast, leak):
    cast.operator.language = "en"
    cast.operator.save(update_fields=["language"])
    client.force_login(cast.operator)
    refused = client.get(reverse("incidents"))
    assert refused.status_code == 403 and b"incident register" in refused.content
    assert client.get(reverse("criteria")).status_code == 403
    assert client.get(reverse("incident", args=[leak.pk])).status_code == 404
    for person in (cast.sv, cast.desk):
        client.force_login(person)
        assert client.get(reverse("incidents")).status_code == 403
    login_verified(client, cast.approver)
    for url in (
        reverse("incidents"),
        reverse("incident-new"),
        reverse("incident", args=[leak.pk]),
        reverse("criteria"),
        reverse("criteria-edit", args=["coffee"]),
    ):
        assert client.get(url).status_code == 404, url


def test_another_clients_manager_finds_the_incident_missing(client, cast, tea_manager, leak):
    login_verified(client, tea_manager)
    assert leak.title not in client.get(reverse("incidents")).content.decode()
    url = reverse("incident", args=[leak.pk])
    assert client.get(url).status_code == 404
    posted = {"step": "notify", "step-whom": "x", "step-how": "phone"}
    assert client.post(url, posted).status_code == 404
    assert client.get(reverse("criteria-edit", args=["coffee"])).status_code == 404


def test_each_step_is_a_form_with_a_confirmation_and_a_clear_refusal(client, cast, manager, leak):
    login_verified(client, manager)
    url = reverse("incident", args=[leak.pk])
    future = timezone.now() + dt.timedelta(days=1)
    refused = client.post(
        url,
        {
            "step": "notify",
            "step-notified_at": _local(future),
            "step-whom": "Sato",
            "step-how": "phone",
        },
    )
    assert refused.status_code == 400
    assert "This date is in the future." in refused.content.decode()
    leak.refresh_from_db()
    assert leak.status == IncidentStatus.OPEN
    done = client.post(
        url,
        {
            "step": "notify",
            "step-notified_at": _local(timezone.now() - dt.timedelta(days=5)),
            "step-whom": "Sato, compliance",
            "step-how": "phone",
        },
        follow=True,
    )
    assert "notification is recorded" in done.content.decode()
    assert "Sato, compliance" in done.content.decode()
    # A stale form (someone else recorded the step meanwhile) changes nothing and says so.
    stale = client.post(url, {"step": "notify"}, follow=True)
    assert "no longer the next one" in stale.content.decode()
    assert leak.entries.filter(step=IncidentStep.CLIENT_NOTIFIED).count() == 1


def test_a_correction_from_the_page_keeps_the_value_before(client, cast, manager, leak):
    login_verified(client, manager)
    url = reverse("incident", args=[leak.pk])
    discovered = leak.discovered_at
    data = {
        "step": "correct",
        "fix-title": leak.title,
        "fix-kind": leak.kind,
        "fix-discovered_at": _local(leak.discovered_at),
        "fix-affected_count": "340",
        "fix-description": "",
        "fix-reason": "Second batch found",
    }
    page = client.post(url, data, follow=True).content.decode()
    assert "The correction is recorded." in page
    assert "People affected: 0 → 340" in page
    leak.refresh_from_db()
    # The form shows times to the minute; an untouched time is not a change.
    assert leak.affected_count == 340 and leak.discovered_at == discovered
    nothing = client.post(url, {**data, "fix-reason": "again"})
    assert nothing.status_code == 400 and "Nothing was changed." in nothing.content.decode()


def test_a_manager_records_a_new_incident_for_a_client_they_serve_only(client, cast, manager):
    login_verified(client, manager)
    data = {
        "client": cast.tea.pk,
        "title": "USB stick lost",
        "kind": "loss",
        "discovered_at": _local(timezone.now()),
        "affected_count": "3",
    }
    assert client.post(reverse("incident-new"), data).status_code == 400
    data["client"] = cast.coffee.pk
    response = client.post(reverse("incident-new"), data, follow=True)
    assert "deadlines are running" in response.content.decode()
    assert Incident.objects.get(title="USB stick lost").recorded_by == manager


def test_a_manager_edits_the_criteria_of_a_client(client, cast, manager):
    abuse = criterion(cast.coffee)
    login_verified(client, manager)
    url = reverse("criteria-edit", args=["coffee"])
    assert "Abusive language" in client.get(url).content.decode()
    added = client.post(
        url,
        {"criterion": "new", "new-code": "threat", "new-label": "Threats of violence"},
        follow=True,
    )
    assert "The criterion is added." in added.content.decode()
    duplicate = client.post(
        url, {"criterion": "new", "new-code": "threat", "new-label": "Threats again"}
    )
    assert duplicate.status_code == 400 and "already has a criterion" in duplicate.content.decode()
    client.post(
        url,
        {"criterion": abuse.pk, f"c{abuse.pk}-label": "Abusive language, after a warning"},
    )
    abuse.refresh_from_db()
    assert abuse.label == "Abusive language, after a warning" and not abuse.is_active
    assert HarassmentCriterion.objects.filter(client=cast.coffee).count() == 2
    # Each wording is kept, with who changed it; saving the same wording again is refused.
    threat = HarassmentCriterion.objects.get(client=cast.coffee, code="threat")
    assert [(v.label, v.is_active, v.by) for v in abuse.versions.all()] == [
        ("Abusive language, after a warning", False, manager)
    ]
    assert threat.versions.get().label == "Threats of violence"
    same = client.post(
        url,
        {"criterion": abuse.pk, f"c{abuse.pk}-label": "Abusive language, after a warning"},
    )
    assert same.status_code == 400 and "Nothing was changed." in same.content.decode()
    assert "Wordings" in same.content.decode()
    overview = client.get(reverse("criteria")).content.decode()
    assert reverse("criteria-edit", args=["coffee"]) in overview


def test_the_admin_adds_criteria_through_the_same_service_and_never_deletes(client, cast):
    from django.contrib.auth.models import Permission

    admin = UserFactory(
        username="adm_coffee",
        role=Role.ADMIN,
        home_site=cast.sapporo,
        clients=[cast.coffee],
        is_staff=True,
    )
    admin.user_permissions.set(Permission.objects.filter(codename__endswith="criterion"))
    login_verified(client, admin)
    added = client.post(
        reverse("admin:floor_harassmentcriterion_add"),
        {"client": cast.coffee.pk, "code": "Threat", "label": "Threats", "is_active": "on"},
    )
    assert added.status_code == 302
    threat = HarassmentCriterion.objects.get(client=cast.coffee)
    assert threat.code == "threat"  # the service's rule: codes are kept in lower case
    delete = reverse("admin:floor_harassmentcriterion_delete", args=[threat.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert HarassmentCriterion.objects.filter(pk=threat.pk).exists()
    # A supervisor with every Django permission still may not edit them.
    cast.sv.is_staff = True
    cast.sv.save(update_fields=["is_staff"])
    cast.sv.user_permissions.set(Permission.objects.filter(codename__endswith="criterion"))
    login_verified(client, cast.sv)
    add = reverse("admin:floor_harassmentcriterion_add")
    assert client.get(add).status_code == 403


def test_the_register_costs_the_same_queries_for_more_incidents(client, cast, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def record(n: int) -> None:
        for i in range(n):
            incident_record(
                by=manager,
                client=cast.coffee,
                title=f"Incident {i}",
                kind=IncidentKind.LOSS,
                discovered_at=timezone.now() - dt.timedelta(days=i),
            )

    login_verified(client, manager)
    record(2)
    client.get(reverse("incidents"))  # the session and the permission caches warm up
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("incidents"))
    record(6)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("incidents")).content.decode().count("Incident ") >= 8
    assert len(many) == len(few)
