"""Authentication that honours confidentiality: no agreement on record, no access.

`AccessBackend.get_user` runs on every request, so a leaver, a disabled account or someone
whose agreement was withdrawn is anonymous from their next request on. Two-factor rules live
here too, next to the rest of who may get in.
"""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from azukari.org.permissions import Cap, user_can


class AccessBackend(ModelBackend):
    """Also runs on every request (get_user), so a leaver's open session ends at once."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and getattr(user, "has_access", False)


def two_factor_required(user) -> bool:
    """Always for superusers, those who manage staff (managers, administrators) and client
    approvers; for every role that reads or exports personal data in bulk when the deployment
    says so (AZUKARI_TWO_FACTOR_FOR_BULK_READERS, on in production); and for anyone who
    enrolled a device of their own."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user_can(user, Cap.STAFF_MANAGE) or user_can(user, Cap.PORTAL_USE):
        return True
    if settings.AZUKARI_TWO_FACTOR_FOR_BULK_READERS and user_can(user, Cap.PERSONAL_DATA_BULK):
        return True
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)
