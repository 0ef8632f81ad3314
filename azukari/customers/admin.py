from django.contrib import admin

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
