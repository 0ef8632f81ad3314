"""Cases: filtered lists with cursor pagination, detail with history, and lifecycle actions.

Actions run the case services as the token's service user; a stale `version` gets 409, an
illegal move 409, another client's case 404.
"""

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field as F
from ninja import Path, Query, Router, Schema, Status

from azukari.api.auth import scoped
from azukari.api.errors import responses
from azukari.api.models import Scope
from azukari.api.schemas import (
    MAX_ID,
    CaseAssignIn,
    CaseDetailOut,
    CaseNoteIn,
    CaseOpenIn,
    CasePageOut,
    CaseParkIn,
    CasePromiseIn,
    CaseReopenIn,
    CaseResolveIn,
    CaseStateName,
    CaseWaitIn,
    InquirySendIn,
    ReasonName,
    VersionIn,
)
from azukari.api.selectors import CaseFilter, case_detail, cases_list
from azukari.audit.models import AccessAction
from azukari.audit.services import personal_data_access
from azukari.cases import services
from azukari.cases.models import Case, Contact
from azukari.cases.overdue import case_is_overdue, inquiry_is_overdue
from azukari.core.errors import DomainError
from azukari.core.visibility import get_visible
from azukari.org.models import CENTER_ROLES, Team, User
from azukari.org.people import same_site_or_all_sites, staff_label
from azukari.subscriptions.models import Subscription

router = Router(tags=["Cases"])

CaseId = Path(..., ge=1, le=MAX_ID)


class CaseQuery(Schema):
    state: list[CaseStateName] = F(default_factory=list, description="Any of these states")
    reason: ReasonName | None = None
    site: str | None = F(None, max_length=32, description="Site code")
    client: str | None = F(None, max_length=32, description="Client code")
    customer_number: str | None = F(None, max_length=64)
    min_age_days: int | None = F(None, ge=0, le=3650, description="Opened at least this long ago")
    overdue: bool | None = F(None, description="Past its due time or promised callback")
    cursor: str | None = F(None, max_length=200)
    limit: int = F(50, ge=1, le=200)


def _person(user: User | None, viewer) -> str | None:
    """An agent id (or login) for staff of the token's own site; another site's staff as site
    and role, as the pages show them (a token's site is its service user's home site)."""
    if user is None:
        return None
    reader = getattr(viewer, "service_user", None) or viewer
    if user.role in CENTER_ROLES and not same_site_or_all_sites(reader, user):
        return staff_label(reader, user)
    return user.agent_id or user.username


def case_out(case: Case, viewer) -> dict:
    now = timezone.now()
    return {
        "id": case.pk,
        "client": case.client.code,
        "customer_id": case.customer_id,
        "customer_number": case.customer.customer_number,
        "subscription_external_id": case.subscription.external_id if case.subscription_id else None,
        "kind": case.kind,
        "subject": case.subject,
        "state": case.state,
        "azukari_reason": case.azukari_reason,
        "site": case.site.code,
        "owner_team": case.owner_team.code if case.owner_team_id else None,
        "assignee": _person(case.assignee, viewer),
        "opened_at": case.opened_at,
        "parked_at": case.parked_at,
        "due_at": case.due_at,
        "promised_callback_at": case.promised_callback_at,
        "resolved_at": case.resolved_at,
        "outcome": case.outcome,
        "reopen_count": case.reopen_count,
        "overdue": case_is_overdue(case, now=now),
        "version": case.version,
    }


def inquiry_out(inquiry, now) -> dict:
    return {
        "id": inquiry.pk,
        "case_id": inquiry.case_id,
        "status": inquiry.status,
        "question": inquiry.question_text,
        "options": inquiry.options_shown,
        "sent_at": inquiry.sent_at,
        "due_at": inquiry.due_at,
        "overdue": inquiry_is_overdue(inquiry, now=now),
        "answer_option": inquiry.answer_option,
        "answer_note": inquiry.answer_note,
        "answered_at": inquiry.answered_at,
    }


def case_detail_out(case: Case, viewer) -> dict:
    now = timezone.now()
    return {
        **case_out(case, viewer),
        "events": [
            {
                "id": e.pk,
                "at": e.at,
                "actor": _person(e.actor, viewer),
                "kind": e.kind,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "note": e.note_text,
                "data": e.data,
            }
            for e in case.events.all()
        ],
        "inquiries": [inquiry_out(i, now) for i in case.inquiries.all()],
        "callbacks": [
            {
                "id": c.pk,
                "status": c.status,
                "origin": c.origin,
                "promised_for": c.promised_for,
                "scheduled_for": c.scheduled_for,
                "attempts": c.attempts,
            }
            for c in case.callbacks.all()
        ],
    }


