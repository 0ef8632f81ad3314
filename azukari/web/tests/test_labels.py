"""Every form field on every page has a label a screen reader can announce.

The desk, callbacks, backlog board, floor, notices and portal check their own forms next to
their stories; these are the remaining pages, each visited as the person who uses it.
"""

import pytest
from django.urls import reverse

from azukari.floor import services as floor
from azukari.floor.tests.factories import login_verified, parked_case
from azukari.org.models import Role
from azukari.testing.factories import UserFactory
from azukari.web.tests.test_desk import unlabelled_fields


def _assert_labelled(browser, urls) -> None:
    for url in urls:
        response = browser.get(url)
        assert response.status_code == 200, url
        assert unlabelled_fields(response.content.decode()) == [], url


def test_pages_before_logging_in(client):
    _assert_labelled(client, [reverse("login")])


def test_the_second_factor_page(client, cast):
    client.force_login(cast.approver)
    _assert_labelled(client, [reverse("two-factor")])


@pytest.mark.parametrize("persona", ["operator", "sv", "desk"])
def test_center_staff_pages(client, cast, persona):
    case = parked_case(client=cast.coffee, operator=cast.operator, team=cast.sapporo_desk)
    notice = floor.notice_publish(actor=cast.sv, client=cast.coffee, title="New script", body="Use")
    client.force_login(getattr(cast, persona))
    urls = [
        reverse("case-list"),
        reverse("case-detail", args=[case.pk]),
        reverse("notice", args=[notice.pk]),
    ]
    if persona != "operator":
        urls += [reverse("named-staff-report")]
        urls += [reverse("backlog-list", args=[kind]) for kind in ("azukari", "inquiries")]
        urls += [reverse("backlog-list", args=["callbacks"])]
    _assert_labelled(client, urls)


def test_the_managers_pages(client, cast):
    manager = UserFactory(role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee])
    login_verified(client, manager)
    _assert_labelled(client, [reverse("agreement-register"), reverse("backlog")])
