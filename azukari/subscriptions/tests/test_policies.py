"""Policies as versioned data: validated, loadable from a file, editable in the admin."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from azukari.core.errors import DomainError
from azukari.org.models import Role
from azukari.subscriptions.models import ExceptionGround, PolicyVersion
from azukari.subscriptions.services import (
    PolicyInvalid,
    policy_load,
    policy_version_create,
    version_spec_of,
)
from azukari.subscriptions.services.cancellations import cancellation_request_record
from azukari.subscriptions.tests.factories import cancellation_call, coffee_policy_data
from azukari.testing.factories import UserFactory

# Wording is compared in English; Japanese readers are covered where a test overrides it.
pytestmark = pytest.mark.usefixtures("english")

POLICY_TOML = """
[policy]
code = "standard"
name = "Machine with beans"

[[versions]]
effective_from = 2024-01-01
min_deliveries = 3
device_list_price_yen = 19800
device_price_paid_yen = 4980
charge_method = "pro_rata"
decision_limit_days = 10

[[versions.grounds]]
code = "defect"
approval = "sv"

[[versions.grounds]]
code = "pet_allergy"
label = "Allergy in the household"
approval = "client"
fee_waived_percent = 50

[[versions]]
effective_from = 2027-01-01
min_deliveries = 2
device_list_price_yen = 19800
device_price_paid_yen = 4980
charge_method = "fixed"
fixed_fee_yen = 5000

