"""SMS callbacks from Africa's Talking: ``POST /sms/inbound`` (patients texting
our short code) and ``POST /sms/delivery`` (reports on the SMS we sent)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request

from consent.identifiers import mask_phone
from handlers.schemas import DeliveryReportSchema, InboundSmsSchema
from handlers.security import protect
from observability.metrics import count_sms

# Patients' SMS may run to 1,600 characters (10 parts); percent-encoded from
# multi-byte UTF-8 that is up to 19 KB, so this blueprint's cap is larger.
bp = protect(Blueprint("sms", __name__), max_body=24 * 1024)
_inbound = InboundSmsSchema()
_delivery = DeliveryReportSchema()


@bp.post("/sms/inbound")
def inbound() -> Response:
    sms = _inbound.load(request.form)
    g.log_fields.update(channel="sms", step="inbound", phone=mask_phone(sms.sender))

    outcome = current_app.extensions["gateway"].replies.handle(sms)
    g.log_fields.update(outcome=outcome)

    return Response("OK", status=200, mimetype="text/plain")


@bp.post("/sms/delivery")
def delivery() -> Response:
    report = _delivery.load(request.form)
    g.log_fields.update(channel="sms", step="delivery", phone=mask_phone(report.phone),
                        status_reported=report.status)

    outcome = current_app.extensions["gateway"].deliveries.record(report)
    if outcome == "updated":
        count_sms(report.status)
    g.log_fields.update(outcome=outcome)

    # Any 2xx acknowledges the report; an unknown id too, or AT would repeat it.
    return Response("OK", status=200, mimetype="text/plain")
