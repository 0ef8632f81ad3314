"""Retention of customers and the access review (incidents: `test_incidents.py`)."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from azukari.audit.models import AccessAction, AccessEvent, RetentionPolicy
from azukari.audit.retention import ERASED_NAME, retention_apply
from azukari.audit.selectors import access_review, who_saw
from azukari.audit.services import audit_seal_all, personal_data_access
from azukari.audit.verify import audit_verify
from azukari.customers.models import Customer, CustomerPhone
from azukari.org.models import Role
from azukari.org.staff import staff_mark_left
from azukari.testing.factories import CustomerFactory, UserFactory

# Wording is compared in English; Japanese readers are covered where a test overrides it.
pytestmark = pytest.mark.usefixtures("english")

NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def manager(cast):
    return UserFactory(
        username="mgr",
        role=Role.MANAGER,
        home_site=cast.sapporo,
        clients=[cast.coffee],
        email="mgr@center.example",
    )


def test_retention_dry_run_counts_and_apply_anonymises_inactive_customers(cast, capsys, manager):
    with time_machine.travel(timezone.now() - dt.timedelta(days=800), tick=False):
        old = CustomerFactory(client=cast.coffee, phones=["+819055556666"])
    recent = CustomerFactory(client=cast.coffee, phones=["+819077778888"])
    RetentionPolicy.objects.create(client=cast.coffee, customer_inactive_days=730)
    call_command("retention", "apply", "--client", "coffee", "--dry-run")
    assert "would anonymise 1 customers" in capsys.readouterr().out
    assert Customer.objects.get(pk=old.pk).family_name == "山田"
    result = retention_apply(client=cast.coffee, dry_run=False, by=manager)
    assert result.customers == 1
    erased = Customer.objects.get(pk=old.pk)
    assert (erased.family_name, erased.address, erased.postcode) == (ERASED_NAME, "", "")
    assert not CustomerPhone.objects.filter(customer=old).exists()
    assert Customer.objects.get(pk=recent.pk).family_name == "山田"
    # The erasure itself is in the audit, and the chain still verifies.
    assert who_saw(customer_id=old.pk).filter(action=AccessAction.ERASE).count() == 1
    audit_seal_all()
    assert audit_verify(client=cast.coffee).ok


def test_the_access_review_flags_bulk_viewers_unused_access_and_leavers(cast, manager):
    customers = [CustomerFactory(client=cast.coffee) for _ in range(3)]
    personal_data_access(viewer=cast.desk, customers=customers, fields=["name"])
    personal_data_access(
        viewer=cast.sv, customers=customers[:1], fields=["name"], action=AccessAction.EXPORT
    )
    staff_mark_left(staff=cast.operator, left_on=timezone.localdate(), by=manager)
    rows = {r.user.username: r for r in access_review(client=cast.coffee)}
    assert rows["desk_sapporo"].customers_seen == 3
    assert "bulk" in rows["sv_osaka"].flags
    assert "left" in rows["op_sapporo"].flags and "left_still_assigned" in rows["op_sapporo"].flags
    assert "unused" in rows["desk_sapporo"].flags  # never logged in
    assert "op_tea" not in rows


def test_the_access_review_command_prints_one_line_per_person(cast, capsys):
    call_command("audit", "access-review", "--client", "coffee")
    out = capsys.readouterr().out
    assert "op_sapporo" in out and "approver_coffee" in out and "op_tea" not in out
    assert AccessEvent.objects.count() == 0
