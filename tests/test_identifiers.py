"""CR IDs and phone numbers: typed as people type them, masked before logging."""

from __future__ import annotations

import pytest

from consent.identifiers import (
    is_kenyan_mobile,
    mask_cr_id,
    mask_phone,
    mask_phone_for_screen,
    normalise_phone,
    parse_cr_id,
)


@pytest.mark.parametrize(("typed", "expected"), [
    ("97955152869925", "CR9795515286992-5"),
    ("CR9795515286992-5", "CR9795515286992-5"),
    ("cr9795515286992-5", "CR9795515286992-5"),
    (" 9795 5152 8699 25 ", "CR9795515286992-5"),
    ("123456789012", "CR12345678901-2"),
    ("123456789012345", "CR12345678901234-5"),
    ("12345678901", None),
    ("1234567890123456", None),
    ("CR9795515286992", None),
    ("9795515286992-5", None),
    ("", None),
    ("٩٧٩٥٥١٥٢٨٦٩٩٢٥", None),
])
def test_cr_id_from_what_was_typed(typed: str, expected: str | None) -> None:
    assert parse_cr_id(typed) == expected


@pytest.mark.parametrize(("typed", "expected"), [
    ("0714123898", "+254714123898"),
    ("0110456321", "+254110456321"),
    ("254714123898", "+254714123898"),
    ("+254714123898", "+254714123898"),
    ("+254 714 123 898", "+254714123898"),
    ("0614123898", None),
    ("+255714123898", None),
    ("071412389", None),
])
def test_kenyan_mobile_from_what_was_typed(typed: str, expected: str | None) -> None:
    assert normalise_phone(typed) == expected


@pytest.mark.parametrize(("number", "kenyan"), [
    ("+254714123898", True), ("+254110456321", True), ("+254614123898", False),
    ("+255714123898", False), ("+25471412389", False), ("+2547141238980", False),
    ("254714123898", False), ("+254714123898\n", False), ("+254٧١٤١٢٣٨٩٨", False), ("", False),
])
def test_a_kenyan_mobile_is_plus_254_then_7_or_1_and_8_ascii_digits(number: str,
                                                                    kenyan: bool) -> None:
    assert is_kenyan_mobile(number) is kenyan


def test_masks_keep_only_what_recognition_needs() -> None:
    assert mask_phone("+254714123898") == "***898"
    assert mask_phone_for_screen("+254714123898") == "+254714***898"
    assert mask_cr_id("CR9795515286992-5") == "CR97***92-5"
