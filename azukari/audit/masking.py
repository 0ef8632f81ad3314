"""Masked forms of personal data for lists and searches; the clear value needs a reveal."""

import re

from django.utils.translation import gettext_lazy as _

from azukari.core.phones import display_phone, mask_phone

__all__ = [
    "REVEALABLE",
    "mask_address",
    "mask_birth_date",
    "mask_email",
    "mask_phone",
    "mask_postcode",
]

REVEALABLE = {
    "phones": _("Phone numbers"),
    "address": _("Address"),
    "postcode": _("Postcode"),
    "email": _("E-mail"),
    "birth_date": _("Date of birth"),
}

_PREFECTURE = re.compile(r"^(東京都|北海道|(?:京都|大阪)府|.{2,3}県)")


def mask_address(address: str) -> str:
    """Keeps the prefecture, enough to tell a caller's region; the rest is hidden."""
    if not address:
        return ""
    match = _PREFECTURE.match(address)
    return (match.group(1) if match else "") + "＊＊＊"


def mask_postcode(postcode: str) -> str:
    return postcode[:3] + "-****" if postcode else ""


def mask_birth_date(birth_date) -> str:
    """Says there is one, nothing of it: it is an identity fact."""
    return "****-**-**" if birth_date else ""


def mask_email(email: str) -> str:
    if not email or "@" not in email:
        return ""
    local, domain = email.rsplit("@", 1)
    return f"{local[:1]}***@{domain}"


def reveal_value(customer, field: str) -> str:
    if field == "phones":
        return ", ".join(display_phone(p.number) for p in customer.phones.all())
    value = getattr(customer, field, "") or ""
    return value.isoformat() if field == "birth_date" else str(value)
