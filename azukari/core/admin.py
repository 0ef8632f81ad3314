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


class ClientFieldScopedAdmin(admin.ModelAdmin):
    """For rows that name a client without the door's manager (tokens, registers): a person
    administers the clients they serve; a superuser, the whole deployment."""

    client_field = "client"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{f"{self.client_field}__in": request.user.visible_client_ids()})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == self.client_field and not request.user.is_superuser:
            kwargs["queryset"] = db_field.related_model.objects.filter(
                pk__in=request.user.visible_client_ids()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class UserAdministrationOnly(admin.ModelAdmin):
    """Registers about people (log-ins, sessions): for administrators only."""

    def has_module_permission(self, request) -> bool:
        from azukari.org.permissions import Cap, user_can

        return user_can(request.user, Cap.USERS_ADMINISTER) and super().has_module_permission(
            request
        )

    def has_view_permission(self, request, obj=None) -> bool:
        from azukari.org.permissions import Cap, user_can

        return user_can(request.user, Cap.USERS_ADMINISTER) and super().has_view_permission(
            request, obj
        )
