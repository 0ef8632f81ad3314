"""Reference data of the floor (criteria, thresholds) is kept here; daily work is in the pages."""

from django.contrib import admin

from azukari.core.admin import ClientScopedAdmin
from azukari.floor.models import (
    CallEnding,
    FloorIntervention,
    FloorThreshold,
    HarassmentCriterion,
    Notice,
    NoticeRead,
)


class RecordAdmin(ClientScopedAdmin):
    """Records of what happened on the floor are read-only: they are evidence."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HarassmentCriterion)
class HarassmentCriterionAdmin(ClientScopedAdmin):
    list_display = ["client", "code", "label", "is_active"]
    list_filter = ["client", "is_active"]


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
