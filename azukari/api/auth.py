"""Bearer-token authentication with one scope per endpoint."""

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.security import HttpBearer

from azukari.api.models import ApiToken
from azukari.api.services import api_token_authenticate
from azukari.core.errors import PermissionRefused


class MissingScope(PermissionRefused):
    code = "missing_scope"


class ScopedToken(HttpBearer):
    """`Authorization: Bearer azk_…`; a valid token without the endpoint's scope gets 403."""

    openapi_description = "An integration token issued by the center (`azukari api token create`)."

    def __init__(self, scope: str):
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = getattr(request, "_api_token", None)
        if found is None:
            found = api_token_authenticate(token.strip())
            if found is None:
                return None
            request._api_token = found
        if not found.has_scope(self.scope):
            raise MissingScope(_("This token lacks the “%(scope)s” scope.") % {"scope": self.scope})
        return found


def scoped(scope: str) -> ScopedToken:
    return ScopedToken(scope)
