"""Callbacks for SVs, leaders and the azukari desk: the due list, and the handoff brief that
whoever calls reads first — every earlier contact, what was promised and offered, the
customer's stance — then the attempt and the scheduling, through the case services.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from azukari.audit.models import AccessAction
from azukari.audit.services import personal_data_access
from azukari.cases import overdue
from azukari.cases.models import (
    AttemptOutcome,
    Callback,
    CallbackStatus,
    CaseEvent,
    Contact,
    Inquiry,
    Stance,
)
from azukari.cases.scheduling import callback_proposals
from azukari.cases.services import callback_attempt_record, callback_schedule
from azukari.core.errors import DomainError, NotVisible
from azukari.core.phones import mask_phone
from azukari.core.visibility import get_visible
from azukari.org.models import Site
from azukari.org.permissions import Cap, page_for
from azukari.subscriptions.models import CancellationRequest
from azukari.subscriptions.selectors import option_label
from azukari.web.forms import apply_domain_error

PAGE_SIZE = 50
# How far ahead the list shows callbacks whose time has not come yet.
UPCOMING = dt.timedelta(hours=24)
OPEN_STATUSES = (CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED)
PROMISE_EVENTS = frozenset({"parked", "callback_promised", "callback_scheduled"})


# ---------------------------------------------------------------- reads


class When:
    """Where a callback stands on the list (see azukari.cases.overdue for the definitions)."""

    OVERDUE = "overdue"
    DUE = "due"
    UPCOMING = "upcoming"
    TO_SCHEDULE = "to_schedule"


WHEN_LABELS = {
    When.OVERDUE: _("Overdue"),
    When.DUE: _("Due now"),
    When.UPCOMING: _("Coming up"),
    When.TO_SCHEDULE: _("To schedule"),
}
ORIGIN_LABELS = {
    "promise": _("Callback promised to the customer"),
    "inquiry_answered": _("The client answered the inquiry"),
}


def callback_when(callback: Callback, *, now: dt.datetime) -> str:
    """On a callback from `callbacks_due` (annotated by the overdue module's expressions)."""
    if callback.is_overdue:
        return When.OVERDUE
    if callback.due is not None and callback.due <= now:
        return When.DUE
    if callback.status == CallbackStatus.TO_SCHEDULE:
        return When.TO_SCHEDULE
    return When.UPCOMING


def callbacks_due(*, viewer, now: dt.datetime, site_id: int | None = None):
    """The callbacks an SV or the desk works now, grouped by customer: those whose time has
    come (overdue first), those coming up within `UPCOMING`, and those still to schedule
    (someone has to find the customer a time; a promised time shows with them, not as due).

    Customers come in the order of their most urgent callback; each callback is one row.
    """
    listed = overdue.with_due(Callback.objects.visible_to(viewer)).filter(
        Q(due__lte=now + UPCOMING) | Q(status=CallbackStatus.TO_SCHEDULE)
    )
    if site_id:
        listed = listed.filter(
            Q(team__site_id=site_id) | Q(team__isnull=True, case__site_id=site_id)
        )
    first_due = (
        listed.filter(customer_id=OuterRef("customer_id"))
        .order_by(F("due").asc(nulls_last=True))
        .values("due")[:1]
    )
    return (
        listed.annotate(
            first_due=Subquery(first_due),
            is_overdue=ExpressionWrapper(overdue.callback_overdue_q(now), BooleanField()),
        )
        .select_related("case__site", "customer", "client", "team__site", "assignee")
        .order_by(
            F("first_due").asc(nulls_last=True),
            "customer_id",
            F("due").asc(nulls_last=True),
            "id",
        )
    )


@dataclass(frozen=True)
class Offer:
    """Something put to the customer: an option read out or an inquiry's proposals."""

    at: dt.datetime
    what: str
    options: list[str]
    answer: str


def _cancellation_offers(requests: list[CancellationRequest]) -> list[Offer]:
    offers = []
    for request in requests:
        for disclosure in request.disclosures.all():
            offers.append(
                Offer(
                    at=disclosure.at,
                    what=str(disclosure.get_kind_display()),
                    options=[disclosure.text],
                    answer=option_label(disclosure.option_code) if disclosure.option_code else "",
                )
            )
        for exception in request.exceptions.all():
            offers.append(
                Offer(
                    at=exception.asked_at,
                    what=str(_("Exception asked for")),
                    options=[option_label(o["code"]) for o in exception.options],
                    answer=str(exception.get_outcome_display()),
                )
            )
    return offers


def _inquiry_offers(inquiries: list[Inquiry]) -> list[Offer]:
    offers = []
    for inquiry in inquiries:
        chosen = {o["code"]: o.get("label", o["code"]) for o in inquiry.options_shown}
        offers.append(
            Offer(
                at=inquiry.sent_at,
                what=str(_("Inquiry to the client")),
                options=list(chosen.values()),
                answer=chosen.get(inquiry.answer_option, "")
                + (f" — {inquiry.answer_note}" if inquiry.answer_note else ""),
            )
        )
    return offers


def handoff_brief(*, viewer, callback_id: int) -> dict[str, Any]:
    """Everything the next caller must know, in a fixed number of queries."""
    callback = get_visible(
        Callback.objects.select_related(
            "case__site", "case__owner_team", "customer", "client", "team__site", "assignee"
        ),
        viewer,
        pk=callback_id,
    )
    case = callback.case
    contacts = list(
        Contact.objects.visible_to(viewer)
        .filter(customer_id=callback.customer_id)
        .select_related("handler", "case")
        .order_by("started_at", "id")
    )
    events = list(CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "id"))
    inquiries = list(Inquiry.objects.filter(case=case).order_by("sent_at", "id"))
    requests = list(
        CancellationRequest.objects.filter(case=case).prefetch_related(
            Prefetch("disclosures"), "exceptions"
        )
    )
    offers = sorted(_cancellation_offers(requests) + _inquiry_offers(inquiries), key=lambda o: o.at)
    stances = [c for c in contacts if c.stance]
    # The number to dial, masked; the brief's reveal button shows it in clear (audited).
    phones = [
        {"kind": p.get_kind_display(), "masked": mask_phone(p.number)}
        for p in callback.customer.phones.all()
    ]
    return {
        "phones": phones,
        "callback": callback,
        "case": case,
        "customer": callback.customer,
        "contacts": contacts,
        "promises": [e for e in events if e.kind in PROMISE_EVENTS],
        "events": events,
        "offers": offers,
        "stance": stances[-1] if stances else None,
        "attempts": callback.attempts,
    }


