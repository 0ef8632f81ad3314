"""Admin: the audit and the incident register are read-only here; retention policies are
kept here. Incidents are kept in the register's pages, through the services."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.audit.models import (
    AccessEvent,
    AuditCheckpoint,
    Incident,
    IncidentEntry,
    LoginAttempt,
    NamedStaffRequest,
    RetentionPolicy,
    RetentionRun,
    RetentionSource,
    UserSession,
)
from azukari.audit.retention import retention_apply, retention_policy_set
from azukari.core.admin import ClientFieldScopedAdmin, ClientScopedAdmin, UserAdministrationOnly
from azukari.core.errors import DomainError


class ReadOnlyAdmin(admin.ModelAdmin):
    """Evidence is never edited by hand: no add, change or delete, not even for superusers."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccessEvent)
class AccessEventAdmin(ClientScopedAdmin, ReadOnlyAdmin):
    list_display = ["at", "client", "seq", "actor", "action", "customer_ref", "purpose", "ip"]
    list_filter = ["action", ("client", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=customer_ref", "actor__username", "purpose"]
    list_select_related = ["client", "actor"]
    date_hierarchy = "at"


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ClientScopedAdmin, ReadOnlyAdmin):
    list_display = ["client", "first_seq", "last_seq", "head_hash", "sealed_at"]
    list_filter = [("client", admin.RelatedOnlyFieldListFilter)]


@admin.register(NamedStaffRequest)
class NamedStaffRequestAdmin(ClientScopedAdmin, ReadOnlyAdmin):
    list_display = ["at", "client", "site", "recorded_by", "case"]
    list_filter = [("client", admin.RelatedOnlyFieldListFilter), "site"]


@admin.register(RetentionRun)
class RetentionRunAdmin(ClientFieldScopedAdmin, ReadOnlyAdmin):
    list_display = [
        "ran_at",
        "client",
        "audit_events_erased",
        "customers_anonymised",
        "texts_scrubbed",
        "ran_by",
        "source",
    ]


@admin.register(LoginAttempt)
class LoginAttemptAdmin(UserAdministrationOnly, ReadOnlyAdmin):
    list_display = ["at", "username", "ip", "forgiven"]
    search_fields = ["username", "ip"]


@admin.register(UserSession)
class UserSessionAdmin(UserAdministrationOnly, ReadOnlyAdmin):
    list_display = ["user", "started_at", "ip", "ended_at"]
    search_fields = ["user__username"]


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(ClientFieldScopedAdmin):
    list_display = ["client", "customer_inactive_days", "audit_days", "run_every", "run_at"]
    actions = ["apply_now"]

    @admin.action(description=_("Apply the retention periods now"))
    def apply_now(self, request, queryset) -> None:
        """The same run as the command line's, acting for the signed-in person."""
        for policy in queryset.select_related("client"):
            try:
                result = retention_apply(
                    client=policy.client,
                    dry_run=False,
                    by=request.user,
                    source=RetentionSource.ADMIN,
                )
            except DomainError as exc:
                self.message_user(request, str(exc), level=messages.ERROR)
                continue
            self.message_user(
                request,
                _(
                    "%(client)s: anonymised %(customers)d customers, erased %(events)d events,"
                    " scrubbed %(texts)d texts"
                )
                % {
                    "client": result.client,
                    "customers": result.customers,
                    "events": result.audit_events,
                    "texts": result.texts,
                },
            )

    def save_model(self, request, obj: RetentionPolicy, form, change) -> None:
        """Through the service: it also sets the worker's schedule for this client."""
        saved = retention_policy_set(
            by=request.user,
            client=obj.client,
            customer_inactive_days=obj.customer_inactive_days,
            audit_days=obj.audit_days,
            run_every=obj.run_every,
            run_at=obj.run_at,
        )
        obj.pk = saved.pk


class IncidentEntryInline(admin.TabularInline):
    model = IncidentEntry
    fields = ["at", "step", "happened_at", "by", "details", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(ClientScopedAdmin, ReadOnlyAdmin):
    """Read here, kept in the register's pages: every step goes through the services, which
    append to its history and the audit chain; nothing is deleted."""

    list_display = [
        "title",
        "client",
        "kind",
        "discovered_at",
        "preliminary_due_shown",
        "final_due_shown",
        "status",
    ]
    list_filter = ["status", "kind", "intentional"]
    list_select_related = ["client"]
    inlines = [IncidentEntryInline]

    @admin.display(description=_("preliminary report due"))
    def preliminary_due_shown(self, obj: Incident) -> str:
        return self._due(obj.preliminary_due, obj.preliminary_reported_at)

    @admin.display(description=_("final report due"))
    def final_due_shown(self, obj: Incident) -> str:
        return self._due(obj.final_due, obj.final_reported_at)

    def _due(self, due, done) -> str:
        when = timezone.localtime(due).strftime("%Y-%m-%d %H:%M")
        if done is not None:
            return _("%(when)s (done)") % {"when": when}
        if due < timezone.now():
            return _("%(when)s (OVERDUE)") % {"when": when}
        return when
