from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError

from azukari.audit.models import AccessAction
from azukari.audit.services import personal_data_access
from azukari.core.admin import ClientScopedAdmin
from azukari.core.errors import DomainError
from azukari.core.phones import normalize_phone
from azukari.customers.models import Customer, CustomerPhone
from azukari.customers.services import (
    CUSTOMER_FIELDS,
    customer_create,
    customer_fields_clean,
    customer_update,
)


def _refusal(exc: DomainError, form: forms.Form) -> ValidationError:
    field = exc.field if exc.field in form.fields else None
    return ValidationError({field: exc.message} if field else exc.message)


class CustomerForm(forms.ModelForm):
    """The customer services' rules, shown on the form (the services write the row)."""

    def clean(self):
        data = super().clean()
        try:
            data.update(customer_fields_clean({f: data[f] for f in CUSTOMER_FIELDS if f in data}))
        except DomainError as exc:
            raise _refusal(exc, self) from exc
        return data


class CustomerPhoneForm(forms.ModelForm):
    def clean_number(self):
        try:
            return normalize_phone(self.cleaned_data.get("number"), field="number") or ""
        except DomainError as exc:
            raise _refusal(exc, self) from exc


class CustomerPhoneInline(admin.TabularInline):
    model = CustomerPhone
    form = CustomerPhoneForm
    extra = 0
    fields = ["number", "kind"]


@admin.register(Customer)
class CustomerAdmin(ClientScopedAdmin):
    list_display = ["customer_number", "family_name", "given_name", "client", "harassment_flag"]
    list_filter = ["client", "harassment_flag"]
    search_fields = ["customer_number", "family_name", "family_name_kana"]
    inlines = [CustomerPhoneInline]
    form = CustomerForm
    # Written by other services (the floor's harassment flag) or by none (the search text and
    # the import's marks follow the customer's own writes).
    readonly_fields = ["search_text", "harassment_flag", "harassment_note", "import_batch_id"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["client", "customer_number"]  # a customer keeps its client and number
        return fields

    def save_model(self, request, obj, form, change):
        """Written with the phones in `save_related`, through the customer services."""

    def save_related(self, request, form, formsets, change):
        phones = [
            (row.cleaned_data["number"], row.cleaned_data["kind"])
            for formset in formsets
            if formset.model is CustomerPhone
            for row in formset.forms
            if row.cleaned_data and not row.cleaned_data.get("DELETE")
        ]
        fields = {f: form.cleaned_data[f] for f in CUSTOMER_FIELDS if f in form.cleaned_data}
        if change:
            customer, _changed = customer_update(customer=form.instance, phones=phones, **fields)
        else:
            customer = customer_create(
                client=form.cleaned_data["client"],
                customer_number=form.cleaned_data["customer_number"],
                phones=phones,
                **fields,
            )
        form.instance.pk = customer.pk
        form.instance.refresh_from_db()
        for formset in formsets:  # what the admin's history entry lists
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    # Everything the change page shows: it is a view of personal data like any other.
    CHANGE_VIEW_FIELDS = ("name", "name_kana", "address", "postcode", "email", "birth_date",
                          "phones", "harassment_note")  # fmt: skip

    def change_view(self, request, object_id, form_url="", extra_context=None):
        customer = self.get_object(request, unquote(object_id))
        if customer is not None and self.has_view_or_change_permission(request, customer):
            personal_data_access(
                viewer=request.user,
                customers=[customer],
                fields=self.CHANGE_VIEW_FIELDS,
                action=AccessAction.VIEW,
                purpose="admin",
                request=request,
                object_type="admin_customer",
                object_ref=str(customer.pk),
            )
        return super().change_view(request, object_id, form_url, extra_context)