# ---------------------------------------------------------------- forms


class ScheduleForm(forms.Form):
    at = forms.DateTimeField(
        label=_("Call at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    customer_requested = forms.BooleanField(
        label=_("The customer asked for this time"), required=False
    )


class AttemptForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome of the call"), choices=AttemptOutcome.choices)
    summary = forms.CharField(
        label=_("What was said"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    stance = forms.ChoiceField(
        label=_("Customer's stance at the end"),
        choices=[("", "—"), *Stance.choices],
        required=False,
    )


# ---------------------------------------------------------------- views


@require_GET
@login_required
@page_for(Cap.CALLBACKS_WORK)
def callback_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    sites = Site.objects.filter(teams__clients__in=request.user.visible_client_ids()).distinct()
    site_id = request.GET.get("site")
    site_id = int(site_id) if site_id and site_id.isdigit() else None
    page = Paginator(
        callbacks_due(viewer=request.user, now=now, site_id=site_id), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    for cb in page:
        cb.when = callback_when(cb, now=now)
        cb.when_label = WHEN_LABELS[cb.when]
        cb.origin_label = ORIGIN_LABELS.get(cb.origin, _("Callback owed"))
    personal_data_access(
        viewer=request.user,
        customers=[c.customer for c in page],
        fields=("name",),
        action=AccessAction.SEARCH,
        purpose="callback list",
        request=request,
        object_type="callback_list",
    )
    return render(
        request,
        "web/callbacks/list.html",
        {
            "page": page,
            "now": now,
            "sites": sites,
            "site_id": site_id,
            "grace_minutes": int(overdue.CALLBACK_GRACE.total_seconds() // 60),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.CALLBACKS_WORK, refuse_with_404=True)
def callback_brief(request: HttpRequest, callback_id: int) -> HttpResponse:
    brief = handoff_brief(viewer=request.user, callback_id=callback_id)
    callback = brief["callback"]
    is_open = callback.status in OPEN_STATUSES
    proposals = callback_proposals(callback=callback, now=timezone.now()) if is_open else []
    action = request.POST.get("action") if request.method == "POST" else None
    schedule_form = ScheduleForm(
        request.POST if action == "schedule" else None,
        initial={"at": timezone.localtime(proposals[0]) if proposals else None},
    )
    attempt_form = AttemptForm(request.POST if action == "attempt" else None)
    form = {"schedule": schedule_form, "attempt": attempt_form}.get(action or "")
    if form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            if action == "schedule":
                callback_schedule(
                    callback=callback,
                    actor=request.user,
                    at=data["at"],
                    customer_requested=data["customer_requested"],
                )
                messages.success(request, _("The callback is scheduled."))
            else:
                callback_attempt_record(
                    callback=callback,
                    actor=request.user,
                    outcome=data["outcome"],
                    summary=data["summary"],
                    stance=data["stance"],
                )
                messages.success(request, _("The call is recorded."))
            return redirect("callback-brief", callback_id=callback.pk)
        except NotVisible:
            raise
        except DomainError as exc:
            if exc.field == "scheduled_for":
                exc.field = "at"
            apply_domain_error(form, exc)
    personal_data_access(
        viewer=request.user,
        customers=[brief["customer"]],
        fields=("name", "name_kana", "contacts", "preferences"),
        action=AccessAction.VIEW,
        purpose=f"callback:{callback.pk}",
        request=request,
        object_type="callback",
        object_ref=str(callback.pk),
    )
    return render(
        request,
        "web/callbacks/brief.html",
        {
            **brief,
            "is_open": is_open,
            "proposals": proposals,
            "schedule_form": schedule_form,
            "attempt_form": attempt_form,
            # Someone closed the callback while this form was open: say so, keep the typing.
            "stale_form": form if form is not None and form.errors and not is_open else None,
        },
        status=400 if form is not None and form.errors else 200,
    )
