"""The second factor for every role that reads personal data in bulk (on in production), and a
first authenticator enrolled only with a code an administrator issued."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from azukari.core.errors import NotVisible, PermissionRefused
from azukari.org.auth import two_factor_required
from azukari.org.enrolment import two_factor_enrolment_issue
from azukari.org.models import Role
from azukari.testing.factories import UserFactory


@pytest.fixture(autouse=True)
def _read_in_english(cast):
    """Pages speak each person's own language: these tests read English."""
    cast.operator.language = "en"
    cast.operator.save(update_fields=["language"])


@pytest.fixture
def strict(settings):
    settings.AZUKARI_TWO_FACTOR_FOR_BULK_READERS = True
    settings.AZUKARI_TWO_FACTOR_ENROLMENT_ISSUED = True
    return settings


@pytest.fixture
def coffee_admin(cast):
    person = UserFactory(
        username="adm_coffee", role=Role.ADMIN, home_site=cast.sapporo, clients=[cast.coffee]
    )
    person.is_staff = True
    person.language = "en"
    person.save(update_fields=["is_staff", "language"])
    person.user_permissions.set(
        Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    return person


def _code_now(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_operators_and_svs_need_a_second_factor_when_the_deployment_says_so(client, cast, settings):
    settings.AZUKARI_TWO_FACTOR_FOR_BULK_READERS = False
    assert not two_factor_required(cast.operator) and not two_factor_required(cast.desk)
    settings.AZUKARI_TWO_FACTOR_FOR_BULK_READERS = True
    for person in (cast.operator, cast.sv, cast.desk, cast.approver):
        assert two_factor_required(person), person.role
    client.force_login(cast.operator)
    response = client.get(reverse("case-list"))
    assert response.status_code == 302 and response.url.startswith(reverse("two-factor"))


def test_a_password_alone_cannot_enrol_a_first_authenticator(client, cast, strict, english):
    client.force_login(cast.operator)
    page = client.get(reverse("two-factor"))
    assert "enrolment code" in page.content.decode()
    assert "secret" not in page.context or page.context.get("secret") is None
    assert not TOTPDevice.objects.filter(user=cast.operator).exists()
    refused = client.post(reverse("two-factor"), {"code": "WRONGCODE1"})
    assert refused.status_code == 400
    assert "not valid" in refused.content.decode()
    assert not TOTPDevice.objects.filter(user=cast.operator).exists()


def test_an_issued_code_lets_the_person_enrol_once(client, cast, strict, coffee_admin, english):
    code = two_factor_enrolment_issue(actor=coffee_admin, user=cast.operator)
    client.force_login(cast.operator)
    accepted = client.post(reverse("two-factor"), {"code": code.lower()})
    assert accepted.status_code == 302
    page = client.get(reverse("two-factor"))
    assert page.context["secret"]
    device = TOTPDevice.objects.get(user=cast.operator)
    done = client.post(reverse("two-factor"), {"token": _code_now(device)}, follow=True)
    assert "Your authenticator app is enrolled." in done.content.decode()
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    # The code is used up: another session with the same password finds nothing to redeem.
    other = type(client)()
    other.force_login(cast.operator)
    TOTPDevice.objects.all().delete()
    assert other.post(reverse("two-factor"), {"code": code}).status_code == 400


def test_only_an_administrator_of_the_persons_clients_issues_codes(cast, coffee_admin):
    with pytest.raises(PermissionRefused):
        two_factor_enrolment_issue(actor=cast.desk, user=cast.operator)
    with pytest.raises(NotVisible):
        two_factor_enrolment_issue(actor=coffee_admin, user=cast.outsider)


def test_the_admin_issues_a_code_from_the_user_list(client, cast, coffee_admin, english):
    client.force_login(coffee_admin)
    device = TOTPDevice.objects.create(user=coffee_admin, name="app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    response = client.post(
        "/admin/org/user/",
        {"action": "issue_enrolment_code", "_selected_action": [cast.operator.pk]},
        follow=True,
    )
    assert "Enrolment code for op_sapporo" in response.content.decode()
