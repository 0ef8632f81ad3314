"""Phone numbers as callers and clients write them, stored once as E.164."""

import pytest
from django.utils import translation

from azukari.core.phones import InvalidPhone, display_phone, mask_phone, normalize_phone

MOBILE = "+819012345678"
TOKYO_LANDLINE = "+81312345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("090-1234-5678", MOBILE),
        ("09012345678", MOBILE),
        ("090 1234 5678", MOBILE),
        ("０９０－１２３４－５６７８", MOBILE),  # full-width digits and hyphens
        ("０９０ー１２３４ー５６７８", MOBILE),  # the long-vowel mark typed for a hyphen
        ("090−1234−5678", MOBILE),  # minus sign
        ("+81 90 1234 5678", MOBILE),
        ("+81-90-1234-5678", MOBILE),
        ("+81 (0)90-1234-5678", MOBILE),
        ("＋８１９０１２３４５６７８", MOBILE),
        ("0081 90 1234 5678", MOBILE),  # the international prefix used abroad
        ("0081-3-1234-5678", TOKYO_LANDLINE),
        ("010-81-90-1234-5678", MOBILE),  # the Japanese international prefix
        ("03(1234)5678", TOKYO_LANDLINE),
        ("(03) 1234-5678", TOKYO_LANDLINE),
        ("03-1234-5678", TOKYO_LANDLINE),
        ("０３（１２３４）５６７８", TOKYO_LANDLINE),
        ("0120-123-456", "+81120123456"),  # free dial
        ("  090-1234-5678  ", MOBILE),
        ("+1 650 253 0000", "+16502530000"),
        ("00 1 650 253 0000", "+16502530000"),
    ],
)
def test_numbers_are_stored_as_e164(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "非通知",
        "　非通知　",
        "公衆電話",
        "表示圏外",
        "通知不可能",
        "Anonymous",
        "withheld",
        "PRIVATE",
        "unknown",
        "-",
    ],
)
def test_withheld_or_empty_numbers_are_none(raw):
    assert normalize_phone(raw) is None


@pytest.mark.parametrize(
    "raw",
    ["12345", "abc", "090-1234-567", "090-1234-56789", "0000000000", "+81", "電話", "00", "0081"],
)
def test_invalid_numbers_are_refused_naming_the_field(raw):
    with translation.override("en"), pytest.raises(InvalidPhone) as info:
        normalize_phone(raw, field="caller_number")
    assert info.value.field == "caller_number"
    assert info.value.code == "invalid_phone"
    assert raw in str(info.value)
    assert "phone number" in str(info.value)


def test_invalid_number_is_explained_in_the_users_language():
    with translation.override("ja"), pytest.raises(InvalidPhone) as info:
        normalize_phone("12345", field="caller_number")
    assert "電話番号" in str(info.value)
    assert info.value.field == "caller_number"


def test_invalid_number_names_the_default_field():
    with pytest.raises(InvalidPhone) as info:
        normalize_phone("12345")
    assert info.value.field == "phone"


def test_display_uses_the_national_format_for_japanese_numbers():
    assert display_phone(MOBILE) == "090-1234-5678"
    assert display_phone(TOKYO_LANDLINE) == "03-1234-5678"
    assert display_phone("+16502530000") == "+1 650-253-0000"
    assert display_phone(None) == ""
    assert display_phone("") == ""


def test_masking_keeps_only_the_last_four_digits():
    assert mask_phone(MOBILE) == "***-****-5678"
    assert mask_phone(TOKYO_LANDLINE) == "**-****-5678"
    masked_abroad = mask_phone("+16502530000")
    assert masked_abroad.endswith("0000")
    assert sum(ch.isdigit() for ch in masked_abroad) == 4
    assert mask_phone(None) == ""
