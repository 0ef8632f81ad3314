"""Contact events from a PBX/CTI: one Contact per call, whatever order the events come in."""

from django.http import HttpRequest
from ninja import Router

from azukari.api.auth import scoped
from azukari.api.errors import responses
from azukari.api.models import Scope
from azukari.api.schemas import ContactEventIn, ContactOut
from azukari.api.services import contact_event_record, contact_status
from azukari.core.errors import NotVisible
from azukari.core.phones import normalize_phone
from azukari.org.models import ClientLine

router = Router(tags=["Contact events"])


@router.post(
    "/contacts/events",
    response=responses({200: ContactOut}),
    auth=scoped(Scope.CONTACTS_WRITE),
    operation_id="contact_event",
    summary="Record a call event (started, answered, ended, abandoned); idempotent by call id",
)
def post_contact_event(request: HttpRequest, payload: ContactEventIn):
    dialled = normalize_phone(payload.dialled_number, field="dialled_number")
    line = ClientLine.objects.select_related("client").filter(number=dialled or "").first()
    if line is None:
        raise NotVisible()
    contact, created = contact_event_record(
        viewer=request.auth,
        client=line.client,
        call_id=payload.call_id,
        event=payload.event,
        at=payload.at,
        caller_number=payload.caller_number,
        agent_id=payload.agent_id,
        recording_id=payload.recording_id or "",
    )
    handler = contact.handler
    return {
        "id": contact.pk,
        "client": line.client.code,
        "call_id": contact.pbx_call_id,
        "status": contact_status(contact),
        "caller_number": contact.caller_number,
        "customer_id": contact.customer_id,
        "handler": (handler.agent_id or handler.username) if handler else None,
        "started_at": contact.started_at,
        "answered_at": contact.answered_at,
        "ended_at": contact.ended_at,
        "recording_id": contact.recording_id,
        "created": created,
    }
