"""Retention: erase or anonymise personal data past the client's periods, audited.

Audit events past their period become tombstones (content blanked, hashes kept) so the chain
still verifies; customers inactive past their period are anonymised in place, so every record
that refers to them (cases, contacts, decisions) stays and names no one.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from azukari.audit.models import AccessAction, AccessEvent, RetentionPolicy, RetentionRun
from azukari.audit.services import access_events_signed, audit_seal
from azukari.audit.verify import ERASED_BLANK
from azukari.cases.models import AZUKARI_STATES, CaseState, Contact
from azukari.customers.models import Customer, CustomerPhone
from azukari.org.models import Client, User
from azukari.subscriptions.models import Subscription, SubscriptionStatus

ERASED_NAME = "(erased)"


@dataclass(frozen=True)
class RetentionResult:
    client: str
    dry_run: bool
    audit_events: int
    customers: int
    run_id: int | None


def _customers_due(client: Client, cutoff: dt.datetime):
    """Customers with nothing open and no activity since the cutoff."""
    live_cases = Q(cases__state__in=[*AZUKARI_STATES, CaseState.OPEN])
    return (
        Customer.objects.filter(client=client, updated_at__lt=cutoff)
        .exclude(family_name=ERASED_NAME)
        .exclude(live_cases)
        .exclude(
            pk__in=Subscription.objects.filter(client=client)
            .exclude(status=SubscriptionStatus.CANCELLED)
            .values("customer_id")
        )
        .annotate(last_contact=Max("contacts__started_at"))
        .filter(Q(last_contact__isnull=True) | Q(last_contact__lt=cutoff))
    )


@transaction.atomic
def retention_apply(
    *,
    client: Client,
    dry_run: bool = True,
    by: User | None = None,
    now: dt.datetime | None = None,
) -> RetentionResult:
    """Applies `client`'s retention policy. With `dry_run` it only counts what it would do."""
    now = now or timezone.now()
    policy = RetentionPolicy.objects.filter(client=client).first()
    audit_cutoff = customer_cutoff = None
    if policy is not None and policy.audit_days:
        audit_cutoff = now - dt.timedelta(days=policy.audit_days)
    if policy is not None and policy.customer_inactive_days:
        customer_cutoff = now - dt.timedelta(days=policy.customer_inactive_days)
    if not dry_run:
        # Only sealed events become tombstones: seal whatever is pending first.
        while audit_seal(client_id=client.pk):
            pass
    events = AccessEvent.objects.none()
    if audit_cutoff is not None:
        events = AccessEvent.objects.filter(
            client=client, at__lt=audit_cutoff, erased_at__isnull=True
        )
        if not dry_run:
            events = events.filter(seq__isnull=False)
    customer_ids: list[int] = []
    if customer_cutoff is not None:
        customer_ids = list(_customers_due(client, customer_cutoff).values_list("pk", flat=True))
    event_count = events.count()
    if dry_run:
        return RetentionResult(client.code, True, event_count, len(customer_ids), None)
    run = RetentionRun.objects.create(
        client=client,
        ran_at=now,
        ran_by=by,
        audit_cutoff=audit_cutoff,
        customer_cutoff=customer_cutoff,
        audit_events_erased=event_count,
        customers_anonymised=len(customer_ids),
    )
    if event_count:
        events.update(erased_at=now, erased_by=run, **ERASED_BLANK)
    if customer_ids:
        _anonymise(customer_ids)
    signed = access_events_signed(
        [
            AccessEvent(
                client=client,
                at=now,
                actor=by,
                action=AccessAction.ERASE,
                customer_ref=pk,
                object_type="retention_run",
                object_ref=str(run.pk),
                fields=["customer"],
                purpose="retention",
            )
            for pk in customer_ids
        ]
        + [
            AccessEvent(
                client=client,
                at=now,
                actor=by,
                action=AccessAction.ERASE,
                object_type="retention_run",
                object_ref=str(run.pk),
                fields=["audit"],
                purpose="retention",
                count=event_count,
            )
        ]
    )
    AccessEvent.objects.bulk_create(signed)
    return RetentionResult(client.code, False, event_count, len(customer_ids), run.pk)


def _anonymise(customer_ids: list[int]) -> None:
    for pk in customer_ids:
        Customer.objects.filter(pk=pk).update(
            customer_number=f"ERASED-{pk}",
            family_name=ERASED_NAME,
            given_name="",
            family_name_kana="",
            given_name_kana="",
            postcode="",
            address="",
            email="",
            harassment_note="",
            search_text="",
            call_windows=[],
            days_off=[],
            updated_at=timezone.now(),
        )
    CustomerPhone.objects.filter(customer_id__in=customer_ids).delete()
    Contact.objects.filter(customer_id__in=customer_ids).update(caller_number="")
