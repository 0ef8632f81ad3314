"""Cases are worked in the pages; the admin shows them read-only for audits and support."""

from django.contrib import admin

from azukari.cases.models import Callback, Case, CaseEvent, Contact, Inquiry
from azukari.core.admin import ClientScopedAdmin


class ReadOnlyAdmin(ClientScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ["at", "actor", "kind", "from_state", "to_state", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["id", "subject", "client", "state", "azukari_reason", "site", "opened_at"]
    list_filter = ["state", "azukari_reason", "client", "site"]
    inlines = [CaseEventInline]


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "direction", "client", "handler", "stance"]
    list_filter = ["direction", "client"]


@admin.register(Inquiry)
class InquiryAdmin(ReadOnlyAdmin):
    list_display = ["case", "status", "sent_at", "due_at", "answered_at"]
    list_filter = ["status", "client"]


@admin.register(Callback)
class CallbackAdmin(ReadOnlyAdmin):
    list_display = ["case", "status", "scheduled_for", "attempts"]
    list_filter = ["status", "client"]
