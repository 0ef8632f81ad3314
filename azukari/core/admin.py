"""Admin pieces shared by the apps: client-owned rows are scoped like everywhere else."""

from django.contrib import admin


class ClientScopedAdmin(admin.ModelAdmin):
    """Django admin through the same visibility door as the pages and the API."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "client":
            kwargs["queryset"] = db_field.related_model.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
