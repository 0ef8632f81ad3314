"""Retention: erase or anonymise personal data past the client's periods, audited.

Audit events past their period become tombstones (content blanked, hashes kept) so the chain
still verifies; customers inactive past their period are anonymised in place, so every record
that refers to them (cases, contacts, decisions) stays and names no one: their name, phones,
e-mail and address are also scrubbed out of every free text tied to them (`TEXTS`). What a
pattern cannot find is listed for a person (`retention_review`), who redacts it or marks it
clean. Each client's policy says when the worker applies it (`retention_schedule_sync`).
"""

import datetime as dt
import hashlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from azukari.audit.models import (
    AccessAction,
    AccessEvent,
    RetentionFrequency,
    RetentionPolicy,
    RetentionReviewMark,
    RetentionRun,
    RetentionSource,
)
from azukari.audit.scrub import PersonalData, review_flags, scrub, scrub_json, scrubber
from azukari.audit.services import access_events_signed, audit_seal
from azukari.audit.verify import ERASED_BLANK
from azukari.cases.models import AZUKARI_STATES, CaseState, Contact
from azukari.core.errors import DomainError, NotVisible
from azukari.customers.models import Customer, CustomerPhone
from azukari.org.models import Client, User
from azukari.org.permissions import Cap, require
from azukari.subscriptions.models import Subscription, SubscriptionStatus

ERASED_NAME = "(erased)"


@dataclass(frozen=True)
class RetentionResult:
    client: str
    dry_run: bool
    audit_events: int
    customers: int
    run_id: int | None
    texts: int = 0


@dataclass(frozen=True)
class FreeText:
    """Free-text fields of a record tied to a customer, and the paths to that customer."""

    model: str
    customer_paths: tuple[str, ...]
    fields: tuple[str, ...]
    json_fields: tuple[str, ...] = ()


# Every free text written about a customer: what was said on calls, case subjects, outcomes and
# notes, inquiries and answers, cancellation and exception texts, notes at the end of a call.
TEXTS: tuple[FreeText, ...] = (
    FreeText(
        "cases.Contact",
        ("customer_id", "case__customer_id"),
        ("summary", "reason", "identity_method"),
    ),
    FreeText("cases.Case", ("customer_id",), ("subject", "outcome")),
    FreeText("cases.CaseEvent", ("case__customer_id",), ("note",), ("data",)),
    FreeText("cases.Inquiry", ("case__customer_id",), ("question", "answer_note")),
    FreeText("subscriptions.CancellationRequest", ("case__customer_id",), ("withdrawal_note",)),
    FreeText(
        "subscriptions.ExceptionRequest",
        ("request__case__customer_id",),
        ("reason", "approver_reason"),
    ),
    FreeText("subscriptions.CancellationDecision", ("request__case__customer_id",), ("note",)),
    FreeText("subscriptions.CancellationDisclosure", ("request__case__customer_id",), ("text",)),
    FreeText("floor.CallEnding", ("contact__customer_id", "contact__case__customer_id"), ("note",)),
    FreeText("audit.NamedStaffRequest", ("case__customer_id", "contact__customer_id"), ("note",)),
    # What was queued for the client's systems about the subscription.
    FreeText("subscriptions.ClientEvent", ("subscription__customer_id",), (), ("payload",)),
)


def _model(text: FreeText) -> type[models.Model]:
    return apps.get_model(text.model)


def _require(person: User, client: Client) -> None:
    """Retention is applied and reviewed by managers, for the clients they serve."""
    require(person, Cap.RETENTION_APPLY)
    if not person.is_superuser and client.pk not in person.visible_client_ids():
        raise NotVisible(_("No client with code “%(code)s”.") % {"code": client.code})


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
    source: str = RetentionSource.COMMAND,
    now: dt.datetime | None = None,
) -> RetentionResult:
    """Applies `client`'s retention policy. With `dry_run` it only counts what it would do.

    A run acts for `by`, who must be allowed to apply retention; only a scheduled run has no
    one, and its `source` says so."""
    if by is not None:
        _require(by, client)
    elif not dry_run and source != RetentionSource.SCHEDULE:
        raise DomainError(_("Say whom the retention run acts for."), field="by")
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
        source=source,
        audit_cutoff=audit_cutoff,
        customer_cutoff=customer_cutoff,
        audit_events_erased=event_count,
        customers_anonymised=len(customer_ids),
    )
    if event_count:
        events.update(erased_at=now, erased_by=run, **ERASED_BLANK)
    texts = 0
    if customer_ids:
        texts = _scrub_texts(_personal_data(customer_ids))
        _anonymise(customer_ids)
        RetentionRun.objects.filter(pk=run.pk).update(texts_scrubbed=texts)
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
                fields=["customer", "texts"],
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
    return RetentionResult(client.code, False, event_count, len(customer_ids), run.pk, texts)


