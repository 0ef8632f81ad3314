"""The permission table at the door of the pages: client approvers reach their portal and
nothing else of the center's pages; center pages for supervisors refuse operators."""

import pytest
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from azukari.audit.tests.conftest import open_case
from azukari.org.models import Role
from azukari.org.permissions import ROLE_CAPABILITIES, Cap, roles_with, user_can


def _verified(client, user):
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def test_every_role_is_in_the_table_and_superusers_hold_everything(cast):
    assert set(ROLE_CAPABILITIES) == set(Role.values)
    assert roles_with(Cap.PORTAL_USE) == {Role.CLIENT_APPROVER}
    assert Role.CLIENT_APPROVER not in roles_with(Cap.CENTER_PAGES)
    cast.operator.is_superuser = True
    assert all(user_can(cast.operator, cap) for cap in Cap)


def test_a_client_approver_finds_no_center_page_even_for_its_own_companys_case(client, cast):
    case = open_case(client=cast.coffee, operator=cast.operator)
    _verified(client, cast.approver)
    urls = [
        reverse("case-list"),
        reverse("case-detail", args=[case.pk]),
        reverse("cancellation-overdue"),
        reverse("cancellation-report"),
        reverse("named-staff-report"),
        reverse("callbacks"),
        reverse("backlog"),
        reverse("floor"),
        reverse("notices"),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    reveal = reverse("customer-reveal", args=[case.customer_id])
    assert client.post(reveal, {"field": "address", "purpose": "x"}).status_code == 404
    # The portal is theirs, and the home page leads there.
    assert client.get(reverse("portal-inquiries")).status_code == 200
    assert client.get(reverse("home")).url == reverse("portal-inquiries")


@pytest.mark.parametrize(
    "name", ["cancellation-overdue", "cancellation-report", "named-staff-report"]
)
def test_operators_are_refused_the_supervisors_reports_with_a_reason(client, cast, english, name):
    cast.operator.language = "en"  # the refusal is read in the person's own language
    cast.operator.save(update_fields=["language"])
    client.force_login(cast.operator)
    response = client.get(reverse(name))
    assert response.status_code == 403
    assert b"supervisors" in response.content
    client.force_login(cast.desk)
    assert client.get(reverse(name)).status_code == 200


def test_the_menu_shows_only_what_the_role_may_open(client, cast, english):
    client.force_login(cast.operator)
    menu = client.get(reverse("case-list")).content.decode()
    assert reverse("case-list") in menu and reverse("backlog") not in menu
    assert reverse("named-staff-report") not in menu
    _verified(client, cast.approver)
    menu = client.get(reverse("portal-inquiries")).content.decode()
    assert reverse("portal-inquiries") in menu and reverse("case-list") not in menu
