"""Authentication that honours confidentiality: no agreement on record, no access.

`AccessBackend.get_user` runs on every request, so a leaver, a disabled account or someone
whose agreement was withdrawn is anonymous from their next request on. Two-factor rules live
here too, next to the rest of who may get in.
"""

from django.contrib.auth.backends import ModelBackend

from azukari.org.models import Role

# Roles that must pass a second factor (TOTP) before any page; everyone else may opt in.
TWO_FACTOR_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.CLIENT_APPROVER})


class AccessBackend(ModelBackend):
    """Also runs on every request (get_user), so a leaver's open session ends at once."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and getattr(user, "has_access", False)


def two_factor_required(user) -> bool:
    """Required for the listed roles and for anyone who enrolled a device of their own."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role in TWO_FACTOR_ROLES or user.is_superuser:
        return True
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)
