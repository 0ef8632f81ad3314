"""The set-up pages: a new client's checklist and go-live, staff from a file, and a policy
file previewed for a sample customer before it is put in force."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as Browser
from django.urls import reverse

from azukari.org.models import Client, Role, User
from azukari.org.setup import client_create
from azukari.org.tests.test_calendars import login_verified
from azukari.subscriptions.models import Plan, PolicyVersion
from azukari.testing.factories import UserFactory

POLICY = """
[policy]
code = "standard"
name = "パン便の解約規定"

[[versions]]
effective_from = 2026-01-01
min_deliveries = 3
device_list_price_yen = 12000
device_price_paid_yen = 3000
decision_limit_days = 10
grounds = [{ code = "defect", approval = "sv" }]
"""
BAD_POLICY = """
[policy]
code = "standard"

[[versions]]
effective_from = 2026-01-01
min_deliveries = 3
device_list_price_yen = 1000
device_price_paid_yen = 5000
"""


@pytest.fixture
def manager(cast):
    return UserFactory(
        username="mgr", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )


@pytest.fixture
def bread(manager):
    client = client_create(actor=manager, code="bread", name="パン工房株式会社")
    Plan.objects.create(
        client=client,
        code="loaf",
        name="食パン便",
        price_yen=1200,
        min_deliveries=3,
        device_list_price_yen=12000,
        device_price_paid_yen=3000,
    )
    return client


@pytest.fixture
def browser(manager):
    browser = Browser()
    login_verified(browser, User.objects.get(pk=manager.pk))
    return browser


def test_the_checklist_names_what_is_missing_with_a_link_to_fix_it(cast, bread, browser):
    page = browser.get(reverse("setup-checklist", args=["bread"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="item-lines" class="missing"' in html
    assert 'id="item-plans" class="done"' in html
    assert reverse("setup-policy", args=["bread"]) in html
    assert reverse("setup-lines", args=["bread"]) in html
    refused = browser.post(reverse("setup-go-live", args=["bread"]), follow=True)
    text = refused.content.decode()
    assert "A phone line customers dial" in text or "電話" in text
    bread.refresh_from_db()
    assert bread.went_live_on is None
    listing = browser.get(reverse("setup-clients")).content.decode()
    assert "パン工房株式会社" in listing


def test_the_set_up_pages_are_for_managers_of_the_client(cast, bread, manager):
    operator = Browser()
    operator.force_login(cast.operator)
    assert operator.get(reverse("setup-checklist", args=["coffee"])).status_code == 403
    other = UserFactory(
        username="mgr_tea", role=Role.MANAGER, home_site=cast.osaka, clients=[cast.tea]
    )
    outsider = Browser()
    login_verified(outsider, other)
    assert outsider.get(reverse("setup-checklist", args=["bread"])).status_code == 404
    assert outsider.post(reverse("setup-go-live", args=["bread"])).status_code == 404
    assert outsider.get(reverse("setup-policy", args=["bread"])).status_code == 404
    approver = Browser()
    login_verified(approver, cast.approver)
    assert approver.get(reverse("setup-clients")).status_code == 404


def _upload(text: str, name: str = "policy.toml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode())


def test_a_refused_policy_file_lists_its_problems_and_changes_nothing(cast, bread, browser):
    page = browser.post(
        reverse("setup-policy", args=["bread"]),
        {"file": _upload(BAD_POLICY), "deliveries_made": 2},
    )
    assert page.status_code == 200
    assert 'id="policy-problems"' in page.content.decode()
    assert "versions[0]" in page.content.decode()
    assert not PolicyVersion.objects.filter(client=bread).exists()


def test_a_policy_is_previewed_for_a_sample_then_put_in_force(cast, bread, browser):
    page = browser.post(
        reverse("setup-policy", args=["bread"]),
        {"file": _upload(POLICY), "deliveries_made": 1},
    )
    html = page.content.decode()
    assert 'id="policy-preview"' in html, html[:3000]
    assert "食パン便" in html
    assert not PolicyVersion.objects.filter(client=bread).exists()  # a preview keeps nothing
    # The unrecovered subsidy after 1 of 3 deliveries: 9,000 yen × 2/3.
    assert "6,000" in html
    payload = html.split('name="payload" value="')[1].split('"')[0]
    tampered = browser.post(
        reverse("setup-policy-confirm", args=["bread"]), {"payload": payload[:-3] + "abc"}
    )
    assert tampered.status_code == 302
    assert not PolicyVersion.objects.filter(client=bread).exists()
    done = browser.post(reverse("setup-policy-confirm", args=["bread"]), {"payload": payload})
    assert done["Location"] == reverse("setup-checklist", args=["bread"])
    version = PolicyVersion.objects.get(client=bread)
    assert version.effective_from == dt.date(2026, 1, 1) and version.min_deliveries == 3
    # The signed preview of one client cannot be put in force for another.
    assert (
        browser.post(
            reverse("setup-policy-confirm", args=["coffee"]), {"payload": payload}
        ).status_code
        == 404
    )


def test_staff_from_a_cp932_file_on_the_page(cast, bread, browser):
    rows = [
        "社員番号,氏名,役割,拠点,担当企業,覚書締結日,覚書版",
        "E100,髙橋 一郎,オペレーター,札幌センター,coffee,2026-04-01,2026-04",
    ]
    body = "\r\n".join(rows).encode("cp932")
    done = browser.post(
        reverse("setup-staff-import"), {"file": SimpleUploadedFile("staff.csv", body)}
    )
    assert done.status_code == 302
    assert User.objects.get(employee_number="E100").last_name == "髙橋"
    bad = "\r\n".join([rows[0], "E101,山田 花子,社長,札幌センター,coffee,2026-04-01,v"])
    page = browser.post(
        reverse("setup-staff-import"),
        {"file": SimpleUploadedFile("staff.csv", bad.encode("cp932"))},
    )
    assert page.status_code == 200
    assert 'id="row-errors"' in page.content.decode()
    assert not User.objects.filter(employee_number="E101").exists()
    assert Client.objects.filter(code="bread").exists()
