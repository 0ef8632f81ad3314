"""Phone numbers as callers and clients write them, stored as E.164."""

import contextlib
import unicodedata

import phonenumbers
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError

# What a PBX or a person writes when the caller's number was not sent (非通知 and the like).
WITHHELD_MARKERS = frozenset(
    {
        "",
        "非通知",
        "ひつうち",
        "非通知設定",
        "公衆電話",
        "表示圏外",
        "通知不可能",
        "anonymous",
        "withheld",
        "private",
        "unknown",
        "restricted",
        "p",
        "-",
    }
)


class InvalidPhone(DomainError):
    code = "invalid_phone"


def is_withheld(raw: str | None) -> bool:
    if raw is None:
        return True
    return unicodedata.normalize("NFKC", raw).strip().lower() in WITHHELD_MARKERS


def normalize_phone(raw: str | None, *, field: str = "phone", region: str = "JP") -> str | None:
    """E.164 for a real number, None for a withheld one, InvalidPhone for anything else."""
    if is_withheld(raw):
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    # Hyphen look-alikes that Japanese input methods produce.
    for dash in ("ー", "−", "‐", "―", "–", "—"):
        text = text.replace(dash, "-")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(
            _("“%(value)s” is not a phone number.") % {"value": raw}, field=field
        ) from exc
    if not phonenumbers.is_valid_number(number) and text.startswith("00"):
        # "0081 90 …": the international prefix most of the world dials, which the Japanese
        # dialling plan (010) does not know. Tried only when the national reading fails.
        with contextlib.suppress(phonenumbers.NumberParseException):
            number = phonenumbers.parse("+" + text[2:], None)
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(
            _("“%(value)s” is not a valid phone number.") % {"value": raw}, field=field
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str | None) -> str:
    """National format for Japanese numbers (090-1234-5678), international otherwise."""
    if not e164:
        return ""
    number = phonenumbers.parse(e164, None)
    if number.country_code == 81:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mask_phone(e164: str | None) -> str:
    """Keeps the last four digits, enough to confirm with the caller."""
    shown = display_phone(e164)
    if not shown:
        return ""
    digits_seen = 0
    chars = list(shown)
    for i in range(len(chars) - 1, -1, -1):
        if chars[i].isdigit():
            digits_seen += 1
            if digits_seen > 4:
                chars[i] = "*"
    return "".join(chars)
