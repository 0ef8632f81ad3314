"""Reads of the self-service pages: the customer's subscriptions with the engine's options
(the same builder as the desk's), where his cases stand, in plain words."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from azukari.cases.models import (
    WORKED_STATES,
    Callback,
    CallbackStatus,
    Case,
    Inquiry,
    InquiryStatus,
)
from azukari.cases.scheduling import preferences_of
from azukari.core.errors import DomainError
from azukari.selfservice.models import Link, OfferShown, SelfServiceSettings
from azukari.selfservice.services import signed_up_online
from azukari.subscriptions.models import (
    OPEN_CANCELLATION_STATES,
    CancellationRequest,
    DeliveryStatus,
    Subscription,
    SubscriptionStatus,
)
from azukari.subscriptions.selectors import DeskOption, signup_terms, subscription_options


@dataclass
class SubscriptionView:
    """One subscription as the customer sees it: the terms verbatim and the options."""

    subscription: Subscription
    deliveries_made: int
    deliveries_required: int
    terms_version: str
    terms_text: str
    options: tuple[DeskOption, ...] = ()
    options_error: str = ""
    open_request: CancellationRequest | None = None
    offer: str = ""
    may_request: bool = False

    @property
    def standard(self) -> list[DeskOption]:
        return [o for o in self.options if not o.is_exception]

    @property
    def exceptions(self) -> list[DeskOption]:
        return [o for o in self.options if o.is_exception]


def customer_subscriptions(
    *, link: Link, settings: SelfServiceSettings, language: str, today: dt.date | None = None
) -> list[SubscriptionView]:
    """The link's customer's current subscriptions, of the link's client only."""
    rows = (
        Subscription.objects.filter(
            customer_id=link.customer_id,
            client_id=link.client_id,
            status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED],
        )
        .select_related("plan")
        .prefetch_related(
            "deliveries",
            Prefetch(
                "cancellation_requests",
                queryset=CancellationRequest.objects.filter(status__in=OPEN_CANCELLATION_STATES),
                to_attr="open_requests",
            ),
        )
        .annotate(shipped=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SHIPPED)))
        .order_by("started_on", "id")
    )
    shown_offers = set(
        OfferShown.objects.filter(subscription__customer_id=link.customer_id).values_list(
            "subscription_id", flat=True
        )
    )
    views = []
    for s in rows:
        terms = signup_terms(s)
        view = SubscriptionView(
            subscription=s,
            deliveries_made=s.shipped,
            deliveries_required=s.plan.min_deliveries,
            terms_version=terms.version,
            terms_text=terms.text,
            open_request=s.open_requests[0] if s.open_requests else None,
            may_request=settings.offers_request or signed_up_online(s),
        )
        try:
            view.options = subscription_options(subscription=s, language=language, today=today)
        except DomainError as exc:
            view.options_error = str(exc.message)
        # At most once, never after the request: an offer is not a hurdle before cancelling.
        if settings.retention_offer and view.open_request is None and s.pk not in shown_offers:
            view.offer = settings.retention_offer
        views.append(view)
    return views


def _day(value: dt.datetime | dt.date) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return formats.date_format(value, "n/j")


