"""A manager keeps the business calendar right: closed days and site hours."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from azukari.core.errors import DomainError, NotVisible, PermissionRefused
from azukari.org.calendars import (
    client_closed_day_add,
    client_closed_day_remove,
    site_hours_clear,
    site_hours_set,
)
from azukari.org.models import ClientClosedDay, Role, SiteHours
from azukari.testing.factories import UserFactory

TODAY = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)


def login_verified(browser, user) -> None:
    """The admin wants the second factor (TOTP) passed, as any staff page does."""
    from django.urls import reverse
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    browser.force_login(user)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    assert browser.post(reverse("two-factor"), {"token": code}).status_code == 302


@pytest.fixture
def manager(cast):
    return UserFactory(
        username="manager_sapporo",
        role=Role.MANAGER,
        home_site=cast.sapporo,
        clients=[cast.coffee],
        is_staff=True,
        is_superuser=True,
        language="en",
    )


@time_machine.travel(TODAY, tick=False)
def test_manager_adds_a_closed_day_and_it_refuses_duplicates_and_the_past(cast, manager):
    day = client_closed_day_add(
        client=cast.coffee, actor=manager, date=dt.date(2026, 12, 30), note="年末休業"
    )
    assert day.note == "年末休業"
    with pytest.raises(DomainError) as twice:
        client_closed_day_add(client=cast.coffee, actor=manager, date=dt.date(2026, 12, 30))
    assert twice.value.field == "date"
    with pytest.raises(DomainError) as past:
        client_closed_day_add(client=cast.coffee, actor=manager, date=dt.date(2026, 11, 1))
    assert past.value.field == "date"
    assert ClientClosedDay.objects.count() == 1
    client_closed_day_remove(closed_day=day, actor=manager)
    assert not ClientClosedDay.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_operators_and_other_clients_staff_cannot_edit_calendars(cast, manager):
    with pytest.raises(PermissionRefused):
        client_closed_day_add(client=cast.coffee, actor=cast.operator, date=dt.date(2026, 12, 30))
    with pytest.raises(NotVisible):
        client_closed_day_add(client=cast.tea, actor=manager, date=dt.date(2026, 12, 30))
    with pytest.raises(PermissionRefused):
        site_hours_set(
            site=cast.sapporo,
            actor=cast.operator,
            weekday=0,
            opens_at=dt.time(8),
            closes_at=dt.time(20),
        )
    assert not ClientClosedDay.objects.exists()


def test_site_hours_are_validated_and_one_working_day_remains(cast, manager):
    hours = site_hours_set(
        site=cast.sapporo, actor=manager, weekday=0, opens_at=dt.time(8), closes_at=dt.time(20)
    )
    assert (hours.opens_at, hours.closes_at) == (dt.time(8), dt.time(20))
    with pytest.raises(DomainError) as backwards:
        site_hours_set(
            site=cast.sapporo, actor=manager, weekday=1, opens_at=dt.time(18), closes_at=dt.time(9)
        )
    assert backwards.value.field == "closes_at"
    for weekday in range(1, 7):
        site_hours_clear(site=cast.sapporo, actor=manager, weekday=weekday)
    with pytest.raises(DomainError):
        site_hours_clear(site=cast.sapporo, actor=manager, weekday=0)
    assert list(SiteHours.objects.filter(site=cast.sapporo).values_list("weekday", flat=True)) == [
        0
    ]


@time_machine.travel(TODAY, tick=False)
def test_admin_refuses_a_past_closed_day_with_the_reason(client, cast, manager):
    login_verified(client, manager)
    url = reverse("admin:org_client_change", args=[cast.coffee.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = {
        "code": "coffee",
        "name": cast.coffee.name,
        "name_kana": "",
        "contract_signed_on": "2024-04-01",
        "escalation_email": "",
        "reopen_window_days": 14,
        "inquiry_due_hours": 16,
        "callback_max_attempts": 3,
        "callback_retry_minutes": 120,
        "unreachable_next_step": "desk_review",
        "inquiry_remind_hours": 4,
        "is_active": "on",
        "lines-TOTAL_FORMS": 0,
        "lines-INITIAL_FORMS": 0,
        "closed_days-TOTAL_FORMS": 1,
        "closed_days-INITIAL_FORMS": 0,
        "closed_days-0-date": "2026-11-01",
        "closed_days-0-note": "",
    }
    response = client.post(url, form)
    assert response.status_code == 200
    assert "clocks already ran on it" in response.content.decode()
    assert not ClientClosedDay.objects.exists()
    form["closed_days-0-date"] = "2026-12-31"
    response = client.post(url, form)
    assert response.status_code == 302
    assert ClientClosedDay.objects.get().date == dt.date(2026, 12, 31)


def test_admin_site_actions_drill_down_and_up(
    client, cast, manager, django_capture_on_commit_callbacks
):
    from azukari.org.models import SiteStatus
    from azukari.org.tests.builders import open_azukari

    ids = open_azukari(client=cast.coffee, team=cast.sapporo_desk, count=4, opened_by=cast.desk)
    login_verified(client, manager)
    url = reverse("admin:org_site_changelist")
    drill = client.post(
        url, {"action": "mark_down_drill", "_selected_action": [cast.sapporo.pk]}, follow=True
    )
    assert "4 azukari and 0 callbacks would move" in drill.content.decode()
    cast.sapporo.refresh_from_db()
    assert cast.sapporo.status == SiteStatus.OPERATING

    # The moves run in the worker once the status change commits.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "mark_down", "_selected_action": [cast.sapporo.pk]})
    cast.sapporo.refresh_from_db()
    assert cast.sapporo.status == SiteStatus.DOWN
    from azukari.cases.models import Case

    assert set(Case.objects.filter(pk__in=ids).values_list("owner_team", flat=True)) == {
        cast.osaka_desk.pk
    }
    up = client.post(
        url, {"action": "mark_operating", "_selected_action": [cast.sapporo.pk]}, follow=True
    )
    assert "4 azukari proposed to move back" in up.content.decode()


def test_admin_shows_a_manager_only_the_clients_they_serve(client, cast):
    from django.contrib.auth.models import Permission

    manager = UserFactory(
        username="manager_osaka",
        role=Role.MANAGER,
        home_site=cast.osaka,
        clients=[cast.coffee],
        is_staff=True,
        language="en",
    )
    manager.user_permissions.add(*Permission.objects.filter(codename__endswith="_client"))
    login_verified(client, manager)

    listing = client.get(reverse("admin:org_client_changelist"))
    assert listing.status_code == 200
    assert list(listing.context["cl"].queryset) == [cast.coffee]
    assert client.get(reverse("admin:org_client_change", args=[cast.coffee.pk])).status_code == 200
    other = client.get(reverse("admin:org_client_change", args=[cast.tea.pk]))
    missing = client.get(reverse("admin:org_client_change", args=[987_654_321]))
    assert (other.status_code, other.url) == (missing.status_code, missing.url)
