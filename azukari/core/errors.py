"""Domain errors: raised by services, shown to users in their language, never half-applied."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A rule of the domain refused the request; `field` names the input at fault, if any."""

    code = "invalid"
    status = 400

    def __init__(self, message, *, field: str | None = None, code: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code:
            self.code = code

    def __str__(self) -> str:
        return str(self.message)


class IllegalTransition(DomainError):
    code = "illegal_transition"
    status = 409


class StaleVersion(DomainError):
    """Someone else changed the object since the caller read it."""

    code = "conflict"
    status = 409

    def __init__(self, message=None, *, current_version: int | None = None):
        super().__init__(
            message
            or _("This case was changed by someone else meanwhile. Reload it and try again."),
            field="version",
        )
        self.current_version = current_version


class NotVisible(DomainError):
    """Missing and not-yours look the same from outside."""

    code = "not_found"
    status = 404

    def __init__(self, message=None, *, field: str | None = None):
        super().__init__(message or _("Not found."), field=field)


class PermissionRefused(DomainError):
    code = "forbidden"
    status = 403
