"""The SV floor board: calls running past the client's threshold, joining or taking them over,
and calls ended under the client's harassment criteria (カスハラ). It refreshes by polling."""

import datetime as dt
from collections import defaultdict

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from azukari.audit.models import AccessAction
from azukari.audit.services import personal_data_access
from azukari.cases.models import Contact
from azukari.core.errors import DomainError, NotVisible
from azukari.core.sqlite_hints import ids_in_index_order
from azukari.core.visibility import Viewer, get_visible
from azukari.customers.models import Customer
from azukari.floor import services
from azukari.floor.models import (
    CallEnding,
    FloorIntervention,
    FloorThreshold,
    HarassmentCriterion,
)
from azukari.org.permissions import Cap, page_for, user_can

DEFAULT_THRESHOLD_MINUTES = 20
ENDINGS_DAYS = 7
PANEL_ROWS = 50
FLOOR_FIELDS = ("customer_number", "harassment_note")


class CallEndForm(forms.Form):
    criterion = forms.ChoiceField(label=_("Criterion"))
    note = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 2}),
                           required=False, max_length=2000)  # fmt: skip
    flag_customer = forms.BooleanField(label=_("Flag the customer"), required=False)

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["criterion"].choices = [(c.pk, c.label) for c in criteria]


def long_calls(*, viewer: Viewer, now: dt.datetime) -> list[Contact]:
    """Calls answered and not ended, older than their client's threshold (default 20 min)."""
    thresholds = dict(FloorThreshold.objects.visible_to(viewer).values_list("client_id", "minutes"))
    older = Q(answered_at__lte=now - dt.timedelta(minutes=DEFAULT_THRESHOLD_MINUTES)) & ~Q(
        client_id__in=list(thresholds)
    )
    for client_id, minutes in thresholds.items():
        older |= Q(client_id=client_id, answered_at__lte=now - dt.timedelta(minutes=minutes))
    qs = (
        Contact.objects.visible_to(viewer)
        .filter(older, answered_at__isnull=False, ended_at__isnull=True)
        .select_related("client", "site", "handler", "customer")
        .prefetch_related(
            Prefetch(
                "interventions",
                queryset=FloorIntervention.objects.select_related("by").order_by("at", "id"),
            )
        )
        .order_by("answered_at", "id")
    )
    if not user_can(viewer, Cap.FLOOR_WATCH):
        qs = qs.filter(handler=viewer)
    ids = ids_in_index_order(qs, index="contact_in_progress", limit=PANEL_ROWS)
    found = {contact.pk: contact for contact in qs.filter(pk__in=ids)}
    return [found[pk] for pk in ids]


def _criteria_by_client(viewer: Viewer) -> dict[int, list[HarassmentCriterion]]:
    by_client: dict[int, list[HarassmentCriterion]] = defaultdict(list)
    for c in HarassmentCriterion.objects.visible_to(viewer).filter(is_active=True):
        by_client[c.client_id].append(c)
    return by_client


def _calls_context(request: HttpRequest) -> dict:
    now = timezone.now()
    calls = long_calls(viewer=request.user, now=now)
    criteria = _criteria_by_client(request.user)
    for call in calls:
        call.minutes = int((now - call.answered_at).total_seconds() // 60)
        call.end_form = CallEndForm(criteria=criteria.get(call.client_id, []), prefix=f"c{call.pk}")
    return {
        "calls": calls,
        "now": now,
        "can_intervene": user_can(request.user, Cap.FLOOR_INTERVENE),
    }


@require_GET
@login_required
@page_for(Cap.CENTER_PAGES)
def floor(request: HttpRequest) -> HttpResponse:
    context = _calls_context(request)
    if request.headers.get("HX-Request"):
        return render(request, "web/floor/_calls.html", context)
    since = context["now"] - dt.timedelta(days=ENDINGS_DAYS)
    context["endings"] = (
        CallEnding.objects.visible_to(request.user)
        .filter(at__gte=since)
        .select_related("criterion", "by", "client", "contact__customer")
        .order_by("-at", "-id")[:PANEL_ROWS]
    )
    context["flagged"] = (
        Customer.objects.visible_to(request.user)
        .filter(harassment_flag=True)
        .select_related("client")
        .order_by("client", "customer_number")[:PANEL_ROWS]
    )
    context["endings_days"] = ENDINGS_DAYS
    shown = [c.customer for c in context["calls"] if c.customer_id]
    shown += [e.contact.customer for e in context["endings"] if e.contact.customer_id]
    shown += list(context["flagged"])
    personal_data_access(
        viewer=request.user,
        customers=list({c.pk: c for c in shown}.values()),
        fields=FLOOR_FIELDS,
        action=AccessAction.VIEW,
        purpose="floor board",
        request=request,
        object_type="floor",
    )
    return render(request, "web/floor/board.html", context)


def _contact(request: HttpRequest, contact_id: int) -> Contact:
    return get_visible(Contact.objects.all(), request.user, pk=contact_id)


def _after(request: HttpRequest) -> HttpResponse:
    if request.headers.get("HX-Request"):
        return render(request, "web/floor/_calls.html", _calls_context(request))
    return redirect("floor")


def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    if request.headers.get("HX-Request"):
        context = _calls_context(request)
        context["error"] = str(exc)
        return render(request, "web/floor/_calls.html", context, status=400)
    messages.error(request, str(exc))
    return redirect("floor")


@require_POST
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def contact_join(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _contact(request, contact_id)
    try:
        services.contact_join(actor=request.user, contact=contact)
    except NotVisible:
        raise
    except DomainError as exc:
        return _refused(request, exc)
    return _after(request)


@require_POST
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def contact_take_over(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _contact(request, contact_id)
    try:
        services.contact_take_over(actor=request.user, contact=contact)
    except NotVisible:
        raise
    except DomainError as exc:
        return _refused(request, exc)
    return _after(request)


@require_POST
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def call_end(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Ends a call under one of its client's criteria (the handler or a supervisor)."""
    contact = _contact(request, contact_id)
    criteria = _criteria_by_client(request.user).get(contact.client_id, [])
    form = CallEndForm(request.POST, criteria=criteria, prefix=f"c{contact.pk}")
    if not form.is_valid():
        return _refused(request, DomainError(_("Choose one of the client's criteria.")))
    criterion = next(c for c in criteria if str(c.pk) == form.cleaned_data["criterion"])
    try:
        services.call_end_under_criterion(
            actor=request.user,
            contact=contact,
            criterion=criterion,
            note=form.cleaned_data["note"],
            flag_customer=form.cleaned_data["flag_customer"],
        )
    except NotVisible:
        raise
    except DomainError as exc:
        return _refused(request, exc)
    return _after(request)
