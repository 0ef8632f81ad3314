"""One JSON shape for every error the API returns: code, message and errors per field.

Refusals that may be probing (no or bad token, a missing scope, an id that is missing or
another client's, an address the webhooks refuse, an oversized body) are also written to the
`azukari.security` log with the token and the address, never with the body.
"""

import logging
import sys

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from azukari.audit.netaddr import client_ip
from azukari.core.errors import DomainError

security_log = logging.getLogger("azukari.security")
request_log = logging.getLogger("django.request")

# Seconds a client should wait before retrying when the database cannot be reached (a
# failover moves the connections to the new primary within a few seconds).
RETRY_AFTER_SECONDS = 10

_LOGGED_STATUSES = {401, 403, 404, 413}
_LOGGED_CODES = {"unsafe_url"}


class ErrorOut(Schema):
    code: str
    message: str
    field_errors: dict[str, list[str]] = {}


# Statuses an endpoint may answer with besides its success; listed in the OpenAPI document.
ERROR_RESPONSES: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}


def responses(ok: dict[int, object]) -> dict[int, object]:
    return {**ERROR_RESPONSES, **ok}


def error_response(
    api: NinjaAPI,
    request: HttpRequest,
    *,
    status: int,
    code: str,
    message: str,
    field_errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    if status in _LOGGED_STATUSES or code in _LOGGED_CODES:
        token = getattr(request, "_api_token", None)
        security_log.info(
            "API refused: status=%s code=%s %s %s token=%s ip=%s",
            status,
            code,
            request.method,
            request.path,
            getattr(token, "pk", None),
            client_ip(request),
        )
    body = {"code": code, "message": message, "field_errors": field_errors or {}}
    return api.create_response(request, body, status=status)


_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def _field_name(loc: tuple | list, request: HttpRequest) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
        # A JSON body is one parameter named after the view argument ("payload"): drop it.
        if loc[0] == "body" and len(parts) > 1 and parts[0] == "payload":
            parts = parts[1:]
    return ".".join(parts) or "__all__"


def unexpected_error_response(
    api: NinjaAPI, request: HttpRequest, exc: BaseException, *, log: bool = True
) -> HttpResponse:
    """An error no handler expected, still in the one shape: 503 with Retry-After when the
    database cannot be reached (or is busy), 500 otherwise. The traceback goes to the log."""
    if log:
        request_log.error(
            "Internal Server Error: %s",
            request.path,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
    if isinstance(exc, OperationalError | InterfaceError):
        response = error_response(
            api,
            request,
            status=503,
            code="unavailable",
            message=gettext("The database cannot be reached just now; try again shortly."),
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return error_response(
        api,
        request,
        status=500,
        code="server_error",
        message=gettext("Something went wrong on our side; the error was logged."),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler: JSON under /api/ (an error raised outside the API's own
    handlers, e.g. in a middleware), the plain error page elsewhere."""
    from django.views.defaults import server_error as page

    exc = sys.exc_info()[1]
    if request.path.startswith("/api/") and exc is not None:
        from azukari.api.api import api

        try:
            return unexpected_error_response(api, request, exc, log=False)  # Django logs it
        except Exception:  # the JSON answer itself failed: fall back to the page
            pass
    return page(request)


def install(api: NinjaAPI) -> None:
    """Maps domain refusals, validation errors and HTTP errors onto ErrorOut."""

    @api.exception_handler(DomainError)
    def _domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
        message = str(exc.message)
        fields = {exc.field: [message]} if exc.field else {}
        return error_response(
            api, request, status=exc.status, code=exc.code, message=message, field_errors=fields
        )

    @api.exception_handler(ValidationError)
    def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            name = _field_name(error.get("loc", ()), request)
            fields.setdefault(name, []).append(str(error.get("msg", "")))
        return error_response(
            api,
            request,
            status=422,
            code="validation_error",
            message=gettext("Some fields are not valid."),
            field_errors=fields,
        )

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = error_response(
            api,
            request,
            status=401,
            code="unauthorized",
            message=gettext("A valid API token is required."),
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(Throttled)
    def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        return error_response(
            api,
            request,
            status=429,
            code="rate_limited",
            message=gettext("Too many requests for this token; try again in a minute."),
        )

    @api.exception_handler(RequestDataTooBig)
    def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return error_response(
            api,
            request,
            status=413,
            code="too_large",
            message=gettext("The request body is too large; send smaller batches."),
        )

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, DomainError):  # a refusal while reading the body
            return _domain(request, exc.__cause__)
        if exc.status_code == 400:  # the only one django-ninja raises: an unreadable body
            return error_response(
                api,
                request,
                status=400,
                code="malformed",
                message=gettext("The request body is not valid JSON."),
            )
        return error_response(
            api, request, status=exc.status_code, code="http_error", message=str(exc.message)
        )

    @api.exception_handler(Exception)
    def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        return unexpected_error_response(api, request, exc)

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(
            api, request, status=404, code="not_found", message=str(_("Not found."))
        )