[[versions.grounds]]
code = "defect"
approval = "operator"
"""


def _problems(cast, **overrides) -> list[str]:
    with pytest.raises(PolicyInvalid) as err:
        policy_load(client=cast.coffee, data=coffee_policy_data(**overrides))
    return [message for _field, message in err.value.problems]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"charge_method": "fixed", "fixed_fee_yen": 20000},
            "The fee (20,000 yen) is more than the device subsidy it recovers (14,820 yen).",
        ),
        (
            {"device_price_paid_yen": 25000},
            "The price paid for the device cannot be above its list price.",
        ),
        (
            {"fixed_fee_yen": 1000},
            "A fixed fee is set, but the subsidy is not charged as a fixed fee.",
        ),
        (
            {"min_deliveries": 0},
            "A device subsidy is charged, but there is no minimum number of deliveries to "
            "recover it over.",
        ),
        (
            {"charge_method": "none"},
            "Exception grounds are listed, but this policy never charges a fee, so no exception "
            "could ever be needed.",
        ),
        (
            {
                "grounds": [
                    {"code": "defect", "approval": "sv"},
                    {"code": "defect", "approval": "sv"},
                ]
            },
            "The ground “defect” is listed twice.",
        ),
        (
            {"grounds": [{"code": "defect", "approval": "sv", "fee_waived_percent": 0}]},
            "The ground “defect” must waive between 1 and 100 percent of the fee; a ground that "
            "waives nothing grants nothing.",
        ),
        (
            {"grounds": [{"code": "pet", "approval": "sv"}]},
            "The client-defined ground “pet” needs a label.",
        ),
        (
            {"grounds": [{"code": "defect", "approval": "boss"}]},
            "The ground “defect” needs an approval level: operator, sv, client.",
        ),
    ],
)
def test_a_policy_that_contradicts_itself_is_refused_with_the_reason(cast, overrides, expected):
    assert expected in _problems(cast, **overrides)
    assert not PolicyVersion.objects.exists()


def test_policy_file_loads_versions_and_reloading_changes_nothing(cast, tmp_path):
    path = tmp_path / "coffee.toml"
    path.write_text(POLICY_TOML, encoding="utf-8")
    out = io.StringIO()
    call_command("policy", "load", str(path), "--client", "coffee", stdout=out)
    assert "2 version(s) added" in out.getvalue()
    first, second = PolicyVersion.objects.order_by("effective_from")
    assert (first.number, first.min_deliveries, first.device_subsidy_yen) == (1, 3, 14820)
    assert (second.number, second.charge_method, second.fixed_fee_yen) == (2, "fixed", 5000)
    assert set(first.grounds.values_list("code", "approval_level")) == {
        ("defect", "sv"),
        ("pet_allergy", "client"),
    }
    out = io.StringIO()
    call_command("policy", "load", str(path), "--client", "coffee", stdout=out)
    assert "0 version(s) added, 0 corrected, 2 unchanged" in out.getvalue()


def test_policy_file_in_yaml_loads_the_same_versions_as_toml(cast, tmp_path):
    import tomllib

    import yaml

    toml_path = tmp_path / "coffee.toml"
    toml_path.write_text(POLICY_TOML, encoding="utf-8")
    yaml_path = tmp_path / "coffee.yaml"
    yaml_path.write_text(
        yaml.safe_dump(tomllib.loads(POLICY_TOML), allow_unicode=True), encoding="utf-8"
    )
    call_command("policy", "load", str(yaml_path), "--client", "coffee", stdout=io.StringIO())
    assert PolicyVersion.objects.count() == 2
    assert set(
        ExceptionGround.objects.values_list("version__effective_from", "code", "approval_level")
    ) == {
        (dt.date(2024, 1, 1), "defect", "sv"),
        (dt.date(2024, 1, 1), "pet_allergy", "client"),
        (dt.date(2027, 1, 1), "defect", "operator"),
    }
    out = io.StringIO()
    call_command("policy", "load", str(toml_path), "--client", "coffee", stdout=out)
    assert "0 version(s) added, 0 corrected, 2 unchanged" in out.getvalue()


def test_policy_file_with_a_contradiction_loads_nothing(cast, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(POLICY_TOML.replace("fixed_fee_yen = 5000", "fixed_fee_yen = 15000"))
    with pytest.raises(CommandError) as err:
        call_command("policy", "load", str(path), "--client", "coffee")
    assert "versions[1].fixed_fee_yen" in str(err.value)
    assert "more than the device subsidy" in str(err.value)
    assert not PolicyVersion.objects.exists()


def test_a_used_version_is_frozen_and_new_versions_cannot_be_retroactive(
    cast, subscription, first_call
):
    case = cancellation_call(actor=cast.operator, subscription=subscription)
    cancellation_request_record(actor=cast.operator, case=case)
    changed = coffee_policy_data(min_deliveries=2)
    with pytest.raises(DomainError) as err:
        policy_load(client=cast.coffee, data=changed)
    assert "cannot change" in str(err.value)
    version = PolicyVersion.objects.get()
    assert version.min_deliveries == 3
    spec = version_spec_of(version)
    with pytest.raises(DomainError) as err:
        policy_version_create(
            policy=version.policy,
            spec=spec.__class__(**{**spec.__dict__, "effective_from": dt.date(2026, 10, 1)}),
        )
    assert err.value.field == "effective_from"
    later = policy_version_create(
        policy=version.policy,
        spec=spec.__class__(**{**spec.__dict__, "effective_from": dt.date(2026, 10, 21)}),
    )
    assert later.number == 2


@pytest.fixture
def manager(cast):
    return UserFactory(
        username="manager_policy",
        role=Role.MANAGER,
        home_site=cast.sapporo,
        clients=[cast.coffee],
        is_staff=True,
        is_superuser=True,
        language="en",
    )


def _admin_form(policy, **overrides) -> dict:
    form = {
        "policy": policy.pk,
        "effective_from": "2027-04-01",
        "note": "",
        "min_deliveries": 3,
        "device_list_price_yen": 19800,
        "device_price_paid_yen": 4980,
        "charge_method": "fixed",
        "fixed_fee_yen": 3000,
        "notice_days": 0,
        "decision_limit_days": 7,
        "grounds-TOTAL_FORMS": 1,
        "grounds-INITIAL_FORMS": 0,
        "grounds-0-code": "defect",
        "grounds-0-label": "",
        "grounds-0-approval_level": "sv",
        "grounds-0-fee_waived_percent": 100,
    }
    form.update(overrides)
    return form


def _pass_second_factor(client, user) -> None:
    """Log in as the admin does: password, then the one-time code of an enrolled device."""
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(user)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    client.post(reverse("two-factor"), {"token": code})


def test_admin_adds_a_version_and_refuses_a_contradiction(client, cast, policy, manager):
    _pass_second_factor(client, manager)
    url = reverse("admin:subscriptions_policyversion_add")
    assert client.get(url).status_code == 200
    response = client.post(url, _admin_form(policy, fixed_fee_yen=30000))
    assert response.status_code == 200
    assert "more than the device subsidy it recovers" in response.content.decode()
    assert PolicyVersion.objects.count() == 1

    response = client.post(url, _admin_form(policy))
    assert response.status_code == 302
    version = PolicyVersion.objects.get(effective_from=dt.date(2027, 4, 1))
    assert (version.number, version.fixed_fee_yen, version.created_by) == (2, 3000, manager)
    assert ExceptionGround.objects.get(version=version).approval_level == "sv"
