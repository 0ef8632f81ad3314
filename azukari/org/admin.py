from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from azukari.org.models import Client, ClientClosedDay, ClientLine, Site, SiteHours, Team, User


class ClientClosedDayInline(admin.TabularInline):
    model = ClientClosedDay
    extra = 0


class ClientLineInline(admin.TabularInline):
    model = ClientLine
    extra = 0


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "contract_signed_on", "is_active"]
    search_fields = ["code", "name", "name_kana"]
    inlines = [ClientLineInline, ClientClosedDayInline]


class SiteHoursInline(admin.TabularInline):
    model = SiteHours
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "status", "status_changed_at"]
    inlines = [SiteHoursInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "site", "is_azukari_desk"]
    list_filter = ["site", "is_azukari_desk"]
    filter_horizontal = ["clients"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "display_name",
        "role",
        "home_site",
        "employment_status",
        "agreement_signed_on",
    ]
    list_filter = ["role", "home_site", "employment_status"]
    search_fields = ["username", "first_name", "last_name", "display_name", "agent_id"]
    filter_horizontal = ["clients", "groups", "user_permissions"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (
            _("Work"),
            {
                "fields": [
                    "role",
                    "display_name",
                    "language",
                    "home_site",
                    "team",
                    "clients",
                    "client",
                    "agent_id",
                ]
            },
        ),
        (
            _("Confidentiality and employment"),
            {
                "fields": [
                    "agreement_signed_on",
                    "agreement_version",
                    "employment_status",
                    "left_on",
                ]
            },
        ),
    ]
