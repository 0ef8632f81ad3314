"""Admin for each client's contact reason codes and after-call-work codes.

New codes are created through the reports services (same checks as everywhere); a code is
never deleted or renamed once it exists, because contacts keep it: take it out of use instead.
"""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from azukari.core.admin import ClientScopedAdmin
from azukari.core.errors import DomainError
from azukari.org.permissions import Cap, user_can
from azukari.reports.models import AfterCallWorkCode, ReasonCode
from azukari.reports.services import acw_code_create, reason_code_create


class CodeAdmin(ClientScopedAdmin):
    list_display = ["code", "label", "label_en", "client", "position", "is_active"]
    list_filter = ["client", "is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["code", "label", "label_en"]
    create = staticmethod(reason_code_create)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ["client", "code"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            created = self.create(
                actor=request.user,
                client=obj.client,
                code=obj.code,
                label=obj.label,
                label_en=obj.label_en,
                position=obj.position,
            )
        except DomainError as exc:  # the form's own checks ran first; a race lands here
            raise ValidationError(str(exc.message)) from exc
        obj.pk = created.pk


@admin.register(ReasonCode)
class ReasonCodeAdmin(CodeAdmin):
    """Reason codes are set up by managers, as on the set-up pages (`reason_code_create`)."""

    create = staticmethod(reason_code_create)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return user_can(request.user, Cap.CLIENTS_SET_UP) and super().has_add_permission(request)


@admin.register(AfterCallWorkCode)
class AfterCallWorkCodeAdmin(CodeAdmin):
    create = staticmethod(acw_code_create)
