"""Every way personal data is shown writes its audit event, with the address it went to: the
admin's customer page, the floor board, the API's case and inquiry reads, and exports."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client as Browser
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from azukari.api.models import Scope
from azukari.api.services import api_token_create
from azukari.audit.models import AccessAction, AccessEvent
from azukari.audit.tests.conftest import open_case
from azukari.cases import services as cases
from azukari.customers.models import Customer
from azukari.org.models import Role
from azukari.testing.factories import UserFactory

FROM = {"REMOTE_ADDR": "198.51.100.7"}


def _events(**filters):
    return AccessEvent.objects.filter(**filters)


@pytest.fixture
def coffee_case(cast):
    return open_case(client=cast.coffee, operator=cast.operator)


def test_the_admins_customer_page_is_an_audited_view(cast, coffee_case):
    manager = UserFactory(
        username="mgr_coffee", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    manager.user_permissions.set(Permission.objects.filter(codename="view_customer"))
    browser = Browser(**FROM)
    browser.force_login(manager)
    device = TOTPDevice.objects.create(user=manager, name="app", confirmed=True)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    url = f"/admin/customers/customer/{coffee_case.customer_id}/change/"
    assert browser.get(url).status_code == 200
    event = _events(actor=manager).get()
    assert (event.customer_ref, event.action, event.ip) == (
        coffee_case.customer_id,
        AccessAction.VIEW,
        "198.51.100.7",
    )
    assert "harassment_note" in event.fields and "address" in event.fields


def test_the_floor_board_records_who_saw_the_flagged_customers(cast, coffee_case):
    Customer.objects.filter(pk=coffee_case.customer_id).update(
        harassment_flag=True, harassment_note="Shouted for 20 minutes"
    )
    browser = Browser(**FROM)
    browser.force_login(cast.sv)
    page = browser.get("/floor/")
    assert "Shouted for 20 minutes" in page.content.decode()
    event = _events(actor=cast.sv, object_type="floor").get()
    assert event.customer_ref == coffee_case.customer_id and event.ip == "198.51.100.7"


def test_the_apis_case_and_inquiry_reads_are_audited(cast, coffee_case):
    cases.inquiry_send(
        case=coffee_case,
        version=coffee_case.version,
        actor=cast.operator,
        question="Waive the fee?",
        options=[{"code": "yes", "label": "Yes"}],
        team=cast.sapporo_desk,
    )
    token, raw = api_token_create(
        name="Coffee", scopes=[Scope.CASES_READ, Scope.INQUIRIES_READ], client=cast.coffee
    )
    api = Browser(headers={"Authorization": f"Bearer {raw}"}, **FROM)
    before = _events().count()
    for path in ("/api/v1/cases", f"/api/v1/cases/{coffee_case.pk}", "/api/v1/inquiries"):
        assert api.get(path).status_code == 200, path
    events = list(_events(actor=token.service_user))
    assert len(events) == 3 == _events().count() - before
    assert {e.customer_ref for e in events} == {coffee_case.customer_id}
    assert {e.ip for e in events} == {"198.51.100.7"}


def test_export_rows_record_the_address_they_went_to(cast, coffee_case):
    browser = Browser(**FROM)
    browser.force_login(cast.desk)
    response = browser.get("/exports/coffee/?what=customers")
    b"".join(response.streaming_content)
    event = _events(action=AccessAction.EXPORT).get()
    assert event.ip == "198.51.100.7"
