"""Writes of the reports app: contact coding and the daily backlog snapshot."""

import datetime as dt
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.cases.models import AZUKARI_STATES, Case, Contact
from azukari.cases.overdue import case_overdue_q
from azukari.cases.services import require_center_staff
from azukari.core.errors import DomainError, NotVisible
from azukari.org.models import Client, User
from azukari.org.permissions import Cap, require
from azukari.reports.models import AfterCallWorkCode, BacklogSnapshot, ContactCoding, ReasonCode

AGE_BUCKETS = (
    ("age_0_1", dt.timedelta(days=1)),
    ("age_1_3", dt.timedelta(days=3)),
    ("age_3_7", dt.timedelta(days=7)),
)


@transaction.atomic
def reason_code_create(
    *,
    actor: User | None,
    client: Client,
    code: str,
    label: str,
    label_en: str = "",
    position: int = 0,
) -> ReasonCode:
    """A contact reason code of the client. Setting one up is a manager's (`CLIENTS_SET_UP`,
    as on the set-up pages and in the admin); `actor=None` is a trusted command-line run."""
    if actor is not None:
        if not actor.is_superuser and client.pk not in actor.visible_client_ids():
            raise NotVisible(field="client")
        require(actor, Cap.CLIENTS_SET_UP)
    return _code_create(ReasonCode, client, code, label, label_en, position)


@transaction.atomic
def acw_code_create(
    *, actor: User, client: Client, code: str, label: str, label_en: str = "", position: int = 0
) -> AfterCallWorkCode:
    require_center_staff(actor, client.pk, field="client")
    return _code_create(AfterCallWorkCode, client, code, label, label_en, position)


def _code_create(model, client: Client, code: str, label: str, label_en: str, position: int):
    code = (code or "").strip()
    if not code:
        raise DomainError(_("This field is required."), field="code")
    try:
        validate_slug(code)
    except ValidationError as exc:
        raise DomainError(
            _("Use only letters, digits, hyphens and underscores."), field="code"
        ) from exc
    limits = (("code", code, 32), ("label", label, 100), ("label_en", label_en, 100))
    for field, value, limit in limits:
        if len((value or "").strip()) > limit:
            raise DomainError(_("At most %(n)d characters.") % {"n": limit}, field=field)
    if not (label or "").strip():
        raise DomainError(_("This field is required."), field="label")
    if model.objects.filter(client=client, code=code).exists():
        raise DomainError(_("This code is already in use."), field="code")
    return model.objects.create(
        client=client, code=code, label=label.strip(), label_en=label_en.strip(), position=position
    )


@transaction.atomic
def contact_code(
    *,
    actor: User,
    contact: Contact,
    reason_code: ReasonCode,
    acw_code: AfterCallWorkCode | None = None,
) -> ContactCoding:
    """Gives a contact its reason and after-call-work codes, from the contact's client's lists;
    coding again replaces the codes."""
    require_center_staff(actor, contact.client_id, field="contact")
    if reason_code.client_id != contact.client_id or not reason_code.is_active:
        raise DomainError(_("This reason code is not in this client's list."), field="reason_code")
    if acw_code is not None and (acw_code.client_id != contact.client_id or not acw_code.is_active):
        raise DomainError(
            _("This after-call work code is not in this client's list."), field="acw_code"
        )
    coding, _created = ContactCoding.objects.update_or_create(
        contact=contact,
        defaults={
            "client_id": contact.client_id,
            "reason_code": reason_code,
            "acw_code": acw_code,
            "coded_by": actor,
            "coded_at": timezone.now(),
        },
    )
    return coding


@transaction.atomic
def backlog_snapshot_take(*, day: dt.date | None = None, at: dt.datetime | None = None) -> int:
    """Counts open azukari by client, site and state as of now, for `day`; idempotent: the
    day's rows are replaced, so a retried task writes the same figures once."""
    at = at or timezone.now()
    day = day or timezone.localdate(at)
    rows: dict[tuple[int, int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    overdue = ExpressionWrapper(case_overdue_q(at), output_field=BooleanField())
    open_cases = (
        Case.objects.filter(state__in=AZUKARI_STATES)
        .annotate(is_overdue=overdue)
        .values_list(
            "client_id",
            "site_id",
            "state",
            "parked_at",
            "opened_at",
            "is_overdue",
            "center_seconds",
            "client_seconds",
            "customer_seconds",
        )
    )
    for (
        client_id,
        site_id,
        state,
        parked_at,
        opened_at,
        is_overdue,
        cs,
        cl,
        cu,
    ) in open_cases.iterator(chunk_size=2000):
        row = rows[(client_id, site_id, state)]
        row["open_count"] += 1
        if is_overdue:
            row["overdue_count"] += 1
        age = at - (parked_at or opened_at)
        for bucket, limit in AGE_BUCKETS:
            if age < limit:
                row[bucket] += 1
                break
        else:
            row["age_7_plus"] += 1
        row["center_seconds"] += cs
        row["client_seconds"] += cl
        row["customer_seconds"] += cu
    BacklogSnapshot.objects.filter(day=day).delete()
    BacklogSnapshot.objects.bulk_create(
        BacklogSnapshot(
            client_id=client_id, site_id=site_id, state=state, day=day, taken_at=at, **counts
        )
        for (client_id, site_id, state), counts in rows.items()
    )
    return len(rows)
