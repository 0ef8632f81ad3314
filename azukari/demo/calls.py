"""A call for the demo: the operator's phone rings through the service the PBX API uses."""

import uuid

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.api.services import CallEvent, contact_event_record
from azukari.cases.models import Contact
from azukari.core.errors import DomainError, PermissionRefused
from azukari.customers.models import CustomerPhone
from azukari.org.models import User

STORY_CUSTOMER = "CM-STORY-0001"


def demo_call_ring(*, operator: User) -> Contact:
    """Rings `operator`'s phone with a call from a customer of a client they serve (the
    story's customer first, when they serve the coffee client), as a PBX would report it."""
    if not settings.AZUKARI_DEMO:
        raise PermissionRefused(_("Simulated calls exist only in the demo."))
    if not operator.is_center_staff or not operator.agent_id:
        raise DomainError(
            _("Your login has no agent id, so no phone rings for you: sign in as an operator."),
            field="agent_id",
        )
    phones = CustomerPhone.objects.filter(
        client_id__in=operator.visible_client_ids()
    ).select_related("client", "customer")
    phone = (
        phones.filter(customer__customer_number=STORY_CUSTOMER).first()
        or phones.order_by("?").first()
    )
    if phone is None:
        raise DomainError(_("No customer with a phone number to call from."), field="caller")
    contact, _created = contact_event_record(
        viewer=operator,
        client=phone.client,
        call_id=f"demo-{uuid.uuid4().hex}",
        event=CallEvent.STARTED,
        at=timezone.now(),
        caller_number=phone.number,
        agent_id=operator.agent_id,
    )
    return contact
