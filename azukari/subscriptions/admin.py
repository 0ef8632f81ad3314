"""Admin for plans, subscriptions and cancellation policies.

Policy versions are edited here, validated by the same rules as the file loader, and saved
through the policy services; a version already used by a request is shown read-only. Requests,
decisions and client events are records, so they are read-only too.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from azukari.core.admin import ClientScopedAdmin
from azukari.core.errors import DomainError
from azukari.org.permissions import Cap, user_can
from azukari.subscriptions.models import (
    CancellationDecision,
    CancellationDisclosure,
    CancellationRequest,
    ClientEvent,
    Delivery,
    ExceptionGround,
    ExceptionRequest,
    Plan,
    Policy,
    PolicyVersion,
    Subscription,
)
from azukari.subscriptions.policy import GroundRule
from azukari.subscriptions.services import (
    VersionSpec,
    plan_create,
    plan_values_check,
    policy_version_create,
    policy_version_replace,
    version_is_used,
    version_start_problem,
)
from azukari.subscriptions.services.plans import PLAN_FIELDS
from azukari.subscriptions.services.policies import VERSION_FIELDS


class ReadOnlyAdmin(ClientScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PlanAdminForm(forms.ModelForm):
    class Meta:
        model = Plan
        fields = ["client", "code", *PLAN_FIELDS]

    def clean(self):
        data = super().clean()
        try:
            plan_values_check({f: data[f] for f in PLAN_FIELDS if data.get(f) is not None})
        except DomainError as exc:
            raise ValidationError({exc.field: exc.message} if exc.field else exc.message) from exc
        return data


@admin.register(Plan)
class PlanAdmin(ClientScopedAdmin):
    """New plans are created by `plan_create`, as on the set-up page."""

    form = PlanAdminForm
    list_display = ["code", "name", "client", "min_deliveries", "price_yen"]
    list_filter = ["client"]
    search_fields = ["code", "name"]

    def has_add_permission(self, request):
        return user_can(request.user, Cap.CLIENTS_SET_UP) and super().has_add_permission(request)

    def get_readonly_fields(self, request, obj=None):
        return ["client", "code"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        plan = plan_create(
            actor=request.user,
            client=form.cleaned_data["client"],
            code=form.cleaned_data["code"],
            **{f: form.cleaned_data[f] for f in PLAN_FIELDS},
        )
        obj.pk = obj.id = plan.pk
        obj._state.adding = False


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["sequence", "scheduled_on", "shipped_on", "status", "chargeable"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    """The sign-up terms are what the customer saw: shown verbatim, never edited here."""

    list_display = ["external_id", "client", "plan", "status", "first_cancel_requested_on"]
    list_filter = ["client", "status"]
    search_fields = ["external_id"]
    readonly_fields = ["terms_version", "terms_snapshot", "first_cancel_requested_on"]
    inlines = [DeliveryInline]


@admin.register(Policy)
class PolicyAdmin(ClientScopedAdmin):
    list_display = ["code", "name", "client", "plan"]
    list_filter = ["client"]


def _ground_rules(formset: BaseInlineFormSet) -> tuple[GroundRule, ...]:
    rules = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        if not data or data.get("DELETE") or not data.get("code"):
            continue
        rules.append(
            GroundRule(
                code=data["code"],
                approval_level=data["approval_level"],
                fee_waived_percent=data["fee_waived_percent"],
                label=data.get("label", ""),
            )
        )
    return tuple(sorted(rules, key=lambda g: g.code))


def _spec(version: PolicyVersion, grounds: tuple[GroundRule, ...]) -> VersionSpec:
    return VersionSpec(
        effective_from=version.effective_from,
        grounds=grounds,
        note=version.note,
        **{f: getattr(version, f) for f in VERSION_FIELDS},
    )


class GroundFormSet(BaseInlineFormSet):
    """Validates the version together with its grounds: one policy, one verdict."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors) or self.instance.effective_from is None:
            return
        problems = _spec(self.instance, _ground_rules(self)).problems()
        if problems:
            raise ValidationError([message for _field, message in problems])


class ExceptionGroundInline(admin.TabularInline):
    model = ExceptionGround
    formset = GroundFormSet
    fields = ["code", "label", "approval_level", "fee_waived_percent"]
    extra = 1


class PolicyVersionForm(forms.ModelForm):
    class Meta:
        model = PolicyVersion
        fields = ["policy", "effective_from", "note", *VERSION_FIELDS]

    def clean(self):
        data = super().clean()
        policy, start = data.get("policy"), data.get("effective_from")
        if self.instance.pk is None and policy and start:
            problem = version_start_problem(policy, start)
            if problem:
                self.add_error("effective_from", problem)
        return data


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ClientScopedAdmin):
    form = PolicyVersionForm
    inlines = [ExceptionGroundInline]
    list_display = ["policy", "number", "effective_from", "min_deliveries", "charge_method"]
    list_filter = ["client", "policy"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "policy":
            kwargs["queryset"] = Policy.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ["policy", "effective_from"] if obj is not None else []

    def has_change_permission(self, request, obj=None):
        if obj is not None and version_is_used(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and version_is_used(obj):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        """Saved with its grounds in `save_related`, through the policy services."""

    def save_related(self, request, form, formsets, change) -> None:
        obj = form.instance
        spec = _spec(obj, _ground_rules(formsets[0]) if formsets else ())
        if change:
            version = policy_version_replace(version=obj, spec=spec, actor=request.user)
        else:
            version = policy_version_create(policy=obj.policy, spec=spec, actor=request.user)
        obj.pk, obj.number, obj.client_id = version.pk, version.number, version.client_id
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


@admin.register(CancellationRequest)
class CancellationRequestAdmin(ReadOnlyAdmin):
    list_display = ["subscription", "requested_on", "status", "asks", "policy_version"]
    list_filter = ["client", "status"]


@admin.register(ExceptionRequest)
class ExceptionRequestAdmin(ReadOnlyAdmin):
    list_display = ["request", "ground_code", "approval_level", "outcome", "approver"]
    list_filter = ["client", "ground_code", "outcome"]


@admin.register(CancellationDecision)
class CancellationDecisionAdmin(ReadOnlyAdmin):
    list_display = ["request", "option_code", "cost_yen", "effective_on", "approver"]
    list_filter = ["client", "option_code"]


@admin.register(CancellationDisclosure)
class CancellationDisclosureAdmin(ReadOnlyAdmin):
    list_display = ["request", "kind", "language", "at", "by"]


@admin.register(ClientEvent)
class ClientEventAdmin(ReadOnlyAdmin):
    list_display = ["kind", "subscription", "created_at", "delivered_at"]
    list_filter = ["client", "kind"]
