"""Inquiries (伺い) for client approvers: what awaits the client, and its answer."""

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field as F
from ninja import Path, Query, Router, Schema

from azukari.api.auth import scoped
from azukari.api.errors import responses
from azukari.api.models import Scope
from azukari.api.routers.cases import inquiry_out
from azukari.api.schemas import MAX_ID, ClientInquiryOut, InquiryAnswerIn, InquiryPageOut
from azukari.audit.models import AccessAction
from azukari.audit.services import personal_data_access
from azukari.cases import services
from azukari.cases.models import Inquiry, InquiryStatus
from azukari.cases.overdue import inquiry_overdue_q
from azukari.core.visibility import get_visible

router = Router(tags=["Inquiries"])

InquiryId = Path(..., ge=1, le=MAX_ID)


class InquiryQuery(Schema):
    status: str = F(InquiryStatus.OPEN, pattern="^(open|answered|withdrawn)$")
    overdue: bool | None = None
    limit: int = F(100, ge=1, le=500)


def client_inquiry_out(inquiry: Inquiry, now) -> dict:
    case = inquiry.case
    return {
        **inquiry_out(inquiry, now),
        "case": {
            "id": case.pk,
            "kind": case.kind,
            "subject": case.subject,
            "state": case.state,
            "customer_number": case.customer.customer_number,
            "subscription_external_id": case.subscription.external_id
            if case.subscription_id
            else None,
        },
    }


def _inquiries(request: HttpRequest):
    return Inquiry.objects.visible_to(request.auth).select_related(
        "case__customer", "case__subscription"
    )


@router.get(
    "/inquiries",
    response=responses({200: InquiryPageOut}),
    auth=scoped(Scope.INQUIRIES_READ),
    operation_id="inquiries_list",
    summary="Inquiries, soonest due first (default: those awaiting the client)",
)
def list_inquiries(request: HttpRequest, params: Query[InquiryQuery]):
    now = timezone.now()
    qs = _inquiries(request).filter(status=params.status)
    if params.overdue is True:
        qs = qs.filter(inquiry_overdue_q(now))
    elif params.overdue is False:
        qs = qs.exclude(inquiry_overdue_q(now))
    rows = list(qs.order_by("due_at", "id")[: params.limit + 1])
    personal_data_access(
        viewer=request.auth,
        customers=[i.case.customer for i in rows[: params.limit]],
        fields=("customer_number",),
        action=AccessAction.SEARCH,
        purpose="api inquiry list",
        request=request,
        object_type="inquiry_list",
    )
    return {
        "items": [client_inquiry_out(i, now) for i in rows[: params.limit]],
        "truncated": len(rows) > params.limit,
    }


@router.get(
    "/inquiries/{inquiry_id}",
    response=responses({200: ClientInquiryOut}),
    auth=scoped(Scope.INQUIRIES_READ),
    operation_id="inquiry_get",
    summary="One inquiry",
)
def get_inquiry(request: HttpRequest, inquiry_id: int = InquiryId):
    inquiry = get_visible(_inquiries(request), request.auth, pk=inquiry_id)
    return _shown(request, inquiry)


def _shown(request: HttpRequest, inquiry) -> dict:
    """One inquiry as its client reads it; reading it is a view of the customer's data."""
    personal_data_access(
        viewer=request.auth,
        customers=[inquiry.case.customer],
        fields=("customer_number",),
        action=AccessAction.VIEW,
        purpose=f"api inquiry:{inquiry.pk}",
        request=request,
        object_type="inquiry",
        object_ref=str(inquiry.pk),
    )
    return client_inquiry_out(inquiry, timezone.now())


@router.post(
    "/inquiries/{inquiry_id}/answer",
    response=responses({200: ClientInquiryOut}),
    auth=scoped(Scope.INQUIRIES_ANSWER),
    operation_id="inquiry_answer",
    summary="Answer with one of the proposed options",
)
def answer_inquiry(request: HttpRequest, payload: InquiryAnswerIn, inquiry_id: int = InquiryId):
    with transaction.atomic():
        inquiry = get_visible(_inquiries(request), request.auth, pk=inquiry_id)
        services.inquiry_answer(
            inquiry=inquiry,
            actor=request.auth.service_user,
            option=payload.option,
            note=payload.note,
        )
    inquiry = get_visible(_inquiries(request), request.auth, pk=inquiry_id)
    return _shown(request, inquiry)
