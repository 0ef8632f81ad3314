"""The address a request came from, honouring only the proxies the deployment declares."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str | None:
    """REMOTE_ADDR, or with AZUKARI_PROXY_COUNT=n the n-th address from the right of
    X-Forwarded-For (the one the outermost trusted proxy saw). Garbage gives None."""
    if request is None:
        return None
    raw = request.META.get("REMOTE_ADDR", "")
    hops = getattr(settings, "AZUKARI_PROXY_COUNT", 0)
    if hops:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= hops:
            raw = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None