@router.get(
    "/cases",
    response=responses({200: CasePageOut}),
    auth=scoped(Scope.CASES_READ),
    operation_id="cases_list",
    summary="Cases, newest first, with filters and a cursor",
)
def list_cases(request: HttpRequest, params: Query[CaseQuery]):
    rows, next_cursor = cases_list(
        viewer=request.auth,
        filters=CaseFilter(
            states=list(params.state),
            reason=params.reason,
            site=params.site,
            client=params.client,
            customer_number=params.customer_number,
            min_age_days=params.min_age_days,
            overdue=params.overdue,
        ),
        cursor=params.cursor,
        limit=params.limit,
    )
    personal_data_access(
        viewer=request.auth,
        customers=[c.customer for c in rows],
        fields=("customer_number",),
        action=AccessAction.SEARCH,
        purpose="api case list",
        request=request,
        object_type="case_list",
    )
    return {"items": [case_out(c, request.auth) for c in rows], "next_cursor": next_cursor}


@router.get(
    "/cases/{case_id}",
    response=responses({200: CaseDetailOut}),
    auth=scoped(Scope.CASES_READ),
    operation_id="case_get",
    summary="One case with its history, inquiries and callbacks",
)
def get_case(request: HttpRequest, case_id: int = CaseId):
    case = case_detail(viewer=request.auth, case_id=case_id)
    personal_data_access(
        viewer=request.auth,
        customers=[case.customer],
        fields=("customer_number", "case_history"),
        action=AccessAction.VIEW,
        purpose=f"api case:{case.pk}",
        request=request,
        object_type="case",
        object_ref=str(case.pk),
    )
    return case_detail_out(case, request.auth)


# Teams and staff are looked up among those serving the case's client only: a team code or
# agent id of another client's people answers exactly like an unknown one, so the API cannot be
# used to probe the center's staff directory.


def _team(code: str | None, case: Case) -> Team | None:
    if not code:
        return None
    team = Team.objects.select_related("site").filter(code=code, clients=case.client_id).first()
    if team is None:
        raise DomainError(_("No team has this code."), field="team")
    return team


def _assignee(agent_id: str | None, case: Case) -> User | None:
    if not agent_id:
        return None
    user = User.objects.filter(agent_id=agent_id, clients=case.client_id).first()
    if user is None:
        raise DomainError(_("No staff member has this agent id."), field="assignee_agent_id")
    return user


def _act(request: HttpRequest, case_id: int, action: Callable[[Case, User], object]) -> dict:
    """Loads the case through the door, runs one service (which queues its webhooks, as it
    does for a page), returns the case."""
    with transaction.atomic():
        case = get_visible(Case.objects.select_related("client", "site"), request.auth, pk=case_id)
        action(case, request.auth.service_user)
    return case_detail_out(case_detail(viewer=request.auth, case_id=case_id), request.auth)


ACTION = {
    "response": responses({200: CaseDetailOut}),
    "auth": scoped(Scope.CASES_WRITE),
}


@router.post(
    "/cases",
    response=responses({201: CaseDetailOut}),
    auth=scoped(Scope.CASES_WRITE),
    operation_id="case_open",
    summary="Open a case from a contact",
)
def open_case(request: HttpRequest, payload: CaseOpenIn):
    with transaction.atomic():
        contact = get_visible(
            Contact.objects.select_related("client"), request.auth, pk=payload.contact_id
        )
        subscription = None
        if payload.subscription_external_id:
            subscription = (
                Subscription.objects.visible_to(request.auth)
                .filter(client_id=contact.client_id, external_id=payload.subscription_external_id)
                .first()
            )
            if subscription is None:
                raise DomainError(
                    _("No subscription has this id."), field="subscription_external_id"
                )
        case = services.case_open(
            contact=contact,
            actor=request.auth.service_user,
            kind=payload.kind,
            subject=payload.subject,
            subscription=subscription,
            note=payload.note,
        )
    case = case_detail(viewer=request.auth, case_id=case.pk)
    return Status(201, case_detail_out(case, request.auth))


