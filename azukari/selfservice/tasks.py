"""Background tasks of self-service: thin, idempotent, safe to run twice."""

import json

from django.utils import timezone

from azukari.selfservice.models import Link, LinkChannel, LinkOrigin, PageView
from azukari.selfservice.services import link_issue, link_send, page_view_record


def link_send_task(link_id: int) -> bool:
    """Sends a link; a second run finds it sent."""
    return link_send(link_id=link_id)


def receipt_send_task(link_id: int, kind: str, data: dict[str, str]) -> bool:
    """E-mails the customer a receipt of what he asked, with what the page showed him; kept
    as a page record, whose existence makes a second run send nothing."""
    from azukari.selfservice.selectors import receipt_lines
    from azukari.selfservice.sending import send_receipt

    link = Link.objects.select_related("customer", "client").filter(pk=link_id).first()
    if link is None or not link.customer.email:
        return False
    shown = {"kind": kind, **data}
    canonical = json.dumps(shown, sort_keys=True, ensure_ascii=False)
    if PageView.objects.filter(link=link, page=f"receipt:{kind}", shown=json.loads(canonical)):
        return False
    lines = receipt_lines(link=link, kind=kind)
    send_receipt(to=link.customer.email, client_name=link.client.name, lines=lines)
    page_view_record(link=link, page=f"receipt:{kind}", language="ja", shown=shown)
    return True


def update_link_task(case_id: int) -> bool:
    """The client answered: the customer of a case started online gets a fresh link, once
    per answer day (a second run finds the link of the day)."""
    from azukari.cases.models import Case
    from azukari.selfservice.models import SelfServiceSettings

    case = Case.objects.select_related("customer", "client").filter(pk=case_id).first()
    if case is None or case.customer is None:
        return False
    ss = SelfServiceSettings.objects.filter(client_id=case.client_id).first()
    if ss is None or not ss.notify_updates:
        return False
    today = timezone.localdate()
    if Link.objects.filter(
        customer=case.customer, origin=LinkOrigin.UPDATE, created_at__date=today
    ).exists():
        return False
    channel = LinkChannel.SMS if case.customer.phones.exists() else LinkChannel.EMAIL
    link_issue(customer=case.customer, channel=channel, origin=LinkOrigin.UPDATE)
    return True
