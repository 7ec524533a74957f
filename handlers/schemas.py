"""Marshmallow schemas for what Africa's Talking posts to us.

Fields are checked strictly: a malformed callback is refused with a 4xx before
anything is stored or called. Unknown extra fields are ignored, since AT adds
fields over time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_load, validate

from consent.deliveries import AT_STATUSES, DeliveryReport
from consent.identifiers import KENYAN_MOBILE_PATTERN
from consent.replies import InboundSms
from consent.ussd import Hop
from observability.session_ends import SessionEnd

# Patterns, not functions, so that the OpenAPI document carries them.
SESSION_ID = r"^[A-Za-z0-9_.:-]{1,100}\Z"
NETWORK_CODE = r"^([0-9]{5})?\Z"

MESSAGE_ID = r"^[A-Za-z0-9_.:-]{1,100}\Z"

# A concatenated SMS of 10 parts; a patient's reply is a few characters.
MAX_SMS_LENGTH = 1600

# A hop's text is every answer of the session joined by '*'. A real session
# stays far below this; the cap keeps a hostile body from costing us work.
MAX_TEXT_LENGTH = 400

# Text without control characters. Free text from AT may break lines, which
# our own screens do; a hop's text is typed on a keypad and never does.
NO_CONTROLS = r"^[^\x00-\x1f\x7f]*\Z"
NO_CONTROLS_BUT_LINE_BREAKS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*\Z"
CONTROLS_REFUSED = "Control characters are not allowed."


class UssdSessionSchema(Schema):
    """The fields every USSD callback carries, for the service codes we serve."""

    class Meta:
        unknown = EXCLUDE

    sessionId = fields.String(required=True, validate=validate.Regexp(SESSION_ID))
    serviceCode = fields.String(required=True)
    phoneNumber = fields.String(required=True,
                                validate=validate.Regexp(KENYAN_MOBILE_PATTERN))
    networkCode = fields.String(load_default="", validate=validate.Regexp(NETWORK_CODE))

    def __init__(self, service_codes: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fields["serviceCode"].validators.append(
            validate.OneOf(service_codes, error="Not a service code this gateway serves.")
        )


class UssdHopSchema(UssdSessionSchema):
    text = fields.String(load_default="", validate=[
        validate.Length(max=MAX_TEXT_LENGTH),
        validate.Regexp(NO_CONTROLS, error=CONTROLS_REFUSED),
    ])

    @post_load
    def to_hop(self, data: dict[str, str], **kwargs: Any) -> Hop:
        return Hop(session_id=data["sessionId"], service_code=data["serviceCode"],
                   phone=data["phoneNumber"], network_code=data["networkCode"],
                   text=data["text"])


# AT's free text (our own last screen, its error message) is capped and kept
# free of control characters other than line breaks, which screens contain.
# A screen is at most 182 characters; the caps keep the largest valid notice
# inside the callback body cap even when every character is percent-encoded.
MAX_LAST_SCREEN = 300
MAX_ERROR_MESSAGE = 200
SESSION_STATUSES = ("Success", "Incomplete", "Failed")


class UssdSessionEndSchema(UssdSessionSchema):
    """AT's notice that a USSD session ended. The ids, phone, service code and
    status are strict; the rest is reported, not acted on, so its checks are
    loose enough that a format change at AT does not cost us the notice."""

    status = fields.String(required=True, validate=validate.OneOf(SESSION_STATUSES))
    date = fields.String(load_default="", validate=validate.Regexp(r"^[0-9 :.TZ+-]{0,40}\Z"))
    cost = fields.String(load_default="", validate=validate.Regexp(r"^[A-Za-z0-9 .,]{0,40}\Z"))
    durationInMillis = fields.String(load_default="0", validate=validate.Regexp(r"^[0-9]{1,9}\Z"))
    hopsCount = fields.String(load_default="0", validate=validate.Regexp(r"^[0-9]{1,4}\Z"))
    lastAppResponse = fields.String(load_default="", validate=[
        validate.Length(max=MAX_LAST_SCREEN), validate.Regexp(NO_CONTROLS_BUT_LINE_BREAKS)])
    errorMessage = fields.String(load_default="", validate=[
        validate.Length(max=MAX_ERROR_MESSAGE),
        validate.Regexp(NO_CONTROLS_BUT_LINE_BREAKS)])
    # ``input`` is never read: it is what the health worker typed (CR IDs,
    # OTPs), which we do not keep a second time.

    @post_load
    def to_session_end(self, data: dict[str, str], **kwargs: Any) -> SessionEnd:
        return SessionEnd(session_id=data["sessionId"], phone=data["phoneNumber"],
                          status=data["status"], network_code=data["networkCode"],
                          date=data["date"], cost=data["cost"],
                          duration_ms=int(data["durationInMillis"]),
                          hops=int(data["hopsCount"]), last_screen=data["lastAppResponse"],
                          error=data["errorMessage"])


class InboundSmsSchema(Schema):
    """An SMS to our short code, as Africa's Talking posts it."""

    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True, validate=validate.Regexp(MESSAGE_ID))
    sender = fields.String(required=True, data_key="from",
                           validate=validate.Regexp(KENYAN_MOBILE_PATTERN))
    to = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z+]{3,15}\Z"))
    text = fields.String(load_default="", validate=[
        validate.Length(max=MAX_SMS_LENGTH),
        validate.Regexp(NO_CONTROLS_BUT_LINE_BREAKS, error=CONTROLS_REFUSED),
    ])
    date = fields.String(load_default="")
    linkId = fields.String(load_default="")
    networkCode = fields.String(load_default="", validate=validate.Regexp(NETWORK_CODE))

    @post_load
    def to_sms(self, data: dict[str, str], **kwargs: Any) -> InboundSms:
        return InboundSms(message_id=data["id"], sender=data["sender"], text=data["text"])


class DeliveryReportSchema(Schema):
    """Africa's Talking's report on an SMS we sent."""

    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True, validate=validate.Regexp(MESSAGE_ID))
    status = fields.String(required=True, validate=validate.OneOf(sorted(AT_STATUSES)))
    phoneNumber = fields.String(required=True, validate=validate.Regexp(KENYAN_MOBILE_PATTERN))
    networkCode = fields.String(load_default="", validate=validate.Regexp(NETWORK_CODE))
    retryCount = fields.String(load_default="0", validate=validate.Regexp(r"^[0-9]{1,3}\Z"))
    failureReason = fields.String(load_default="",
                                  validate=validate.Regexp(r"^[A-Za-z]{0,40}\Z"))

    @post_load
    def to_report(self, data: dict[str, str], **kwargs: Any) -> DeliveryReport:
        return DeliveryReport(message_id=data["id"], status=data["status"],
                              phone=data["phoneNumber"], failure_reason=data["failureReason"])
