"""The checklist's own pages for a manager without any admin permission: the escalation contact
and contract, a plan, reason codes. Each turns its checklist item done, refuses bad input with
nothing changed, and is only for the managers of the client."""

# The fixtures are imported, so their names are parameters too.
# ruff: noqa: F811

import datetime as dt

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from azukari.org.models import Client, Role, User
from azukari.org.tests.test_calendars import login_verified
from azukari.reports.models import ReasonCode
from azukari.subscriptions.models import Plan
from azukari.testing.factories import UserFactory
from azukari.web.tests.setup_clients import (  # noqa: F401 (fixtures)
    admin_browser,
    bread,
    browser,
    item_state,
    manager,
    said,
)

PLAN = {
    "code": "loaf-monthly",
    "name": "食パンの定期便",
    "price_yen": "1980",
    "interval_days": "30",
    "min_deliveries": "3",
    "device_list_price_yen": "12000",
    "device_price_paid_yen": "3000",
}


def test_the_checklist_links_to_the_managers_own_pages(bread, browser):
    html = browser.get(reverse("setup-checklist", args=["bread"])).content.decode()
    for name in ("setup-client-contact", "setup-plan-new", "setup-reasons"):
        assert reverse(name, args=["bread"]) in html, name
    assert reverse("admin:subscriptions_plan_add") not in html
    assert reverse("admin:reports_reasoncode_add") not in html
    for name in ("setup-client-contact", "setup-plan-new", "setup-reasons"):
        assert browser.get(reverse(name, args=["bread"])).status_code == 200, name


