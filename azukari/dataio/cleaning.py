"""Turning what a client's file says into our values, one cell at a time.

Each cleaner returns the value or raises DomainError; the importer names the row and column.
Names keep their characters (①, ㈱, 髙 and 﨑 survive); only half-width katakana is widened
and full-width digits are narrowed, which is how the same customer is typed two ways.
"""

import datetime as dt
import re
import unicodedata

import jaconv
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError
from azukari.customers.services import customer_email_clean, customer_postcode_clean

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "はい", "可", "○", "〇", "有"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "n", "いいえ", "不可", "×", "無"})
HALF_WIDTH_KANA = re.compile("[\uff61-\uff9f]")
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def text(value: str, *, max_length: int) -> str:
    """Names and addresses: half-width katakana → full width, full-width digits → ASCII."""
    if HALF_WIDTH_KANA.search(value):
        value = jaconv.h2z(value, kana=True, ascii=False, digit=False)
    value = value.translate(FULL_WIDTH_DIGITS).strip()
    if len(value) > max_length:
        raise DomainError(
            _("At most %(n)s characters (this has %(len)s).") % {"n": max_length, "len": len(value)}
        )
    return value


def kana(value: str, *, max_length: int) -> str:
    """A reading: half-width katakana widened, full-width spaces folded."""
    return text(value.replace("\u3000", " "), max_length=max_length)


def code(value: str, *, max_length: int) -> str:
    """Ids, codes and addresses of ASCII nature: NFKC folds full-width letters and digits."""
    value = unicodedata.normalize("NFKC", value).strip()
    if len(value) > max_length:
        raise DomainError(
            _("At most %(n)s characters (this has %(len)s).") % {"n": max_length, "len": len(value)}
        )
    return value


def postcode(value: str) -> str:
    """The customers' own rule: the API, the pages and the admin check the same."""
    return customer_postcode_clean(value)


def email(value: str) -> str:
    return customer_email_clean(value)


def boolean(value: str) -> bool:
    folded = unicodedata.normalize("NFKC", value).strip().lower()
    if folded in TRUE_WORDS:
        return True
    if folded in FALSE_WORDS:
        return False
    raise DomainError(_("Write 1 or 0 (yes or no)."))


def time_of_day(value: str) -> dt.time | None:
    folded = unicodedata.normalize("NFKC", value).strip().replace("時", ":").rstrip(":")
    if not folded:
        return None
    try:
        if ":" not in folded:
            return dt.time(int(folded))
        return dt.time.fromisoformat(folded if len(folded.split(":")[0]) == 2 else "0" + folded)
    except ValueError as exc:
        raise DomainError(_("A time of day, like 09:30.")) from exc


def date(value: str) -> dt.date | None:
    folded = unicodedata.normalize("NFKC", value).strip()
    if not folded:
        return None
    folded = folded.replace("/", "-").replace(".", "-").split("T")[0].split(" ")[0]
    for char in ("年", "月"):
        folded = folded.replace(char, "-")
    folded = folded.rstrip("日")
    try:
        year, month, day = (int(p) for p in folded.split("-"))
        return dt.date(year, month, day)
    except ValueError as exc:
        raise DomainError(_("A date, like 2026-04-01 or 2026/4/1.")) from exc


# The eras a living customer can be born in, and the western year before each era's first.
ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925, "大正": 1911, "明治": 1867}
ERA_DATE = re.compile(r"^(令和|平成|昭和|大正|明治)(\d{1,2}|元)年(\d{1,2})月(\d{1,2})日?$")


def birth_date(value: str) -> dt.date | None:
    """A date of birth as 1980/4/5, 1980-04-05, 1980年4月5日 or 昭和55年4月5日; never ahead."""
    folded = unicodedata.normalize("NFKC", value).strip().replace(" ", "")
    if not folded:
        return None
    era = ERA_DATE.match(folded)
    try:
        if era:
            year = 1 if era[2] == "元" else int(era[2])
            born = dt.date(ERAS[era[1]] + year, int(era[3]), int(era[4]))
        else:
            born = date(folded)
    except (ValueError, DomainError) as exc:
        raise DomainError(
            _("A date of birth, like 1980/4/5, 1980-04-05 or 昭和55年4月5日.")
        ) from exc
    if born > dt.date.today() or born.year < 1868:
        raise DomainError(_("A date of birth, like 1980/4/5, 1980-04-05 or 昭和55年4月5日."))
    return born


def integer(value: str) -> int | None:
    folded = unicodedata.normalize("NFKC", value).strip().replace(",", "")
    if not folded:
        return None
    try:
        return int(folded)
    except ValueError as exc:
        raise DomainError(_("A whole number.")) from exc


NAME_SEPARATOR = re.compile("[ \u3000]")


def split_name(value: str) -> tuple[str, str] | None:
    """A full name split at its first space, full- or half-width: "髙橋 一郎" → ("髙橋", "一郎").
    None when there is no space, so the caller keeps the whole name and warns."""
    value = value.strip()
    parts = NAME_SEPARATOR.split(value, maxsplit=1)
    if len(parts) < 2:
        return None
    return parts[0].strip(), parts[1].strip()
