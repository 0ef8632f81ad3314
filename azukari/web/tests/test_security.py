"""Hardening as a user meets it: headers, throttled log-in, two factors, session lifetimes."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from azukari.org.models import Role
from azukari.testing.factories import UserFactory


@pytest.fixture
def manager(cast):
    return UserFactory(
        username="mgr", role=Role.MANAGER, home_site=cast.sapporo, clients=[cast.coffee]
    )


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_pages_carry_a_strict_csp_and_are_not_stored(client, cast, coffee_case):
    client.force_login(cast.operator)
    response = client.get(reverse("case-detail", args=[coffee_case.pk]))
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.content.decode()
    assert "onchange=" not in body and "<script>" not in body and "style=" not in body


def test_the_login_page_works_and_logs_in_an_operator_without_2fa(client, cast):
    response = client.post(
        reverse("login"), {"username": "op_sapporo", "password": "pass-word-123"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("case-list")


def test_five_failures_lock_the_name_even_with_the_right_password(client, cast):
    for _ in range(5):
        client.post(reverse("login"), {"username": "op_sapporo", "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": "op_sapporo", "password": "pass-word-123"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        response = client.post(
            reverse("login"), {"username": "op_sapporo", "password": "pass-word-123"}
        )
        assert response.status_code == 302


def test_a_manager_must_enrol_and_pass_a_second_factor(client, manager):
    client.post(reverse("login"), {"username": "mgr", "password": "pass-word-123"})
    response = client.get(reverse("case-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor"))
    page = client.get(reverse("two-factor"))
    assert page.context["enrolling"]
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    assert client.post(reverse("two-factor"), {"token": "000000"}).status_code == 200
    # django-otp makes the next try wait a moment after a failure.
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=5)):
        response = client.post(reverse("two-factor"), {"token": _code(device), "next": "/cases/"})
        assert response.status_code == 302 and response["Location"] == "/cases/"
        assert client.get(reverse("case-list")).status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_a_client_approver_must_enrol_a_second_factor_too(client, cast):
    client.post(reverse("login"), {"username": "approver_coffee", "password": "pass-word-123"})
    response = client.get(reverse("portal-inquiries"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor"))


def test_an_enrolled_manager_is_asked_for_a_code_at_the_next_login(client, manager):
    device = TOTPDevice.objects.create(user=manager, name="app", confirmed=True)
    client.post(reverse("login"), {"username": "mgr", "password": "pass-word-123"})
    assert client.get(reverse("case-list")).status_code == 302
    assert not client.get(reverse("two-factor")).context["enrolling"]
    client.post(reverse("two-factor"), {"token": _code(device)})
    assert client.get(reverse("case-list")).status_code == 200


def test_the_admin_is_behind_the_second_factor_too(client, cast):
    admin = UserFactory(
        username="root", role=Role.ADMIN, home_site=cast.sapporo, is_staff=True, is_superuser=True
    )
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("two-factor"))


def test_an_idle_session_ends(client, cast):
    client.post(reverse("login"), {"username": "op_sapporo", "password": "pass-word-123"})
    assert client.get(reverse("case-list")).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=31)):
        response = client.get(reverse("case-list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_busy_session_still_ends_after_the_absolute_lifetime(client, cast):
    start = timezone.now()
    client.post(reverse("login"), {"username": "op_sapporo", "password": "pass-word-123"})
    for minutes in range(0, 12 * 60, 25):
        with time_machine.travel(start + dt.timedelta(minutes=minutes)):
            assert client.get(reverse("case-list")).status_code == 200
    with time_machine.travel(start + dt.timedelta(hours=12, minutes=5)):
        assert client.get(reverse("case-list")).status_code == 302


def test_disabling_an_account_ends_its_open_session_at_once(client, cast):
    client.post(reverse("login"), {"username": "op_sapporo", "password": "pass-word-123"})
    assert client.get(reverse("case-list")).status_code == 200
    type(cast.operator).objects.filter(pk=cast.operator.pk).update(is_active=False)
    response = client.get(reverse("case-list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_language_select_needs_post_and_ignores_foreign_redirects(client, cast):
    client.force_login(cast.operator)
    assert client.get(reverse("language-set")).status_code == 405
    response = client.post(
        reverse("language-set"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_oversized_bodies_are_refused(client, cast, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(cast.operator)
    response = client.post(reverse("language-set"), {"language": "x" * 5000})
    assert response.status_code == 400


def test_the_language_chosen_follows_the_person_to_another_workstation(client, cast):
    client.force_login(cast.operator)
    response = client.post(reverse("language-set"), {"language": "en", "next": "/desk/"})
    assert response["Location"] == "/desk/"
    cast.operator.refresh_from_db()
    assert cast.operator.language == "en"

    elsewhere = Client()  # no cookie from the first workstation
    elsewhere.force_login(cast.operator)
    body = elsewhere.get(reverse("desk")).content.decode()
    assert '<html lang="en">' in body
    elsewhere.post(reverse("language-set"), {"language": "ja"})
    assert '<html lang="ja">' in elsewhere.get(reverse("desk")).content.decode()
    cast.operator.refresh_from_db()
    assert cast.operator.language == "ja"
