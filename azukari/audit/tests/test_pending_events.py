"""Events not yet sealed are protected too: a row planted straight into the table is never
adopted into a chain and fails verification, an event left unsealed too long fails it, and a
deployment whose audit key is the secret key or the demo key is warned."""

import datetime as dt

import pytest
import time_machine
from django.core.checks import run_checks
from django.utils import timezone

from azukari.audit.models import AccessAction, AccessEvent
from azukari.audit.retention import retention_apply
from azukari.audit.services import audit_seal_all, named_staff_request_record, personal_data_access
from azukari.audit.verify import audit_verify
from azukari.testing.factories import CustomerFactory

pytestmark = pytest.mark.usefixtures("english")


def _problems(code: str = "coffee") -> set[str]:
    return {p.kind for p in audit_verify().problems if p.client == code}


def test_a_planted_pending_event_fails_verify_and_is_not_sealed(cast):
    customer = CustomerFactory(client=cast.coffee)
    personal_data_access(viewer=cast.operator, customers=[customer], fields=["name"])
    planted = AccessEvent.objects.create(
        client=cast.coffee,
        at=timezone.now(),
        actor=cast.sv,
        action=AccessAction.VIEW,
        customer_ref=customer.pk,
        fields=["name"],
        purpose="covering someone else's view",
    )
    assert "not_written_by_audit" in _problems()
    audit_seal_all()
    planted.refresh_from_db()
    assert planted.seq is None  # refused: left out of the chain
    genuine = AccessEvent.objects.exclude(pk=planted.pk).get()
    assert genuine.seq == 1
    assert "not_written_by_audit" in _problems()


def test_an_edited_pending_event_fails_verify_and_is_not_sealed(cast):
    customer = CustomerFactory(client=cast.coffee)
    personal_data_access(viewer=cast.operator, customers=[customer], fields=["name"])
    AccessEvent.objects.update(purpose="nothing to see")
    assert "not_written_by_audit" in _problems()
    assert sum(audit_seal_all().values()) == 0
    assert AccessEvent.objects.get().seq is None


def test_an_event_left_unsealed_too_long_fails_verify(cast, settings):
    settings.AZUKARI_AUDIT_PENDING_MINUTES = 10
    customer = CustomerFactory(client=cast.coffee)
    personal_data_access(viewer=cast.operator, customers=[customer], fields=["name"])
    assert _problems() == set()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        assert _problems() == {"pending_too_long"}
        audit_seal_all()
        assert _problems() == set()


def test_every_writer_of_the_audit_service_signs_its_rows(cast, coffee_case):
    named_staff_request_record(operator=cast.operator, client=cast.coffee, case=coffee_case)
    from azukari.audit.models import RetentionPolicy

    RetentionPolicy.objects.create(client=cast.coffee, audit_days=1)
    audit_seal_all()
    with time_machine.travel(timezone.now() + dt.timedelta(days=3)):
        retention_apply(client=cast.coffee, dry_run=False, source="schedule")
        erasures = AccessEvent.objects.filter(action=AccessAction.ERASE, seq__isnull=True)
        assert erasures.exists()
        audit_seal_all()
        assert not AccessEvent.objects.filter(seq__isnull=True).exists()
        assert _problems() == set()


def test_the_deploy_check_warns_when_the_audit_key_is_the_secret_key(settings):
    settings.SECRET_KEY = "a-long-random-secret-key-for-the-deployment-0123456789"
    settings.AZUKARI_AUDIT_KEY = settings.SECRET_KEY
    assert "azukari.W001" in {m.id for m in run_checks(include_deployment_checks=True)}
    settings.AZUKARI_AUDIT_KEY = "django-insecure-azukari-demo-key-change-me"
    assert "azukari.W001" in {m.id for m in run_checks(include_deployment_checks=True)}
    settings.AZUKARI_AUDIT_KEY = "audit-key-from-the-vault"
    assert "azukari.W001" not in {m.id for m in run_checks(include_deployment_checks=True)}
