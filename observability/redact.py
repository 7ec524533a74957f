"""Masking of identifiers and secrets in text we do not control.

Our own log fields are masked where they are made; this is the net under them,
for what arrives as free text: exception messages (a failed call's URL carries
the patient's CR ID), the telco's error messages, our screens as AT echoes them.
"""

from __future__ import annotations

import re

from consent.identifiers import mask_cr_id, mask_phone

_CR_ID = re.compile(r"CR[0-9]{11,14}-[0-9]")
# Phone numbers in any form, and CR IDs typed as digits alone (12 to 15).
_LONG_NUMBER = re.compile(r"\+?[0-9]{9,15}")
_KEY_PARAM = re.compile(r"(?<=[?&]key=)[^&\s\"']+")
_BEARER = re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]+")
# OTPs have 5 digits; only safe to mask in text with no numbers worth keeping.
_DIGIT_RUN = re.compile(r"[0-9]{5,}")


def redact_line(text: str) -> str:
    """Phones and CR IDs masked, callback keys and bearer tokens dropped."""
    text = _CR_ID.sub(lambda match: mask_cr_id(match.group()), text)
    text = _LONG_NUMBER.sub(lambda match: mask_phone(match.group()), text)
    text = _KEY_PARAM.sub("***", text)

    return _BEARER.sub("***", text)


def redact_text(text: str) -> str:
    """As :func:`redact_line`, and every run of five digits or more hidden too."""
    return _DIGIT_RUN.sub("*****", redact_line(text))