@router.post("/cases/{case_id}/park", operation_id="case_park", summary="Park as azukari", **ACTION)
def park_case(request: HttpRequest, payload: CaseParkIn, case_id: int = CaseId):
    def run(case: Case, actor: User):
        team = _team(payload.team, case)
        return services.case_park(
            case=case,
            version=payload.version,
            actor=actor,
            reason=payload.reason,
            team=team,
            assignee=_assignee(payload.assignee_agent_id, case),
            state=payload.state,
            promised_callback_at=payload.promised_callback_at,
            customer_requested=payload.customer_requested,
            due_at=payload.due_at,
            note=payload.note,
        )

    return _act(request, case_id, run)


@router.post(
    "/cases/{case_id}/assign", operation_id="case_assign", summary="Hand to a team", **ACTION
)
def assign_case(request: HttpRequest, payload: CaseAssignIn, case_id: int = CaseId):
    return _act(
        request,
        case_id,
        lambda case, actor: services.case_assign(
            case=case,
            version=payload.version,
            actor=actor,
            team=_team(payload.team, case),
            assignee=_assignee(payload.assignee_agent_id, case),
            note=payload.note,
        ),
    )


@router.post(
    "/cases/{case_id}/resume", operation_id="case_resume", summary="Center's turn again", **ACTION
)
def resume_case(request: HttpRequest, payload: VersionIn, case_id: int = CaseId):
    return _act(
        request,
        case_id,
        lambda case, actor: services.case_resume(
            case=case, version=payload.version, actor=actor, note=payload.note
        ),
    )


@router.post(
    "/cases/{case_id}/wait-on-customer",
    operation_id="case_wait_on_customer",
    summary="The customer must act",
    **ACTION,
)
def wait_on_customer(request: HttpRequest, payload: CaseWaitIn, case_id: int = CaseId):
    return _act(
        request,
        case_id,
        lambda case, actor: services.case_wait_on_customer(
            case=case,
            version=payload.version,
            actor=actor,
            note=payload.note,
            due_at=payload.due_at,
        ),
    )


@router.post(
    "/cases/{case_id}/promise-callback",
    operation_id="case_promise_callback",
    summary="Promise the customer a call",
    **ACTION,
)
def promise_callback(request: HttpRequest, payload: CasePromiseIn, case_id: int = CaseId):
    return _act(
        request,
        case_id,
        lambda case, actor: services.case_promise_callback(
            case=case,
            version=payload.version,
            actor=actor,
            promised_for=payload.promised_for,
            customer_requested=payload.customer_requested,
            note=payload.note,
        ),
    )


@router.post(
    "/cases/{case_id}/inquiries",
    operation_id="case_inquiry_send",
    summary="Send an inquiry (伺い) to the client",
    **ACTION,
)
def send_inquiry(request: HttpRequest, payload: InquirySendIn, case_id: int = CaseId):
    return _act(
        request,
        case_id,
        lambda case, actor: services.inquiry_send(
            case=case,
            version=payload.version,
            actor=actor,
            question=payload.question,
            options=[o.dict() for o in payload.options],
            due_at=payload.due_at,
            team=_team(payload.team, case),
        ),
    )


@router.post(
    "/cases/{case_id}/notes", operation_id="case_note", summary="Add an internal note", **ACTION
)
def note_case(request: HttpRequest, payload: CaseNoteIn, case_id: int = CaseId):
    return _act(
        request,
        case_id,
        lambda case, actor: services.case_note(case=case, actor=actor, note=payload.note),
    )


@router.post("/cases/{case_id}/resolve", operation_id="case_resolve", summary="Resolve", **ACTION)
def resolve_case(request: HttpRequest, payload: CaseResolveIn, case_id: int = CaseId):
    return _act(
        request,
        case_id,
        lambda case, actor: services.case_resolve(
            case=case,
            version=payload.version,
            actor=actor,
            outcome=payload.outcome,
            note=payload.note,
        ),
    )


@router.post("/cases/{case_id}/close", operation_id="case_close", summary="Close", **ACTION)
def close_case(request: HttpRequest, payload: VersionIn, case_id: int = CaseId):
    return _act(
        request,
        case_id,
        lambda case, actor: services.case_close(
            case=case, version=payload.version, actor=actor, note=payload.note
        ),
    )


@router.post("/cases/{case_id}/reopen", operation_id="case_reopen", summary="Reopen", **ACTION)
def reopen_case(request: HttpRequest, payload: CaseReopenIn, case_id: int = CaseId):
    return _act(
        request,
        case_id,
        lambda case, actor: services.case_reopen(
            case=case,
            version=payload.version,
            actor=actor,
            note=payload.note,
            team=_team(payload.team, case),
        ),
    )
