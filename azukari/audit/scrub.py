"""Scrubbing an erased customer's personal data out of free text, and finding what is left.

Matching runs on a folded copy of the text (NFKC, katakana as hiragana, lower case), so a name
written in half-width kana, a phone number in full-width digits or an e-mail in capitals is
found as well; the replacement is made in the original text, at the matching characters.
What a pattern cannot know (another person's name, a number read out in words) is left to a
person: `review_patterns` flags what still looks personal.
"""

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import jaconv

REDACTED = "(erased)"

# Between the digits of a phone number: spaces, hyphens and dashes of every width, the long
# vowel mark typed as a hyphen, dots and brackets.
_SEP = r"[\s\-‐‑‒–—―−ーｰ.()]*"
_NAME_SEP = r"[\s・]*"
_EMAIL = r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"
# Any Japanese phone number: 0 or +81, then 9 or 10 more digits however they are grouped.
_ANY_PHONE = rf"(?<!\d)\(?(?:\+?81{_SEP}(?:\(0\))?{_SEP}|0)\d(?:{_SEP}\d){{8,9}}(?!\d)"
_POSTCODE = rf"(?<!\d)(?:〒{_SEP})?\d{{3}}{_SEP}\d{{4}}(?!\d)"


def _fold_piece(piece: str) -> str:
    return jaconv.kata2hira(unicodedata.normalize("NFKC", piece)).lower()


def folded(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The folded text and, for each of its characters, the span of the original it came from.

    A half-width kana and its voicing mark fold together into one character."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and text[j] in "\uff9e\uff9f":
            j += 1
        for ch in _fold_piece(text[i:j]):
            out.append(ch)
            spans.append((i, j))
        i = j
    return "".join(out), spans


def _loose(term: str, sep: str = r"\s*") -> str:
    """`term` folded, with spacing allowed between its characters."""
    chars = [c for c in _fold_piece(term) if not c.isspace()]
    return sep.join(re.escape(c) for c in chars)


def _phone_pattern(e164: str) -> str | None:
    digits = re.sub(r"\D", "", e164)
    if len(digits) < 6:
        return None
    if e164.startswith("+81"):
        rest = _SEP.join(digits[2:])
        prefix = rf"(?:\+?81{_SEP}(?:\(0\))?{_SEP}0?|0)"
        return rf"(?<!\d)\(?{prefix}{_SEP}{rest}(?!\d)"
    return rf"(?<!\d)\+?{_SEP.join(digits)}(?!\d)"


@dataclass(frozen=True)
class PersonalData:
    """What is known of one customer, to be found in text."""

    names: tuple[tuple[str, str], ...]  # (family, given) pairs: kanji and kana
    phones: tuple[str, ...]  # E.164
    email: str
    address: str
    postcode: str
    customer_number: str = ""


def scrubber(data: PersonalData) -> re.Pattern[str]:
    """One pattern over folded text for everything of `data`, longest alternatives first."""
    names: set[str] = set()
    for family, given in data.names:
        if family and given:
            names.add(_loose(family) + _NAME_SEP + _loose(given))
            names.add(_loose(given) + _NAME_SEP + _loose(family))
        for part in (family, given):
            if part and part.strip():
                names.add(_loose(part))
    alternatives = sorted((n for n in names if n), key=len, reverse=True)
    if data.address.strip():
        alternatives.insert(0, _loose(data.address))
    alternatives += [p for p in map(_phone_pattern, data.phones) if p]
    if data.email:
        alternatives.append(re.escape(_fold_piece(data.email)))
    if len(data.customer_number.strip()) >= 4:
        alternatives.append(
            rf"(?<![\w-]){re.escape(_fold_piece(data.customer_number.strip()))}(?![\w-])"
        )
    alternatives += [_EMAIL, _ANY_PHONE]
    if data.postcode:
        alternatives.append(_POSTCODE)
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def scrub(text: str, pattern: re.Pattern[str]) -> str:
    """`text` with every match of `pattern` replaced by the erasure mark."""
    if not text:
        return text
    flat, spans = folded(text)
    pieces: list[str] = []
    at = 0
    for match in pattern.finditer(flat):
        if match.start() == match.end():
            continue
        start, end = spans[match.start()][0], spans[match.end() - 1][1]
        if start < at:
            continue
        pieces += [text[at:start], REDACTED]
        at = end
    if not pieces:
        return text
    return "".join(pieces) + text[at:]


def scrub_json(value, pattern: re.Pattern[str]):
    """The strings inside a JSON value, scrubbed."""
    if isinstance(value, str):
        return scrub(value, pattern)
    if isinstance(value, list):
        return [scrub_json(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: scrub_json(v, pattern) for k, v in value.items()}
    return value


# What still looks personal in a scrubbed text, for a person to read: a run of digits as long
# as a phone or account number, an at sign, a name followed by an honorific.
REVIEW_PATTERNS: dict[str, re.Pattern[str]] = {
    "digits": re.compile(r"\d(?:[\s\-‐‑−ー.]?\d){6,}"),
    "at_sign": re.compile(r"@"),
    "name": re.compile(r"[\u4e00-\u9fff\u3041-\u3096\u30a1-\u30fa]{1,6}(?:様|さま|さん|氏|殿)"),
}


def review_flags(text: str) -> list[str]:
    """The review patterns that `text` (folded) still matches, erasure marks left out."""
    flat, _spans = folded(text.replace(REDACTED, " "))
    return [name for name, pattern in REVIEW_PATTERNS.items() if pattern.search(flat)]


def fields_with_flags(texts: Iterable[tuple[str, str]]) -> Iterator[tuple[str, list[str]]]:
    for field, text in texts:
        if text and (flags := review_flags(text)):
            yield field, flags
