"""The Django admin keeps to the clients a person serves, like the pages and the API: tokens,
audit events, named-staff requests, teams and users of another client are not there, a token
is issued only by someone who may see its client, and user accounts are for administrators."""

import pytest
from django.contrib.auth.models import Permission
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from azukari.api.models import ApiToken, Scope
from azukari.api.services import api_token_create
from azukari.audit.models import AccessEvent
from azukari.audit.services import named_staff_request_record
from azukari.audit.tests.conftest import open_case
from azukari.core.errors import NotVisible, PermissionRefused
from azukari.org.models import Role
from azukari.testing.factories import TeamFactory, UserFactory

ADMIN_PERMISSIONS = [
    "add_apitoken",
    "view_apitoken",
    "view_accessevent",
    "view_namedstaffrequest",
    "view_team",
    "change_team",
    "view_user",
    "change_user",
    "add_user",
]


def _staff(cast, username: str, role: str):
    person = UserFactory(
        username=username, role=role, home_site=cast.sapporo, clients=[cast.coffee]
    )
    person.is_staff = True
    person.save(update_fields=["is_staff"])
    person.user_permissions.set(Permission.objects.filter(codename__in=ADMIN_PERMISSIONS))
    return person


def _verified(client, user):
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def coffee_manager(cast):
    return _staff(cast, "mgr_coffee", Role.MANAGER)


@pytest.fixture
def coffee_admin(cast):
    return _staff(cast, "adm_coffee", Role.ADMIN)


def test_a_coffee_manager_cannot_issue_a_token_for_tea(client, cast, coffee_manager):
    _verified(client, coffee_manager)
    form = client.get("/admin/api/apitoken/add/").content.decode()
    assert cast.coffee.name in form and cast.tea.name not in form
    response = client.post(
        "/admin/api/apitoken/add/",
        {"name": "Tea sync", "client": cast.tea.pk, "scopes": [Scope.CUSTOMERS_READ]},
    )
    assert response.status_code == 200  # the form again, with the refusal
    assert not ApiToken.objects.exists()
    response = client.post(
        "/admin/api/apitoken/add/",
        {"name": "Coffee sync", "client": cast.coffee.pk, "scopes": [Scope.CUSTOMERS_READ]},
    )
    assert response.status_code == 302
    assert ApiToken.objects.get().client == cast.coffee


def test_the_token_service_checks_the_issuer(cast, coffee_manager):
    with pytest.raises(NotVisible):
        api_token_create(name="Tea", scopes=[], client=cast.tea, created_by=coffee_manager)
    with pytest.raises(NotVisible):
        api_token_create(
            name="PBX", scopes=[], center_clients=[cast.coffee, cast.tea], created_by=coffee_manager
        )
    with pytest.raises(PermissionRefused):
        api_token_create(name="Coffee", scopes=[], client=cast.coffee, created_by=cast.operator)
    assert not ApiToken.objects.exists()


def test_tea_tokens_events_requests_and_teams_are_not_listed(client, cast, coffee_manager):
    api_token_create(name="Tea sync", scopes=[Scope.CUSTOMERS_READ], client=cast.tea)
    tea_case = open_case(client=cast.tea, operator=cast.outsider, phone="+819087654321")
    tea_request = named_staff_request_record(
        operator=cast.outsider, client=cast.tea, case=tea_case, note="asked for Suzuki-san"
    )
    tea_event = AccessEvent.objects.filter(client=cast.tea).first()
    tea_team = TeamFactory(site=cast.osaka, code="osaka-tea-only", clients=[cast.tea])
    _verified(client, coffee_manager)
    assert "Tea sync" not in client.get("/admin/api/apitoken/").content.decode()
    assert cast.tea.name not in client.get("/admin/audit/namedstaffrequest/").content.decode()
    assert cast.tea.name not in client.get("/admin/audit/accessevent/").content.decode()
    request_page = f"/admin/audit/namedstaffrequest/{tea_request.pk}/change/"
    assert client.get(request_page).status_code == 302
    assert client.get(f"/admin/audit/accessevent/{tea_event.pk}/change/").status_code == 302
    assert "osaka-tea-only" not in client.get("/admin/org/team/").content.decode()
    assert client.get(f"/admin/org/team/{tea_team.pk}/change/").status_code == 302
    # User accounts are for administrators, even with Django's permission to change them.
    assert client.get("/admin/org/user/").status_code == 403


def test_an_administrator_edits_served_people_but_not_superusers_or_their_own_reach(
    client, cast, coffee_admin
):
    root = UserFactory(username="root", home_site=cast.sapporo, clients=[cast.coffee])
    root.is_superuser = True
    root.save(update_fields=["is_superuser"])
    _verified(client, coffee_admin)
    people = client.get("/admin/org/user/").content.decode()
    assert cast.operator.username in people
    assert cast.outsider.username not in people and cast.tea_approver.username not in people
    assert "root" not in people
    assert client.get(f"/admin/org/user/{root.pk}/change/").status_code == 302
    other = client.get(f"/admin/org/user/{cast.operator.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in other and 'name="user_permissions"' not in other
    own = client.get(f"/admin/org/user/{coffee_admin.pk}/change/").content.decode()
    assert 'name="clients"' not in own and 'name="groups"' not in own
    assert 'name="is_superuser"' not in own and 'name="role"' not in own
