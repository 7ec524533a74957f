"""Marshmallow schemas for what Africa's Talking posts to us.

Fields are checked strictly: a malformed callback is refused with a 4xx before
anything is stored or called. Unknown extra fields are ignored, since AT adds
fields over time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_load, validate

from consent.ussd import Hop

KENYAN_MOBILE = r"^\+254[17][0-9]{8}\Z"
SESSION_ID = r"^[A-Za-z0-9_.:-]{1,100}\Z"
NETWORK_CODE = r"^([0-9]{5})?\Z"

# A hop's text is every answer of the session joined by '*'. A real session
# stays far below this; the cap keeps a hostile body from costing us work.
MAX_TEXT_LENGTH = 400


class UssdHopSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    sessionId = fields.String(required=True, validate=validate.Regexp(SESSION_ID))
    serviceCode = fields.String(required=True)
    phoneNumber = fields.String(required=True, validate=validate.Regexp(KENYAN_MOBILE))
    networkCode = fields.String(load_default="", validate=validate.Regexp(NETWORK_CODE))
    text = fields.String(load_default="", validate=[
        validate.Length(max=MAX_TEXT_LENGTH),
        validate.Regexp(r"^[^\x00-\x1f\x7f]*\Z", error="Control characters are not allowed."),
    ])

    def __init__(self, service_codes: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fields["serviceCode"].validators.append(
            validate.OneOf(service_codes, error="Not a service code this gateway serves.")
        )

    @post_load
    def to_hop(self, data: dict[str, str], **kwargs: Any) -> Hop:
        return Hop(session_id=data["sessionId"], service_code=data["serviceCode"],
                   phone=data["phoneNumber"], network_code=data["networkCode"],
                   text=data["text"])
