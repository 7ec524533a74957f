"""``POST /ussd``: Africa's Talking's USSD hops."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request

from consent.identifiers import mask_phone
from handlers.security import protect

bp = protect(Blueprint("ussd", __name__))


@bp.post("/ussd")
def hop() -> Response:
    gateway = current_app.extensions["gateway"]
    hop = gateway.hop_schema.load(request.form)
    g.log_fields.update(channel="ussd", phone=mask_phone(hop.phone), network=hop.network_code)

    reply = gateway.ussd.handle(hop)
    g.log_fields.update(step=reply.step, outcome=reply.outcome)

    return Response(reply.body, status=200, mimetype="text/plain")
