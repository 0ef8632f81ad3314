"""Rate limit per integration token, so a token cannot be used to pull customers in bulk.

A fixed one-minute window counted in Django's cache (`cache.add` then `cache.incr`, atomic in
every backend Django ships). With the default local-memory cache each server process counts
alone, so a deployment of N processes allows up to N times the limit; set `CACHES` to a shared
backend to make it one count per token.
"""

import logging
import time

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from azukari.api.models import ApiToken
from azukari.core.ratelimit import window_count

security_log = logging.getLogger("azukari.security")

WINDOW_SECONDS = 60


def api_rate_per_minute() -> int:
    """Requests a token may make per minute; 0 turns the limit off."""
    return int(getattr(settings, "AZUKARI_API_REQUESTS_PER_MINUTE", 0) or 0)


class TokenRateThrottle(BaseThrottle):
    """Counts the requests of the authenticated token; runs after authentication."""

    def allow_request(self, request: HttpRequest) -> bool:
        limit = api_rate_per_minute()
        token = getattr(request, "auth", None)
        if limit <= 0 or not isinstance(token, ApiToken):
            return True
        count, _left = window_count("api-rate", token.pk, WINDOW_SECONDS)
        if count > limit:
            if count == limit + 1:
                security_log.warning(
                    "API rate limit reached: token=%s client=%s limit=%d/min",
                    token.pk,
                    token.client_id,
                    limit,
                )
            return False
        return True

    def wait(self) -> float:
        return WINDOW_SECONDS - time.time() % WINDOW_SECONDS
