"""Second factors for the demo logins: enrolled with a known key, so that a newcomer can sign
in as a manager, an administrator or a client approver without an authenticator app, by asking
`azukari demo code USERNAME` for the current code (or by adding the printed key to an app).

Only devices named `DEMO_DEVICE_NAME` are read here: the command never prints a code for a
device that a person enrolled themselves.
"""

import base64
import datetime as dt
import hashlib

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from azukari.core.errors import DomainError
from azukari.org.auth import two_factor_required
from azukari.org.models import User

DEMO_DEVICE_NAME = "demo key (azukari demo code)"


def demo_secret(username: str) -> bytes:
    """The demo's known key for one login (20 bytes, as authenticator apps expect)."""
    return hashlib.sha1(f"azukari-demo-second-factor:{username}".encode()).digest()


def demo_secret_base32(username: str) -> str:
    return base64.b32encode(demo_secret(username)).decode()


@transaction.atomic
def demo_second_factor_enrol(*, user: User) -> TOTPDevice:
    """Enrols the demo key for `user` (once; a second call returns the same device)."""
    device, _created = TOTPDevice.objects.get_or_create(
        user=user,
        name=DEMO_DEVICE_NAME,
        defaults={"key": demo_secret(user.username).hex(), "confirmed": True},
    )
    return device


def demo_second_factors_enrol(*, usernames: list[str]) -> list[str]:
    """Enrols the demo key for every listed login that must pass a second factor and has no
    device yet; returns who has a demo key."""
    enrolled = []
    for user in User.objects.filter(username__in=usernames).order_by("username"):
        has_demo_key = TOTPDevice.objects.filter(user=user, name=DEMO_DEVICE_NAME).exists()
        if has_demo_key or two_factor_required(user):
            demo_second_factor_enrol(user=user)
            enrolled.append(user.username)
    return enrolled


def demo_code(*, username: str, at: dt.datetime | None = None) -> str:
    """The current code of a demo login's demo key."""
    device = (
        TOTPDevice.objects.filter(user__username=username, name=DEMO_DEVICE_NAME, confirmed=True)
        .order_by("pk")
        .first()
    )
    if device is None:
        raise DomainError(
            _("%(username)s has no demo second factor.") % {"username": username},
            field="username",
        )
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if at is not None:
        totp.time = at.timestamp()
    return f"{totp.token():0{device.digits}d}"