def test_the_escalation_contact_and_contract_are_saved_from_the_page(bread, browser):
    url = reverse("setup-client-contact", args=["bread"])
    assert item_state(browser, "escalation") == "missing"
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    for email, signed, field_error in (
        ("not an address", "", "Enter a valid e-mail"),
        ("cs@pan.example", tomorrow, "cannot be in the future"),
        ("", "2026-01-05", "This field is required."),
    ):
        bad = {"escalation_email": email, "contract_signed_on": signed}
        page = browser.post(url, bad)
        assert page.status_code == 200
        assert field_error in page.content.decode(), bad
    bread.refresh_from_db()
    assert (bread.escalation_email, bread.contract_signed_on) == ("", None)

    done = browser.post(
        url, {"escalation_email": "cs@pan.example", "contract_signed_on": "2026-01-05"}
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("setup-checklist", args=["bread"])
    assert said(done) == ["The escalation contact and contract of パン工房株式会社 are saved."]
    bread.refresh_from_db()
    assert bread.escalation_email == "cs@pan.example"
    assert bread.contract_signed_on == dt.date(2026, 1, 5)
    assert item_state(browser, "escalation") == "done"
    # The page shows what is on record.
    assert 'value="2026-01-05"' in browser.get(url).content.decode()


def test_a_plan_is_added_from_the_page(bread, browser):
    url = reverse("setup-plan-new", args=["bread"])
    assert item_state(browser, "plans") == "missing"
    for bad, problem in (
        ({**PLAN, "device_price_paid_yen": "20000"}, "above its list price"),
        ({**PLAN, "code": "食パン"}, "letters, digits"),
        ({**PLAN, "price_yen": "-1"}, "from 0"),
        ({**PLAN, "interval_days": "0"}, "from 1"),
        ({**PLAN, "name": "  "}, "required"),
    ):
        page = browser.post(url, bad)
        assert page.status_code == 200
        assert problem in page.content.decode(), bad
    assert not Plan.objects.filter(client=bread).exists()

    done = browser.post(url, PLAN)
    assert done["Location"] == reverse("setup-checklist", args=["bread"])
    assert said(done) == ["Plan “食パンの定期便” added to パン工房株式会社."]
    plan = Plan.objects.get(client=bread)
    assert (plan.code, plan.price_yen, plan.min_deliveries, plan.device_subsidy_yen) == (
        "loaf-monthly",
        1980,
        3,
        9000,
    )
    assert item_state(browser, "plans") == "done"
    again = browser.post(url, PLAN)
    assert "already has a plan with this code" in again.content.decode()
    assert Plan.objects.filter(client=bread).count() == 1
    assert "食パンの定期便" in browser.get(url).content.decode()  # listed above the form


def test_reason_codes_are_added_from_the_page(bread, browser):
    url = reverse("setup-reasons", args=["bread"])
    assert item_state(browser, "reasons") == "missing"
    refused = browser.post(url, {"code": "解約", "label": "解約", "label_en": "Cancellation"})
    assert "letters, digits" in refused.content.decode()
    refused = browser.post(url, {"code": "cancel", "label": "", "label_en": "Cancellation"})
    assert refused.status_code == 200 and "required" in refused.content.decode()
    assert not ReasonCode.objects.filter(client=bread).exists()

    done = browser.post(url, {"code": "cancel", "label": "解約", "label_en": "Cancellation"})
    assert done["Location"] == url
    assert said(done) == ["Reason code “cancel” (解約) added."]
    browser.post(url, {"code": "billing", "label": "請求", "label_en": ""})
    codes = list(ReasonCode.objects.filter(client=bread).order_by("position"))
    assert [(c.code, c.label, c.label_en, c.position) for c in codes] == [
        ("cancel", "解約", "Cancellation", 0),
        ("billing", "請求", "", 1),
    ]
    html = browser.get(url).content.decode()
    assert "Cancellation" in html and "請求" in html
    again = browser.post(url, {"code": "cancel", "label": "別", "label_en": ""})
    assert "already in use" in again.content.decode()
    assert ReasonCode.objects.filter(client=bread).count() == 2
    assert item_state(browser, "reasons") == "done"


def test_the_pages_read_in_japanese(bread, browser, manager):
    User.objects.filter(pk=manager.pk).update(language="ja")
    html = browser.get(reverse("setup-plan-new", args=["bread"])).content.decode()
    assert "必要なお受け取り回数" in html  # Required number of deliveries
    html = browser.get(reverse("setup-reasons", args=["bread"])).content.decode()
    assert "ラベル（英語）" in html


PAGES = ("setup-client-contact", "setup-plan-new", "setup-reasons")


def test_the_pages_are_for_the_managers_of_the_client(cast, bread):
    operator = Browser()
    login_verified(operator, cast.operator)
    for name in PAGES:
        assert operator.get(reverse(name, args=["coffee"])).status_code == 403, name
        assert operator.post(reverse(name, args=["coffee"]), PLAN).status_code == 403, name
    other = UserFactory(
        username="mgr_tea", role=Role.MANAGER, home_site=cast.osaka, clients=[cast.tea]
    )
    outsider = Browser()
    login_verified(outsider, other)
    for name in PAGES:
        assert outsider.get(reverse(name, args=["bread"])).status_code == 404, name
        assert outsider.get(reverse(name, args=["nosuch"])).status_code == 404, name
    assert outsider.post(reverse("setup-plan-new", args=["bread"]), PLAN).status_code == 404
    assert (
        outsider.post(
            reverse("setup-reasons", args=["bread"]), {"code": "x", "label": "x"}
        ).status_code
        == 404
    )
    assert (
        outsider.post(
            reverse("setup-client-contact", args=["bread"]),
            {"escalation_email": "x@example.com"},
        ).status_code
        == 404
    )
    approver = Browser()
    login_verified(approver, cast.approver)
    for name in PAGES:
        assert approver.get(reverse(name, args=["coffee"])).status_code == 404, name
    assert not Plan.objects.filter(client=bread).exists()
    assert not ReasonCode.objects.filter(client=bread).exists()
    assert Client.objects.get(code="bread").escalation_email == ""
    anonymous = Browser()
    assert anonymous.get(reverse("setup-plan-new", args=["bread"])).status_code == 302


def test_the_wrong_method_is_refused(bread, browser):
    for name in PAGES:
        assert browser.put(reverse(name, args=["bread"])).status_code == 405, name
        assert browser.delete(reverse(name, args=["bread"])).status_code == 405, name


def test_the_admins_plan_page_creates_through_the_same_rules(cast, bread, admin_browser):
    url = reverse("admin:subscriptions_plan_add")
    refused = admin_browser.post(
        url, {**PLAN, "client": bread.pk, "device_price_paid_yen": "20000"}
    )
    assert refused.status_code == 200
    assert "above its list price" in refused.content.decode()
    assert not Plan.objects.filter(client=bread).exists()
    done = admin_browser.post(url, {**PLAN, "client": bread.pk})
    assert done.status_code == 302, done.context["adminform"].form.errors
    assert Plan.objects.get(client=bread).name == "食パンの定期便"


def test_plan_create_is_for_the_managers_of_the_client(cast, bread, manager):
    from azukari.core.errors import NotVisible, PermissionRefused
    from azukari.subscriptions.services import plan_create

    values = {"code": "loaf", "name": "食パン便", "price_yen": 1200}
    with pytest.raises(PermissionRefused):
        plan_create(actor=cast.operator, client=cast.coffee, **values)
    with pytest.raises(NotVisible):
        plan_create(actor=manager, client=cast.tea, **values)
    assert not Plan.objects.filter(code="loaf").exists()
    plan = plan_create(actor=None, client=cast.tea, **values)  # the command line
    assert (plan.client, plan.interval_days, plan.device_subsidy_yen) == (cast.tea, 30, 0)
