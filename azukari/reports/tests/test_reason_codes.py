"""Setting up a client's contact reason codes is a manager's, by the same permission on the
set-up page, in the admin and in the service itself; operators, supervisors and the desk use
the codes but cannot add them."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from azukari.core.errors import NotVisible, PermissionRefused
from azukari.floor.tests.factories import login_verified
from azukari.org.models import Role
from azukari.reports.models import ReasonCode
from azukari.reports.services import reason_code_create
from azukari.testing.factories import UserFactory

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def manager(cast):
    return UserFactory(
        username="mgr_coffee", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )


@pytest.mark.parametrize("who", ["operator", "sv", "desk"])
def test_floor_staff_cannot_add_a_reason_code(cast, who):
    with pytest.raises(PermissionRefused) as refused:
        reason_code_create(actor=getattr(cast, who), client=cast.coffee, code="x", label="X")
    assert str(refused.value) == (
        "Only a center manager or administrator sets up clients and sites."
    )
    assert not ReasonCode.objects.exists()


def test_a_manager_adds_codes_only_for_a_client_they_serve(cast, manager):
    code = reason_code_create(
        actor=manager, client=cast.coffee, code="cancel", label="解約", label_en="Cancel"
    )
    assert (code.client, code.label_en) == (cast.coffee, "Cancel")
    with pytest.raises(NotVisible):
        reason_code_create(actor=manager, client=cast.tea, code="cancel", label="解約")
    assert list(ReasonCode.objects.values_list("client__code", flat=True)) == ["coffee"]


def test_the_command_line_path_is_trusted(cast):
    reason_code_create(actor=None, client=cast.tea, code="billing", label="請求")
    assert ReasonCode.objects.filter(client=cast.tea, code="billing").exists()


def test_the_admin_adds_codes_through_the_service_and_only_for_managers(client, cast, manager):
    rights = Permission.objects.filter(codename__endswith="reasoncode")
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    manager.user_permissions.set(rights)
    login_verified(client, manager)
    add = reverse("admin:reports_reasoncode_add")
    added = client.post(
        add, {"client": cast.coffee.pk, "code": "cancel", "label": "解約", "position": 0}
    )
    assert added.status_code == 302
    assert ReasonCode.objects.filter(client=cast.coffee, code="cancel").exists()
    # A supervisor given every Django permission on codes still may not add one.
    cast.sv.is_staff = True
    cast.sv.save(update_fields=["is_staff"])
    cast.sv.user_permissions.set(rights)
    login_verified(client, cast.sv)
    assert client.get(add).status_code == 403
    refused = client.post(
        add, {"client": cast.coffee.pk, "code": "billing", "label": "請求", "position": 0}
    )
    assert refused.status_code == 403
    assert not ReasonCode.objects.filter(code="billing").exists()
