"""Authentication that honours confidentiality: no agreement on record, no access."""

from django.contrib.auth.backends import ModelBackend


class AccessBackend(ModelBackend):
    """Also runs on every request (get_user), so a leaver's open session ends at once."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and getattr(user, "has_access", False)
