"""Admin for tokens and webhooks; a new token's secret is shown once, after saving."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from azukari.api.models import ApiToken, Scope, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from azukari.api.services import api_token_create, api_token_issuer_check, api_token_revoke
from azukari.core.admin import ClientFieldScopedAdmin, ClientScopedAdmin
from azukari.core.errors import DomainError


class ApiTokenAddForm(forms.ModelForm):
    """Client tokens from the admin; center tokens (several clients) from the command."""

    # Taking a site down is for center tokens (the command), never a client's.
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=[c for c in Scope.choices if c[0] != Scope.SITES_FAILOVER],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ApiToken
        fields = ["name", "client", "scopes"]

    issuer = None  # set by the admin: the person issuing the token

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].required = True

    def clean(self):
        data = super().clean()
        if data.get("client") is not None:
            try:
                api_token_issuer_check(issuer=self.issuer, client=data["client"])
            except DomainError as exc:
                raise forms.ValidationError({"client": str(exc)}) from exc
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(ClientFieldScopedAdmin):
    list_display = ["name", "prefix", "client", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("client", admin.RelatedOnlyFieldListFilter)]
    readonly_fields = ["prefix", "service_user", "created_at", "created_by", "last_used_at"]
    fields = ["name", "client", "scopes", *readonly_fields, "revoked_at"]
    actions = ["revoke"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("client", "service_user")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = type("ApiTokenAddForm", (ApiTokenAddForm,), {"issuer": request.user})
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "name", "client", "scopes", "revoked_at"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        token, raw = api_token_create(
            name=obj.name,
            scopes=obj.scopes or [],
            client=obj.client,
            created_by=request.user,
        )
        obj.pk = token.pk
        obj.refresh_from_db()
        messages.warning(
            request,
            _("Copy this token now; it is not shown again: %(token)s") % {"token": raw},
        )

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token)

    def has_delete_permission(self, request, obj=None):
        return False


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["at", "status_code", "error", "duration_ms"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ClientScopedAdmin):
    list_display = ["url", "client", "is_active", "created_at"]
    list_filter = ["is_active", ("client", admin.RelatedOnlyFieldListFilter)]
    readonly_fields = ["client", "url", "events", "created_at", "created_by_token"]
    fields = [*readonly_fields, "description", "is_active"]

    def has_add_permission(self, request):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ClientScopedAdmin):
    list_display = ["event", "endpoint", "state", "attempts", "created_at", "delivered_at"]
    list_filter = ["state", "event", ("client", admin.RelatedOnlyFieldListFilter)]
    readonly_fields = [
        "endpoint",
        "event",
        "dedupe_key",
        "payload",
        "state",
        "attempts",
        "created_at",
        "next_attempt_at",
        "delivered_at",
    ]
    inlines = [WebhookAttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
