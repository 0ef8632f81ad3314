"""The client portal: a client approver answers its own company's inquiries (伺い).

It shows only what an answer needs: the question, the options, precedents for an exception,
the customer's name and number with the phone masked, never the address. The second factor
is enforced for client approvers by the security middleware before any of this runs.
"""

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from azukari.audit.models import AccessAction
from azukari.audit.services import personal_data_access
from azukari.cases.models import Inquiry, InquiryStatus
from azukari.cases.overdue import inquiry_overdue_q
from azukari.cases.services import inquiry_answer
from azukari.core.errors import DomainError, NotVisible
from azukari.core.phones import mask_phone
from azukari.core.visibility import get_visible
from azukari.org.permissions import Cap, page_for
from azukari.subscriptions.models import ExceptionOutcome, ExceptionRequest
from azukari.subscriptions.selectors import exception_precedents
from azukari.subscriptions.services.cancellations import GRANT, cancellation_exception_rule

PAGE_SIZE = 25
FIGURES_DAYS = 90
PORTAL_FIELDS = ("name", "customer_number", "phones_masked")


class AnswerForm(forms.Form):
    option = forms.ChoiceField(label=_("Your decision"), widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Reason / message to the center"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )

    def __init__(self, *args, options=(), reason_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["option"].choices = [(o["code"], o["label"]) for o in options]
        self.fields["note"].required = reason_required


def response_figures(*, viewer, now: dt.datetime, days: int = FIGURES_DAYS) -> dict:
    """The company's own answering record, aggregated in one query."""
    since = now - dt.timedelta(days=days)
    answered = Q(status=InquiryStatus.ANSWERED, answered_at__isnull=False)
    figures = (
        Inquiry.objects.visible_to(viewer)
        .filter(sent_at__gte=since)
        .aggregate(
            sent=Count("id"),
            answered=Count("id", filter=answered),
            on_time=Count("id", filter=answered & Q(answered_at__lte=F("due_at"))),
            open_overdue=Count("id", filter=inquiry_overdue_q(now)),
            open=Count("id", filter=Q(status=InquiryStatus.OPEN)),
            average=Avg(
                ExpressionWrapper(F("answered_at") - F("sent_at"), output_field=DurationField()),
                filter=answered,
            ),
        )
    )
    average = figures["average"]
    if average is not None and not isinstance(average, dt.timedelta):
        average = dt.timedelta(microseconds=float(average))
    figures["average_hours"] = round(average.total_seconds() / 3600, 1) if average else None
    figures["on_time_percent"] = (
        round(100 * figures["on_time"] / figures["answered"]) if figures["answered"] else None
    )
    figures["days"] = days
    return figures


@require_GET
@login_required
@page_for(Cap.PORTAL_USE, refuse_with_404=True)
def portal_inquiries(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    status = request.GET.get("status", "open")
    qs = Inquiry.objects.visible_to(request.user).select_related("case")
    if status in InquiryStatus.values:
        qs = qs.filter(status=status)
    qs = qs.order_by("due_at", "id") if status == "open" else qs.order_by("-sent_at", "-id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/portal/inquiries.html",
        {
            "page": page,
            "status": status,
            "statuses": InquiryStatus.choices,
            "figures": response_figures(viewer=request.user, now=now),
            "now": now,
        },
    )


def _exception_of(inquiry: Inquiry) -> ExceptionRequest | None:
    return (
        ExceptionRequest.objects.filter(inquiry=inquiry, client_id=inquiry.client_id)
        .select_related("ground")
        .first()
    )


@require_http_methods(["GET", "POST"])
@login_required
@page_for(Cap.PORTAL_USE, refuse_with_404=True)
def portal_inquiry(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    inquiry = get_visible(
        Inquiry.objects.select_related("case", "case__customer", "case__subscription__plan"),
        request.user,
        pk=inquiry_id,
    )
    exception = _exception_of(inquiry)
    form = AnswerForm(
        request.POST or None, options=inquiry.options_shown, reason_required=exception is not None
    )
    if request.method == "POST" and form.is_valid():
        try:
            _answer(request, inquiry, exception, form.cleaned_data)
        except NotVisible:
            raise
        except DomainError as exc:
            field = {"reason": "note", "option": "option"}.get(exc.field or "")
            form.add_error(field, str(exc))
        else:
            messages.success(request, _("Thank you. Your answer has been sent to the center."))
            return redirect("portal-inquiry", inquiry_id=inquiry.pk)
    customer = inquiry.case.customer
    personal_data_access(
        viewer=request.user,
        customers=[customer],
        fields=PORTAL_FIELDS,
        action=AccessAction.VIEW,
        purpose=f"inquiry:{inquiry.pk}",
        request=request,
        object_type="inquiry",
        object_ref=str(inquiry.pk),
    )
    context = {
        "inquiry": inquiry,
        "case": inquiry.case,
        "customer": customer,
        "phones": [mask_phone(p.number) for p in customer.phones.all()],
        "exception": exception,
        "precedents": [
            (p, ExceptionOutcome(p.outcome).label if p.outcome in ExceptionOutcome.values else "")
            for p in (
                exception_precedents(viewer=request.user, exception=exception) if exception else []
            )
        ],
        "form": form,
        "is_open": inquiry.status == InquiryStatus.OPEN,
        "answer_label": next(
            (o["label"] for o in inquiry.options_shown if o["code"] == inquiry.answer_option), ""
        ),
    }
    return render(request, "web/portal/inquiry.html", context, status=400 if form.errors else 200)


def _answer(request, inquiry: Inquiry, exception: ExceptionRequest | None, data: dict) -> None:
    """An exception's inquiry is ruled through the cancellation service (it records the
    ruling for precedents); any other inquiry is answered as such."""
    if exception is not None and exception.outcome == ExceptionOutcome.PENDING:
        cancellation_exception_rule(
            actor=request.user,
            exception=exception,
            granted=data["option"] == GRANT,
            reason=data["note"],
        )
        return
    inquiry_answer(inquiry=inquiry, actor=request.user, option=data["option"], note=data["note"])
