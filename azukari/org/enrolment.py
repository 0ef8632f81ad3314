"""Enrolling a first authenticator with a code an administrator issued.

Where the deployment requires it (AZUKARI_TWO_FACTOR_ENROLMENT_ISSUED, on in production), the
two-factor page shows a new person the key of their authenticator only after they typed a
one-time code that an administrator issued them (handed over in person or by a second
channel): a password learned by someone else is then not enough to enrol that someone's phone.
The code is kept as an unconfirmed django-otp static token: it never counts as a second factor.
"""

import secrets

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice

from azukari.core.errors import NotVisible
from azukari.org.models import User
from azukari.org.permissions import Cap, require

DEVICE_NAME = "enrolment code"
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 10


def enrolment_code_needed() -> bool:
    return bool(getattr(settings, "AZUKARI_TWO_FACTOR_ENROLMENT_ISSUED", False))


@transaction.atomic
def two_factor_enrolment_issue(*, actor: User, user: User) -> str:
    """A new one-time enrolment code for `user` (replacing any earlier one); shown once."""
    require(actor, Cap.USERS_ADMINISTER)
    if not actor.is_superuser and (
        user.is_superuser or not set(user.visible_client_ids()) <= set(actor.visible_client_ids())
    ):
        raise NotVisible(_("You do not administer this person."), field="user")
    StaticDevice.objects.filter(user=user, name=DEVICE_NAME).delete()
    device = StaticDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    device.token_set.create(token=code)
    return code


@transaction.atomic
def two_factor_enrolment_redeem(*, user: User, code: str) -> bool:
    """Uses up the code if it is `user`'s; True when it was."""
    code = "".join((code or "").split()).upper()
    device = (
        StaticDevice.objects.select_for_update()
        .filter(user=user, name=DEVICE_NAME, confirmed=False)
        .first()
    )
    if device is None or not code:
        return False
    token = device.token_set.filter(token=code).first()
    if token is None:
        return False
    device.delete()
    return True
