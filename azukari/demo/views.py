"""The demo's own page actions; every one answers 404 outside the demo."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from azukari.core.errors import DomainError
from azukari.demo.calls import demo_call_ring


@require_POST
@login_required
def call_ring(request: HttpRequest) -> HttpResponse:
    """ "Simulate an incoming call": the signed-in operator's phone rings."""
    if not settings.AZUKARI_DEMO:
        raise Http404
    try:
        demo_call_ring(operator=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your phone is ringing: the call shows under Incoming call."))
    return redirect("desk")
