"""The per-client hash chain: sealed by the worker, and any tampering found and located."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from azukari.audit.models import (
    AccessAction,
    AccessEvent,
    AuditCheckpoint,
    ChainHead,
    RetentionPolicy,
)
from azukari.audit.retention import retention_apply
from azukari.audit.services import audit_seal, audit_seal_all, personal_data_access
from azukari.audit.tasks import audit_seal_pending
from azukari.audit.verify import audit_verify
from azukari.core.errors import DomainError, NotVisible
from azukari.testing.factories import CustomerFactory

# Wording is compared in English; Japanese readers are covered where a test overrides it.
pytestmark = pytest.mark.usefixtures("english")


def _views(viewer, customers, n: int, purpose: str = "case") -> None:
    for i in range(n):
        personal_data_access(
            viewer=viewer,
            customers=customers,
            fields=["name", "phones"],
            purpose=f"{purpose}:{i}",
        )


@pytest.fixture
def chains(cast):
    """Ten sealed events for coffee and five for tea."""
    coffee_customer = CustomerFactory(client=cast.coffee)
    tea_customer = CustomerFactory(client=cast.tea)
    _views(cast.operator, [coffee_customer], 10)
    _views(cast.outsider, [tea_customer], 5)
    audit_seal_pending()
    return coffee_customer, tea_customer


def _event(client, seq: int) -> AccessEvent:
    return AccessEvent.objects.get(client=client, seq=seq)


def _problems_for(client_code: str):
    return [p for p in audit_verify().problems if p.client == client_code]


def test_appending_does_no_chain_work_and_the_worker_seals_each_client(cast):
    customer = CustomerFactory(client=cast.coffee)
    _views(cast.operator, [customer], 3)
    assert list(AccessEvent.objects.values_list("seq", "chain_hash")) == [(None, "")] * 3
    assert audit_seal_all() == {cast.coffee.pk: 3}
    assert list(
        AccessEvent.objects.filter(client=cast.coffee).order_by("seq").values_list("seq", flat=True)
    ) == [1, 2, 3]
    assert ChainHead.objects.get(client=cast.coffee).last_seq == 3
    assert AuditCheckpoint.objects.get(client=cast.coffee).last_seq == 3
    assert audit_verify().ok


def test_sealing_twice_changes_nothing(chains, cast):
    before = list(AccessEvent.objects.order_by("id").values_list("seq", "chain_hash"))
    assert audit_seal(client_id=cast.coffee.pk) == 0
    assert audit_seal_all() == {}
    assert list(AccessEvent.objects.order_by("id").values_list("seq", "chain_hash")) == before
    assert AuditCheckpoint.objects.filter(client=cast.coffee).count() == 1


def test_later_events_extend_the_chain_in_a_new_checkpoint(chains, cast):
    coffee_customer, _ = chains
    _views(cast.operator, [coffee_customer], 2, purpose="later")
    audit_seal_all()
    assert list(
        AuditCheckpoint.objects.filter(client=cast.coffee).values_list("first_seq", "last_seq")
    ) == [(1, 10), (11, 12)]
    assert _event(cast.coffee, 11).prev_hash == _event(cast.coffee, 10).chain_hash
    assert audit_verify().ok


def test_an_edited_event_is_found_where_it_is(chains, cast):
    AccessEvent.objects.filter(client=cast.coffee, seq=4).update(purpose="nothing to see")
    problems = _problems_for("coffee")
    assert [(p.seq, p.kind) for p in problems] == [(4, "edited")]
    assert _problems_for("tea") == []


def test_an_edit_with_a_recomputed_content_hash_breaks_the_keyed_link(chains, cast):
    from azukari.audit import chain

    event = _event(cast.coffee, 6)
    event.actor = cast.sv
    AccessEvent.objects.filter(pk=event.pk).update(
        actor=cast.sv, content_hash=chain.content_hash(event)
    )
    kinds = {(p.seq, p.kind) for p in _problems_for("coffee")}
    assert (6, "forged_link") in kinds


def test_a_deleted_event_is_found(chains, cast):
    _event(cast.coffee, 5).delete()
    problems = _problems_for("coffee")
    assert [(p.seq, p.kind) for p in problems] == [(5, "deleted")]
    assert "5–5" in problems[0].detail


def test_deleting_the_end_of_the_chain_is_found(chains, cast):
    AccessEvent.objects.filter(client=cast.coffee, seq__gte=9).delete()
    assert [(p.seq, p.kind) for p in _problems_for("coffee")] == [(9, "deleted")]


def test_an_inserted_event_is_found(chains, cast):
    for seq in range(10, 6, -1):  # make room at 7, from the end to keep seq unique
        AccessEvent.objects.filter(client=cast.coffee, seq=seq).update(seq=seq + 1)
    before = _event(cast.coffee, 6)
    AccessEvent.objects.create(
        client=cast.coffee,
        at=before.at,
        actor=cast.sv,
        action=AccessAction.VIEW,
        customer_ref=before.customer_ref,
        fields=["name"],
        purpose="planted",
        seq=7,
        content_hash="0" * 64,
        prev_hash=before.chain_hash,
        chain_hash="1" * 64,
    )
    kinds = {(p.seq, p.kind) for p in _problems_for("coffee")}
    assert (7, "edited") in kinds
    assert (7, "forged_link") in kinds
    assert (8, "inserted_or_reordered") in kinds


def test_reordered_events_are_found(chains, cast):
    a, b = _event(cast.coffee, 3), _event(cast.coffee, 7)
    AccessEvent.objects.filter(pk=a.pk).update(seq=1000)
    AccessEvent.objects.filter(pk=b.pk).update(seq=3)
    AccessEvent.objects.filter(pk=a.pk).update(seq=7)
    seqs = {p.seq for p in _problems_for("coffee")}
    assert {3, 7} <= seqs
    assert _problems_for("tea") == []


def test_the_verify_command_says_where_and_fails(chains, cast, capsys):
    call_command("audit", "verify", "--client", "tea")
    assert "All chains verify." in capsys.readouterr().out
    AccessEvent.objects.filter(client=cast.tea, seq=2).update(ip="10.0.0.99")
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--client", "tea")
    err = capsys.readouterr().err
    assert "[tea] seq 2" in err and "edited" in err


def test_retention_erasure_keeps_the_chain_verifiable(cast):
    customer = CustomerFactory(client=cast.coffee)
    with time_machine.travel(timezone.now() - dt.timedelta(days=400), tick=False):
        _views(cast.operator, [customer], 3, purpose="old")
    _views(cast.operator, [customer], 2, purpose="recent")
    audit_seal_all()
    RetentionPolicy.objects.create(client=cast.coffee, audit_days=365)
    assert retention_apply(client=cast.coffee, dry_run=True).audit_events == 3
    assert AccessEvent.objects.filter(erased_at__isnull=False).count() == 0
    result = retention_apply(client=cast.coffee, dry_run=False, source="schedule")
    assert result.audit_events == 3
    erased = AccessEvent.objects.filter(client=cast.coffee, erased_at__isnull=False)
    assert erased.count() == 3
    assert set(erased.values_list("purpose", "actor", "customer_ref", "ip")) == {
        ("", None, None, None)
    }
    audit_seal_all()  # the erasure itself is chained
    report = audit_verify(client=cast.coffee)
    assert report.ok, report.problems
    assert report.results[0].tombstones == 3


def test_blanking_an_event_without_a_retention_run_is_found(chains, cast):
    AccessEvent.objects.filter(client=cast.coffee, seq=2).update(
        erased_at=timezone.now(), purpose="", actor=None, customer_ref=None, ip=None, fields=[]
    )
    assert [(p.seq, p.kind) for p in _problems_for("coffee")] == [(2, "bad_tombstone")]


def test_recording_refuses_another_clients_customer_and_empty_fields(cast):
    tea_customer = CustomerFactory(client=cast.tea)
    with pytest.raises(NotVisible):
        personal_data_access(viewer=cast.operator, customers=[tea_customer], fields=["name"])
    with pytest.raises(DomainError) as exc:
        personal_data_access(viewer=cast.operator, customers=[], fields=[])
    assert exc.value.field == "fields"
    assert AccessEvent.objects.count() == 0


def test_who_saw_lists_every_access_to_one_customer(chains, cast, capsys):
    coffee_customer, _ = chains
    call_command("audit", "who-saw", coffee_customer.customer_number, "--client", "coffee")
    out = capsys.readouterr().out
    assert out.count("op_sapporo") == 10
    assert "10 access event(s)." in out
    assert "op_tea" not in out
