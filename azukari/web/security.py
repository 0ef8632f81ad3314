"""Request-level security: headers and CSP, no-store, session lifetimes, required 2FA."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode

from azukari.org.auth import two_factor_required

LOGIN_AT = "azk_login_at"
SEEN_AT = "azk_seen_at"
# The idle clock is written at most this often, so ordinary requests do not write the session.
SEEN_GRANULARITY = 60

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Django's admin still carries a few inline style attributes; its scripts stay 'self' only.
CSP_ADMIN = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
# The interactive API docs load Swagger UI from its CDN; they hold no personal data.
CSP_API_DOCS = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    "https://cdn.jsdelivr.net https://django-ninja.dev; object-src 'none'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def _policy_for(path: str) -> str:
    if path.startswith("/admin/"):
        return CSP_ADMIN
    if path.startswith("/api/") and path.rstrip("/").endswith("/docs"):
        return CSP_API_DOCS
    return CSP


class SecurityHeadersMiddleware:
    """CSP and friends on every response; `no-store` on everything dynamic, since pages
    and API answers carry personal data (static files are served before this runs)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", _policy_for(request.path))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if not request.path.startswith(settings.STATIC_URL_PATH):
            add_never_cache_headers(response)
            response.headers["Cache-Control"] = "no-store, no-cache, must-revalidate, private"
        return response


def _refuse(request: HttpRequest, next_url: str) -> HttpResponse:
    if request.path.startswith("/api/") or request.headers.get("HX-Request"):
        return JsonResponse({"detail": "session expired"}, status=401)
    return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")


class SessionLifetimeMiddleware:
    """Ends a session after AZUKARI_SESSION_IDLE_MINUTES without a request, and after
    AZUKARI_SESSION_ABSOLUTE_HOURS whatever happens (a shift, not a week)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            session = request.session
            login_at = session.get(LOGIN_AT)
            seen_at = session.get(SEEN_AT, login_at)
            idle = settings.AZUKARI_SESSION_IDLE_MINUTES * 60
            absolute = settings.AZUKARI_SESSION_ABSOLUTE_HOURS * 3600
            if login_at is None:
                session[LOGIN_AT] = session[SEEN_AT] = now
            elif now - login_at > absolute or (seen_at is not None and now - seen_at > idle):
                logout(request)
                return _refuse(request, request.get_full_path())
            elif seen_at is None or now - seen_at >= SEEN_GRANULARITY:
                session[SEEN_AT] = now
        return self.get_response(request)


EXEMPT_PREFIXES = ("/login/", "/logout/", "/account/2fa/", "/language/", "/api/")


class TwoFactorMiddleware:
    """Admins, managers, client approvers (and whoever enrolled a device) see nothing but the
    two-factor pages until they have passed a second factor in this session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and not request.path.startswith(settings.STATIC_URL_PATH)
            and not user.is_verified()
            and two_factor_required(user)
        ):
            if request.headers.get("HX-Request"):
                return JsonResponse({"detail": "two-factor authentication required"}, status=401)
            return redirect(
                f"{reverse('two-factor')}?{urlencode({'next': request.get_full_path()})}"
            )
        return self.get_response(request)