def _personal_data(customer_ids: list[int]) -> dict[int, PersonalData]:
    """What each customer's texts may hold: names, every number they called from, e-mail,
    address; read before the customer row is anonymised."""
    phones: dict[int, set[str]] = {pk: set() for pk in customer_ids}
    for pk, number in CustomerPhone.all_rows.filter(customer_id__in=customer_ids).values_list(
        "customer_id", "number"
    ):
        phones[pk].add(number)
    for pk, number in (
        Contact.objects.filter(customer_id__in=customer_ids)
        .exclude(caller_number="")
        .values_list("customer_id", "caller_number")
    ):
        phones[pk].add(number)
    return {
        c.pk: PersonalData(
            names=((c.family_name, c.given_name), (c.family_name_kana, c.given_name_kana)),
            phones=tuple(sorted(phones[c.pk])),
            email=c.email,
            address=c.address,
            postcode=c.postcode,
            customer_number=c.customer_number,
        )
        for c in Customer.all_rows.filter(pk__in=customer_ids)
    }


def _scrub_texts(people: dict[int, PersonalData]) -> int:
    """Scrubs every free text tied to these customers; returns how many fields changed."""
    patterns = {pk: scrubber(data) for pk, data in people.items()}
    ids = list(patterns)
    changed = 0
    for text in TEXTS:
        model = _model(text)
        for path in text.customer_paths:
            for i in range(0, len(ids), 500):
                rows = model._base_manager.filter(**{f"{path}__in": ids[i : i + 500]})
                for row in rows.values("pk", path, *text.fields, *text.json_fields).iterator():
                    pattern = patterns[row[path]]
                    update = {f: scrub(row[f], pattern) for f in text.fields}
                    update |= {f: scrub_json(row[f], pattern) for f in text.json_fields}
                    update = {f: v for f, v in update.items() if v != row[f]}
                    if update:
                        model._base_manager.filter(pk=row["pk"]).update(**update)
                        changed += len(update)
    return changed


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
            birth_date=None,
            harassment_note="",
            search_text="",
            call_windows=[],
            days_off=[],
            updated_at=timezone.now(),
        )
    CustomerPhone.objects.filter(customer_id__in=customer_ids).delete()
    Contact.objects.filter(customer_id__in=customer_ids).update(caller_number="")


@dataclass(frozen=True)
class ReviewItem:
    """A text of an erased customer that still looks personal, for a person to read."""

    object_type: str
    object_id: int
    field: str
    text: str
    flags: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.object_type}:{self.object_id}:{self.field}"


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def retention_review(*, viewer: User, client: Client, limit: int = 200) -> list[ReviewItem]:
    """Texts of `client`'s erased customers that still hold digits like a phone number, an at
    sign or a name with an honorific, leaving out those a person marked clean as they are."""
    _require(viewer, client)
    erased = Customer.all_rows.filter(client=client, family_name=ERASED_NAME).values("pk")
    marks = {
        (m.object_type, m.object_id, m.field): m.text_hash
        for m in RetentionReviewMark.objects.filter(client=client)
    }
    items: list[ReviewItem] = []
    for text in TEXTS:
        model = _model(text)
        where = Q()
        for path in text.customer_paths:
            where |= Q(**{f"{path}__in": erased})
        rows = model._base_manager.filter(where).distinct().order_by("pk")
        for row in rows.values("pk", *text.fields).iterator():
            for field in text.fields:
                value = row[field] or ""
                flags = review_flags(value) if value else []
                if not flags or marks.get((text.model, row["pk"], field)) == _text_hash(value):
                    continue
                items.append(ReviewItem(text.model, row["pk"], field, value, tuple(flags)))
                if len(items) >= limit:
                    return items
    return items


