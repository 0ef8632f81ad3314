"""/api/v1/ and the API's own answers for a wrong method or an unknown path, in the one shape."""

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, path, re_path
from django.utils.translation import gettext

from azukari.api.api import api
from azukari.api.errors import error_response


def _shaped_not_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """django-ninja answers a wrong method with an empty 405; give it the error shape."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            shaped = error_response(
                api,
                request,
                status=405,
                code="method_not_allowed",
                message=gettext("This method is not allowed here."),
            )
            shaped["Allow"] = response["Allow"]
            return shaped
        return response

    return wrapper


def _shaped(patterns: list) -> list:
    return [
        URLPattern(p.pattern, _shaped_not_allowed(p.callback), p.default_args, p.name)
        if isinstance(p, URLPattern)
        else p
        for p in patterns
    ]


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return error_response(api, request, status=404, code="not_found", message=gettext("Not found."))


_patterns, _app_name, _namespace = api.urls

urlpatterns = [
    path("v1/", (_shaped(_patterns), _app_name, _namespace)),
    re_path(r"^(?P<rest>.*)$", not_found),
]
