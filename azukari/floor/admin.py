"""Reference data of the floor (criteria, thresholds) is kept here; daily work is in the pages."""

from django.contrib import admin

from azukari.core.admin import ClientScopedAdmin
from azukari.floor import services
from azukari.floor.models import (
    CallEnding,
    FloorIntervention,
    FloorThreshold,
    HarassmentCriterion,
    HarassmentCriterionVersion,
    Notice,
    NoticeRead,
)
from azukari.org.permissions import Cap, user_can


class RecordAdmin(ClientScopedAdmin):
    """Records of what happened on the floor are read-only: they are evidence."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HarassmentCriterionVersionInline(admin.TabularInline):
    model = HarassmentCriterionVersion
    fields = ["at", "by", "label", "description", "is_active"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(HarassmentCriterion)
class HarassmentCriterionAdmin(ClientScopedAdmin):
    """Through the same services as the criteria pages; a criterion is made inactive, never
    deleted (calls ended under it point to it)."""

    list_display = ["client", "code", "label", "is_active"]
    list_filter = ["client", "is_active"]
    inlines = [HarassmentCriterionVersionInline]

    def get_readonly_fields(self, request, obj=None):
        return ["client", "code"] if obj is not None else []

    def has_add_permission(self, request) -> bool:
        return user_can(request.user, Cap.CRITERIA_EDIT) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return user_can(request.user, Cap.CRITERIA_EDIT) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        if change and not form.has_changed():
            return
        if change:
            services.criterion_update(
                actor=request.user,
                criterion=obj,
                label=data["label"],
                description=data.get("description", ""),
                is_active=data.get("is_active", True),
                request=request,
            )
        else:
            created = services.criterion_create(
                actor=request.user,
                client=data["client"],
                code=data["code"],
                label=data["label"],
                description=data.get("description", ""),
                request=request,
            )
            obj.pk = created.pk


@admin.register(FloorThreshold)
class FloorThresholdAdmin(ClientScopedAdmin):
    list_display = ["client", "minutes"]


@admin.register(Notice)
class NoticeAdmin(RecordAdmin):
    list_display = ["title", "client", "site", "published_at", "published_by"]
    list_filter = ["client", "site"]


@admin.register(NoticeRead)
class NoticeReadAdmin(RecordAdmin):
    list_display = ["notice", "reader", "read_at"]


@admin.register(CallEnding)
class CallEndingAdmin(RecordAdmin):
    list_display = ["contact", "criterion", "by", "at", "customer_flagged"]
    list_filter = ["client"]


@admin.register(FloorIntervention)
class FloorInterventionAdmin(RecordAdmin):
    list_display = ["contact", "kind", "by", "at", "previous_handler"]
    list_filter = ["client", "kind"]
