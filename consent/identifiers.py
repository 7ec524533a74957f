"""Client Registry IDs and Kenyan phone numbers: parsing and masking.

The CR ID check-digit rule is unpublished, so the ID is treated as opaque:
we check its shape only. A keypad makes ``CR`` and ``-`` awkward to type, so
the digits alone are accepted and the ID rebuilt from them.
"""

from __future__ import annotations

import re

_CR_FULL = re.compile(r"^CR([0-9]{11,14})-([0-9])\Z")
_CR_DIGITS = re.compile(r"^[0-9]{12,15}\Z")
# +254, then 9 digits starting 7 or 1. ASCII digits only, and \Z: Python's
# \d takes Arabic-Indic digits and $ takes a trailing newline.
KENYAN_MOBILE_PATTERN = r"^\+254[17][0-9]{8}\Z"
_KENYAN_MOBILE = re.compile(KENYAN_MOBILE_PATTERN)


def parse_cr_id(raw: str) -> str | None:
    """The canonical ``CR<digits>-<digit>`` form of what was typed, or None."""
    typed = raw.strip().upper().replace(" ", "")
    full = _CR_FULL.match(typed)
    if full:
        return typed
    if _CR_DIGITS.match(typed):
        return f"CR{typed[:-1]}-{typed[-1]}"

    return None


def normalise_phone(raw: str) -> str | None:
    """E.164 form of a Kenyan mobile number typed as 07…, 01…, 2547… or +2547…."""
    digits = re.sub(r"[\s-]", "", raw)
    if digits.startswith("0") and len(digits) == 10:
        digits = "+254" + digits[1:]
    elif digits.startswith("254"):
        digits = "+" + digits

    return digits if _KENYAN_MOBILE.match(digits) else None


def is_kenyan_mobile(value: str) -> bool:
    return bool(_KENYAN_MOBILE.match(value))


def mask_phone(phone: str) -> str:
    """For logs: only the last three digits survive."""
    return "***" + phone[-3:] if len(phone) > 3 else "***"


def mask_phone_for_screen(phone: str) -> str:
    """As SHA masks a contact (``+254714***898``): enough to recognise one's own."""
    if len(phone) < 10:
        return mask_phone(phone)

    return phone[:7] + "***" + phone[-3:]


def masked_matches(masked: str, phone: str) -> bool:
    """Whether SHA's masked contact (``+254714***898``, maybe ``0714***898``) could
    be ``phone``: the visible digits on both sides of the stars must agree."""
    head, star, _ = masked.partition("*")
    tail = masked.rsplit("*", 1)[-1]
    if not star or not tail.isdigit():
        return False
    if head.startswith("0"):
        head = "+254" + head[1:]
    elif head.startswith("254"):
        head = "+" + head

    return phone.startswith(head) and phone.endswith(tail) and len(phone) >= len(head) + len(tail)


def mask_cr_id(cr_id: str) -> str:
    """``CR9795515286992-5`` becomes ``CR97***92-5``: recognisable, not recoverable."""
    if len(cr_id) < 8:
        return "CR***"

    return cr_id[:4] + "***" + cr_id[-4:]
