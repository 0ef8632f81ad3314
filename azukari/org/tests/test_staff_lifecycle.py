"""Staff lifecycle: agreements on record, leavers lose access at once, the register."""

import datetime as dt

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from azukari.api.services import api_token_create
from azukari.cases.models import Contact
from azukari.cases.services import contact_log
from azukari.core.errors import DomainError, PermissionRefused
from azukari.org.models import EmploymentStatus, Role
from azukari.org.staff import agreement_register, staff_agreement_record, staff_mark_left
from azukari.testing.factories import UserFactory


@pytest.fixture
def manager(cast):
    return UserFactory(
        username="mgr", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )


def _logged_in(username: str) -> Browser:
    browser = Browser()
    response = browser.post(reverse("login"), {"username": username, "password": "pass-word-123"})
    assert response.status_code == 302
    return browser


def test_a_leavers_open_sessions_stop_on_their_next_request(cast, manager):
    desk, floor = _logged_in("op_sapporo"), _logged_in("op_sapporo")
    assert desk.get(reverse("case-list")).status_code == 200
    result = staff_mark_left(staff=cast.operator, left_on=timezone.localdate(), by=manager)
    assert result.sessions_ended == 2
    for browser in (desk, floor):
        response = browser.get(reverse("case-list"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_leaver_cannot_log_in_again(cast, manager):
    staff_mark_left(staff=cast.operator, left_on=timezone.localdate(), by=manager)
    response = Browser().post(
        reverse("login"), {"username": "op_sapporo", "password": "pass-word-123"}
    )
    assert response.status_code == 200  # the form again, no session


def test_a_leavers_tokens_stop_on_their_next_request(cast, manager):
    admin = UserFactory(username="adm", role=Role.ADMIN, home_site=cast.sapporo)
    _token, raw = api_token_create(
        name="Coffee order system",
        scopes=["customers:read"],
        client=cast.coffee,
        created_by=manager,
    )
    api = Browser()
    headers = {"Authorization": f"Bearer {raw}"}
    assert api.get("/api/v1/customers", {"q": "山田"}, headers=headers).status_code == 200
    result = staff_mark_left(staff=manager, left_on=timezone.localdate(), by=admin)
    assert result.tokens_revoked == 1
    assert api.get("/api/v1/customers", {"q": "山田"}, headers=headers).status_code == 401


def test_a_leavers_records_stay(cast, manager):
    contact = contact_log(actor=cast.operator, client=cast.coffee, summary="Asked about delivery")
    staff_mark_left(staff=cast.operator, left_on=timezone.localdate(), by=manager)
    assert Contact.objects.get(pk=contact.pk).handler == cast.operator


def test_only_managers_mark_leavers_and_not_themselves(cast, manager):
    with pytest.raises(PermissionRefused):
        staff_mark_left(staff=cast.desk, left_on=timezone.localdate(), by=cast.sv)
    with pytest.raises(DomainError) as exc:
        staff_mark_left(staff=manager, left_on=timezone.localdate(), by=manager)
    assert exc.value.field == "staff"
    with pytest.raises(DomainError) as exc:
        staff_mark_left(
            staff=cast.desk, left_on=timezone.localdate() + dt.timedelta(days=30), by=manager
        )
    assert exc.value.field == "left_on"
    cast.desk.refresh_from_db()
    assert cast.desk.employment_status == EmploymentStatus.ACTIVE


def test_no_agreement_no_access_until_one_is_recorded(cast, manager):
    newcomer = UserFactory(
        username="new_op", home_site=cast.sapporo, clients=[cast.coffee], agreement_signed_on=None
    )
    response = Browser().post(reverse("login"), {"username": "new_op", "password": "pass-word-123"})
    assert response.status_code == 200
    staff_agreement_record(
        staff=newcomer, signed_on=timezone.localdate(), version="2026-04", by=manager
    )
    assert _logged_in("new_op").get(reverse("case-list")).status_code == 200


def test_client_approvers_need_their_companys_contract(cast):
    cast.coffee.contract_signed_on = None
    cast.coffee.save(update_fields=["contract_signed_on"])
    cast.approver.refresh_from_db()
    assert not cast.approver.has_access
    response = Browser().post(
        reverse("login"), {"username": "approver_coffee", "password": "pass-word-123"}
    )
    assert response.status_code == 200


def test_the_agreement_register_lists_leavers_and_contracts(cast, manager):
    staff_mark_left(staff=cast.operator, left_on=dt.date(2026, 3, 31), by=manager)
    rows = {row.user.username: row for row in agreement_register(viewer=manager)}
    assert rows["op_sapporo"].status == EmploymentStatus.LEFT
    assert rows["op_sapporo"].left_on == dt.date(2026, 3, 31)
    assert rows["op_sapporo"].signed_on == dt.date(2024, 4, 1) and not rows["op_sapporo"].has_access
    assert rows["approver_coffee"].bound_by == "contract"
    with pytest.raises(PermissionRefused):
        agreement_register(viewer=cast.operator)


def test_the_register_page_is_for_managers_only(cast, manager, client):
    client.force_login(cast.operator)
    assert client.get(reverse("agreement-register")).status_code == 404


def test_new_staff_read_japanese_until_they_choose_english(cast):
    from azukari.org.models import User

    newcomer = User.objects.create_user("newcomer", password="pass-word-123")
    assert (newcomer.role, newcomer.language) == (Role.OPERATOR, "ja")
    assert {code for code, _label in User._meta.get_field("language").choices} == {"ja", "en"}