def _hm(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%H:%M")


def _window_end(link: Link, at: dt.datetime) -> dt.datetime:
    """The end of the customer's own window the call falls in, else an hour after it."""
    local = timezone.localtime(at)
    for window in preferences_of(link.customer).windows:
        if window.covers(local, local + dt.timedelta(minutes=15)):
            return local.replace(hour=window.end.hour, minute=window.end.minute)
    return local + dt.timedelta(hours=1)


@dataclass
class CaseStatus:
    case: Case
    lines: list[str] = field(default_factory=list)


def case_statuses(*, link: Link) -> list[CaseStatus]:
    """The customer's open cases in plain words, with the times the center is held to."""
    # By the customer alone (the customer's cases are all of the link's client) and with the
    # link's client rather than a join: given the client too, SQLite (no statistics) reads the
    # client's open cases instead of the customer's, 0.4 s instead of 1 ms at 1,000,000.
    cases = (
        Case.objects.filter(customer_id=link.customer_id)
        .filter(state__in=WORKED_STATES)
        .select_related("subscription__plan")
        .prefetch_related(
            Prefetch(
                "inquiries",
                queryset=Inquiry.objects.filter(status=InquiryStatus.OPEN),
                to_attr="open_inquiries",
            ),
            Prefetch(
                "callbacks",
                queryset=Callback.objects.filter(
                    status__in=(CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED)
                ).order_by("scheduled_for", "promised_for"),
                to_attr="open_callbacks",
            ),
        )
        .order_by("-opened_at")
    )
    statuses = []
    for case in cases:
        case.client = link.client
        status = CaseStatus(case)
        for inquiry in case.open_inquiries:
            status.lines.append(
                _("Waiting for %(client)s's answer, due by %(day)s %(time)s.")
                % {
                    "client": case.client.name,
                    "day": _day(inquiry.due_at),
                    "time": _hm(inquiry.due_at),
                }
            )
        for callback in case.open_callbacks:
            at = callback.scheduled_for or callback.promised_for
            if at is None:
                status.lines.append(_("We will call you back; we are choosing a time."))
                continue
            end = _window_end(link, at)
            status.lines.append(
                _("We will call you on %(day)s between %(start)s and %(end)s.")
                % {"day": _day(at), "start": _hm(at), "end": _hm(end)}
            )
        if not status.lines:
            status.lines.append(
                _("With our team since %(day)s; we will contact you.")
                % {"day": _day(case.opened_at)}
            )
        if case.due_at:
            status.lines.append(
                _("We are held to settle it by %(day)s %(time)s.")
                % {"day": _day(case.due_at), "time": _hm(case.due_at)}
            )
        statuses.append(status)
    return statuses


def options_record(views: list[SubscriptionView]) -> dict[str, Any]:
    """What the options page showed, in the page record's shape (schema 1)."""
    return {
        "subscriptions": [
            {
                "id": v.subscription.pk,
                "external_id": v.subscription.external_id,
                "deliveries_made": v.deliveries_made,
                "deliveries_required": v.deliveries_required,
                "terms_version": v.terms_version,
                "terms_text": v.terms_text,
                "open_request_on": v.open_request.requested_on if v.open_request else None,
                "offer": v.offer,
                "options": [
                    {
                        "code": o.code,
                        "label": o.label,
                        "cost_yen": o.cost_yen,
                        "effective_on": o.effective_on,
                        "deliveries_to_ship": o.deliveries_to_ship,
                        "approval_level": o.approval_level,
                        "explanation": o.explanation,
                    }
                    for o in v.options
                ],
                "options_error": v.options_error,
            }
            for v in views
        ]
    }


def receipt_lines(*, link: Link, kind: str) -> list[str]:
    """The receipt: what he did, and what the newest options page showed him."""
    from django.utils import translation

    from azukari.selfservice.models import PageView

    with translation.override("ja"):
        what = {
            "request": _("You recorded your cancellation request."),
            "choice": _("You chose an option."),
            "exception": _("You asked for an exception."),
            "withdraw": _("You withdrew your request."),
            "question": _("You asked a question."),
        }.get(kind, kind)
        lines = [
            _("%(client)s — receipt") % {"client": link.client.name},
            timezone.localtime().strftime("%Y/%m/%d %H:%M"),
            str(what),
            "",
        ]
        shown = (
            PageView.objects.filter(link__customer_id=link.customer_id, page="options")
            .order_by("-at", "-id")
            .first()
        )
        if shown is not None:
            lines.append(_("What the page showed you:"))
            for sub in shown.shown.get("subscriptions", []):
                lines.append(f"[{sub['external_id']}] {sub['terms_text']}")
                for o in sub["options"]:
                    lines.append(
                        f"- {o['label']}: {o['cost_yen']:,}円, {o['effective_on']} — "
                        f"{o['explanation']}"
                    )
            lines.append(_("Record %(hash)s") % {"hash": shown.content_hash[:16]})
    return lines
