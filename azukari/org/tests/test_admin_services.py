"""The admin writes through the services: a leaver loses their tokens, site hours keep a
working day, and a token issued from the command line names who issued it."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client as HttpClient
from django.urls import reverse

from azukari.api.models import ApiToken, Scope
from azukari.api.services import api_token_create
from azukari.org.models import EmploymentStatus, Role, SiteHours
from azukari.org.tests.test_calendars import login_verified
from azukari.testing.factories import UserFactory


@pytest.fixture
def admin_user(cast):
    return UserFactory(
        username="admin_osaka",
        role=Role.ADMIN,
        home_site=cast.osaka,
        clients=[cast.coffee, cast.tea],
        is_staff=True,
        is_superuser=True,
        language="en",
    )


def test_marking_a_leaver_in_the_admin_revokes_the_tokens_they_issued(cast, admin_user):
    leaver = UserFactory(
        username="manager_leaving", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )
    issued, raw = api_token_create(
        name="coffee orders", scopes=[Scope.SYNC_WRITE], client=cast.coffee, created_by=leaver
    )
    headers = {"Authorization": f"Bearer {raw}"}
    assert HttpClient().get("/api/v1/customers?q=x", headers=headers).status_code != 401
    browser = HttpClient()
    login_verified(browser, admin_user)
    response = browser.post(
        reverse("admin:org_user_changelist"),
        {"action": "mark_left", "_selected_action": [leaver.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "is marked as left: 0 sessions ended, 1 API tokens revoked" in response.content.decode()
    leaver.refresh_from_db()
    assert leaver.employment_status == EmploymentStatus.LEFT
    issued.refresh_from_db()
    assert issued.revoked_at is not None
    assert HttpClient().get("/api/v1/customers?q=x", headers=headers).status_code == 401


def test_the_leaving_fields_are_read_only_in_the_user_form(cast, admin_user):
    browser = HttpClient()
    login_verified(browser, admin_user)
    page = browser.get(reverse("admin:org_user_change", args=[cast.desk.pk])).content.decode()
    assert 'name="employment_status"' not in page
    assert 'name="left_on"' not in page


def _site_form(site, rows: list[tuple[int | None, int, str, str, bool]]) -> dict:
    form = {
        "code": site.code,
        "name": site.name,
        "hours-TOTAL_FORMS": len(rows),
        "hours-INITIAL_FORMS": sum(1 for pk, *_ in rows if pk),
    }
    for i, (pk, weekday, opens, closes, delete) in enumerate(rows):
        form.update(
            {
                f"hours-{i}-id": pk or "",
                f"hours-{i}-site": site.pk,
                f"hours-{i}-weekday": weekday,
                f"hours-{i}-opens_at": opens,
                f"hours-{i}-closes_at": closes,
            }
        )
        if delete:
            form[f"hours-{i}-DELETE"] = "on"
    return form


def test_site_hours_edited_in_the_admin_keep_at_least_one_weekday(cast, admin_user):
    browser = HttpClient()
    login_verified(browser, admin_user)
    url = reverse("admin:org_site_change", args=[cast.osaka.pk])
    page = browser.get(url).content.decode()
    assert 'name="hours-TOTAL_FORMS"' in page
    rows = [
        (h.pk, h.weekday, "09:00", "21:00", True)
        for h in SiteHours.objects.filter(site=cast.osaka).order_by("weekday")
    ]
    response = browser.post(url, _site_form(cast.osaka, rows))
    assert response.status_code == 200
    assert "A site works on at least one weekday." in response.content.decode()
    assert SiteHours.objects.filter(site=cast.osaka).count() == 7

    # Monday kept with new hours, every other day removed: saved through the services.
    rows[0] = (rows[0][0], 0, "10:00", "19:00", False)
    response = browser.post(url, _site_form(cast.osaka, rows))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(
        SiteHours.objects.filter(site=cast.osaka).values_list("weekday", "opens_at__hour")
    ) == [(0, 10)]


def test_a_token_from_the_command_names_who_issued_it(cast, admin_user):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "api", "token", "create", "--client", "coffee", "--scopes", "screen_pop",
        "--issued-by", "admin_osaka", stdout=out, stderr=err,
    )  # fmt: skip
    token = ApiToken.objects.get()
    assert token.created_by == admin_user
    with pytest.raises(CommandError, match="issued-by"):
        call_command(
            "api", "token", "create", "--client", "coffee", "--scopes", "screen_pop",
            "--issued-by", "nobody", stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    with pytest.raises(CommandError):
        call_command(
            "api", "token", "create", "--client", "coffee", "--scopes", "screen_pop",
            "--issued-by", cast.operator.username, stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
