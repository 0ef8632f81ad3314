"""The operator's cancellation desk: the terms verbatim, the options to read out, the acts.

Thin views: fetch through the visibility door, call a service, redirect with the outcome.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from azukari.cases.models import Case
from azukari.core.errors import DomainError, NotVisible
from azukari.core.visibility import get_visible
from azukari.org.models import Client
from azukari.org.permissions import Cap, page_for
from azukari.subscriptions import services
from azukari.subscriptions.forms import (
    DecideForm,
    DiscloseForm,
    ExceptionForm,
    ReportForm,
    RuleForm,
    WithdrawForm,
)
from azukari.subscriptions.models import CancellationRequest, ExceptionOutcome, ExceptionRequest
from azukari.subscriptions.reports import consistency_report, report_csv
from azukari.subscriptions.selectors import (
    cancellation_desk,
    cancellations_overdue,
    exception_precedents,
    request_timeline,
)


def _request(request: HttpRequest, request_id: int) -> CancellationRequest:
    return get_visible(
        CancellationRequest.objects.select_related("case", "policy_version", "subscription"),
        request.user,
        pk=request_id,
    )


def _back(request_id: int) -> HttpResponse:
    return redirect("cancellation-desk", request_id=request_id)


def _act(request: HttpRequest, request_id: int, form, action) -> HttpResponse:
    """Runs one service with a valid form; a refusal is shown, never half-applied."""
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(request_id)
    try:
        action(form.cleaned_data)
    except NotVisible:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    return _back(request_id)


@require_GET
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def desk(request: HttpRequest, request_id: int) -> HttpResponse:
    """The language of the explanations is the customer's (`?say=`), not the operator's."""
    say = (
        request.GET.get("say") if request.GET.get("say") in ("ja", "en") else request.user.language
    )
    cancellation = _request(request, request_id)
    if not cancellation.is_open:
        return render(
            request,
            "subscriptions/cancellation_closed.html",
            {
                "cancellation": cancellation,
                "decision": getattr(cancellation, "decision", None),
                "timeline": request_timeline(cancellation, today=timezone.localdate()),
            },
        )
    try:
        data = cancellation_desk(viewer=request.user, request_id=request_id, language=say)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("case-detail", case_id=cancellation.case_id)
    pending = (
        ExceptionRequest.objects.filter(request=data.request, outcome=ExceptionOutcome.PENDING)
        .select_related("ground")
        .first()
    )
    return render(
        request,
        "subscriptions/cancellation_desk.html",
        {
            "desk": data,
            "say": say,
            "grounds": data.policy_version.grounds.all(),
            "pending": pending,
            "precedents": exception_precedents(viewer=request.user, exception=pending)
            if pending
            else [],
            "timeline": request_timeline(data.request, today=timezone.localdate()),
        },
    )


@require_POST
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def request_record(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        case = get_visible(Case.objects.all(), request.user, pk=case_id)
        cancellation = services.cancellation_request_record(actor=request.user, case=case)
    except NotVisible:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("case-detail", case_id=case_id)
    return _back(cancellation.pk)


@require_POST
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def disclose(request: HttpRequest, request_id: int) -> HttpResponse:
    cancellation = _request(request, request_id)
    return _act(
        request,
        request_id,
        DiscloseForm(request.POST),
        lambda d: services.cancellation_disclose(actor=request.user, request=cancellation, **d),
    )


@require_POST
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def decide(request: HttpRequest, request_id: int) -> HttpResponse:
    cancellation = _request(request, request_id)
    return _act(
        request,
        request_id,
        DecideForm(request.POST),
        lambda d: services.cancellation_decide(actor=request.user, request=cancellation, **d),
    )


@require_POST
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def exception_ask(request: HttpRequest, request_id: int) -> HttpResponse:
    cancellation = _request(request, request_id)
    team = request.user.team if request.user.team and request.user.team.is_azukari_desk else None
    return _act(
        request,
        request_id,
        ExceptionForm(request.POST),
        lambda d: services.cancellation_exception_ask(
            actor=request.user,
            request=cancellation,
            ground_code=d["ground"],
            reason=d["reason"],
            team=team or cancellation.case.owner_team,
        ),
    )


@require_POST
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def withdraw(request: HttpRequest, request_id: int) -> HttpResponse:
    cancellation = _request(request, request_id)
    return _act(
        request,
        request_id,
        WithdrawForm(request.POST),
        lambda d: services.cancellation_request_withdraw(
            actor=request.user, request=cancellation, **d
        ),
    )


@require_POST
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def exception_rule(request: HttpRequest, exception_id: int) -> HttpResponse:
    exception = get_visible(ExceptionRequest.objects.all(), request.user, pk=exception_id)
    return _act(
        request,
        exception.request_id,
        RuleForm(request.POST),
        lambda d: services.cancellation_exception_rule(
            actor=request.user, exception=exception, **d
        ),
    )


@require_GET
@login_required
@page_for(Cap.CANCELLATIONS_OVERSEE)
def overdue(request: HttpRequest) -> HttpResponse:
    """Requests past their client's time limit, for the azukari desk (and the backlog board)."""
    return render(
        request,
        "subscriptions/cancellation_overdue.html",
        {"rows": cancellations_overdue(viewer=request.user)},
    )


@require_GET
@login_required
@page_for(Cap.CANCELLATIONS_OVERSEE)
def report(request: HttpRequest) -> HttpResponse:
    """The consistency report for one client the viewer may see; `?format=csv` exports it."""
    form = ReportForm(request.GET or None)
    clients = Client.objects.filter(pk__in=request.user.visible_client_ids())
    client = clients.filter(code=request.GET.get("client", "")).first() or clients.first()
    data = None
    if client is not None and form.is_valid():
        try:
            data = consistency_report(
                viewer=request.user,
                client_id=client.pk,
                date_from=form.cleaned_data["date_from"],
                date_to=form.cleaned_data["date_to"],
            )
        except DomainError as exc:
            form.add_error("date_to", exc.message)
    if data is not None and request.GET.get("format") == "csv":
        response = HttpResponse(report_csv(data), content_type="text/csv; charset=utf-8")
        name = f"consistency-{client.code}-{data.date_from:%Y%m%d}-{data.date_to:%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render(
        request,
        "subscriptions/consistency_report.html",
        {
            "form": form,
            "clients": clients,
            "client": client,
            "report": data,
            "title": _("Exception consistency"),
        },
    )
