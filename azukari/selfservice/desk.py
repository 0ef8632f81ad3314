"""The operator's button on the screen pop and the case workspace: "send the options by SMS
/ e-mail". Thin: the link service decides."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from azukari.core.errors import DomainError
from azukari.core.visibility import get_visible
from azukari.customers.models import Customer
from azukari.org.permissions import Cap, page_for
from azukari.selfservice.models import LinkChannel, LinkOrigin
from azukari.selfservice.services import link_issue


@require_POST
@login_required
@page_for(Cap.CENTER_PAGES, refuse_with_404=True)
def send_link(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_visible(Customer.objects.select_related("client"), request.user, pk=customer_id)
    channel = request.POST.get("channel", "")
    try:
        link_issue(
            customer=customer, channel=channel, origin=LinkOrigin.OPERATOR, issued_by=request.user
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        if channel == LinkChannel.EMAIL:
            messages.success(request, _("The options are on their way by e-mail."))
        else:
            messages.success(request, _("The options are on their way by SMS."))
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect("desk-pop", customer_id=customer.pk)
    return redirect(target)
