"""The client's self-service settings are set here; links and page records are read only."""

from django.contrib import admin

from azukari.core.admin import ClientScopedAdmin
from azukari.selfservice.models import Link, PageView, SelfServiceSettings


@admin.register(SelfServiceSettings)
class SelfServiceSettingsAdmin(ClientScopedAdmin):
    list_display = ("client", "identity_fact", "offers_request", "offers_choice", "link_hours")
    readonly_fields = ("service_user",)


@admin.register(Link)
class LinkAdmin(ClientScopedAdmin):
    list_display = ("client", "channel", "origin", "created_at", "expires_at", "used_at")
    list_filter = ("channel", "origin")
    readonly_fields = [f.name for f in Link._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(PageView)
class PageViewAdmin(ClientScopedAdmin):
    list_display = ("client", "page", "at", "language", "content_hash")
    list_filter = ("page",)
    readonly_fields = [f.name for f in PageView._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