def _review_target(client: Client, object_type: str, object_id: int, field: str):
    """The row and field named by a review item, if it is a text of an erased customer of
    `client`; anything else is refused as unknown."""
    text = next((t for t in TEXTS if t.model == object_type), None)
    if text is None or field not in text.fields:
        raise DomainError(_("This is not a text on the review list."), field="item")
    erased = Customer.all_rows.filter(client=client, family_name=ERASED_NAME).values("pk")
    where = Q()
    for path in text.customer_paths:
        where |= Q(**{f"{path}__in": erased})
    model = _model(text)
    row = model._base_manager.filter(where, pk=object_id).distinct().first()
    if row is None:
        raise DomainError(_("This is not a text on the review list."), field="item")
    return model, row


def _review_event(*, client: Client, by: User, object_type: str, object_id: int, field: str):
    AccessEvent.objects.bulk_create(
        access_events_signed(
            [
                AccessEvent(
                    client=client,
                    at=timezone.now(),
                    actor=by,
                    action=AccessAction.ERASE,
                    object_type=object_type,
                    object_ref=str(object_id),
                    fields=[field],
                    purpose="retention review",
                )
            ]
        )
    )


@transaction.atomic
def retention_text_redact(
    *, by: User, client: Client, object_type: str, object_id: int, field: str, text: str
) -> None:
    """Replaces a reviewed text with the person's redacted version; audited."""
    _require(by, client)
    model, row = _review_target(client, object_type, object_id, field)
    model._base_manager.filter(pk=row.pk).update(**{field: text})
    RetentionReviewMark.objects.update_or_create(
        client=client,
        object_type=object_type,
        object_id=object_id,
        field=field,
        defaults={"text_hash": _text_hash(text), "reviewed_by": by, "reviewed_at": timezone.now()},
    )
    _review_event(client=client, by=by, object_type=object_type, object_id=object_id, field=field)


@transaction.atomic
def retention_text_mark_clean(
    *, by: User, client: Client, object_type: str, object_id: int, field: str
) -> None:
    """A person read the text and found nothing personal: it leaves the list until it changes."""
    _require(by, client)
    row = _review_target(client, object_type, object_id, field)[1]
    RetentionReviewMark.objects.update_or_create(
        client=client,
        object_type=object_type,
        object_id=object_id,
        field=field,
        defaults={
            "text_hash": _text_hash(getattr(row, field) or ""),
            "reviewed_by": by,
            "reviewed_at": timezone.now(),
        },
    )


SCHEDULE_TYPES = {
    RetentionFrequency.DAILY: "D",
    RetentionFrequency.WEEKLY: "W",
    RetentionFrequency.MONTHLY: "M",
}


def schedule_name(client: Client) -> str:
    return f"retention: {client.code}"


def retention_schedule_sync(*, policy: RetentionPolicy) -> None:
    """The worker's schedule for this client's policy: at its time, as often as it says, or
    none when it is applied by hand only."""
    from django_q.models import Schedule

    name = schedule_name(policy.client)
    kind = SCHEDULE_TYPES.get(policy.run_every)
    if kind is None:
        Schedule.objects.filter(name=name).delete()
        return
    zone = ZoneInfo(settings.TIME_ZONE)
    now = timezone.now().astimezone(zone)
    next_run = dt.datetime.combine(now.date(), policy.run_at, tzinfo=zone)
    if next_run <= now:
        next_run += dt.timedelta(days=1)
    Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": "azukari.audit.tasks.retention_scheduled",
            "args": repr(policy.client_id),
            "schedule_type": kind,
            "repeats": -1,
            "next_run": next_run,
        },
    )


@transaction.atomic
def retention_policy_set(
    *,
    by: User,
    client: Client,
    customer_inactive_days: int | None,
    audit_days: int | None,
    run_every: str = RetentionFrequency.NEVER,
    run_at: dt.time = dt.time(3, 0),
) -> RetentionPolicy:
    """Sets a client's retention periods and when the worker applies them."""
    _require(by, client)
    if run_every not in RetentionFrequency.values:
        raise DomainError(_("Choose how often retention is applied."), field="run_every")
    policy, _created = RetentionPolicy.objects.update_or_create(
        client=client,
        defaults={
            "customer_inactive_days": customer_inactive_days,
            "audit_days": audit_days,
            "run_every": run_every,
            "run_at": run_at,
        },
    )
    retention_schedule_sync(policy=policy)
    return policy
