"""``POST /sms/inbound``: SMS that patients send to our short code."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request

from consent.identifiers import mask_phone
from handlers.schemas import InboundSmsSchema
from handlers.security import require_callback_key

bp = Blueprint("sms", __name__)
bp.before_request(require_callback_key)
_inbound = InboundSmsSchema()


@bp.post("/sms/inbound")
def inbound() -> Response:
    sms = _inbound.load(request.form)
    g.log_fields.update(channel="sms", step="inbound", phone=mask_phone(sms.sender))

    outcome = current_app.extensions["gateway"].replies.handle(sms)
    g.log_fields.update(outcome=outcome)

    return Response("OK", status=200, mimetype="text/plain")
