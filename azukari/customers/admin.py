from django.contrib import admin
from django.contrib.admin.utils import unquote

from azukari.audit.models import AccessAction
from azukari.audit.services import personal_data_access
from azukari.core.admin import ClientScopedAdmin
from azukari.customers.models import Customer, CustomerPhone


class CustomerPhoneInline(admin.TabularInline):
    model = CustomerPhone
    extra = 0
    fields = ["number", "kind"]


@admin.register(Customer)
class CustomerAdmin(ClientScopedAdmin):
    list_display = ["customer_number", "family_name", "given_name", "client", "harassment_flag"]
    list_filter = ["client", "harassment_flag"]
    search_fields = ["customer_number", "family_name", "family_name_kana"]
    inlines = [CustomerPhoneInline]
    readonly_fields = ["search_text"]

    # Everything the change page shows: it is a view of personal data like any other.
    CHANGE_VIEW_FIELDS = ("name", "name_kana", "address", "postcode", "email", "phones",
                          "harassment_note")  # fmt: skip

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
