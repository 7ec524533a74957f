"""``POST /ussd/events``: Africa's Talking's USSD session-end notices.

A session that died before its ``END`` screen (``Failed``, or ``Incomplete``
when the health worker dropped out or the network did) is what the operator
needs to see: each notice is kept per session and counted by status; a Failed
one is logged as a WARNING, an Incomplete one at INFO. ``flask --app app
sessions failed`` lists both.
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from consent.identifiers import mask_phone
from handlers.security import protect
from observability import metrics
from observability.redact import redact_text
from observability.session_ends import SessionEnd, SessionEnds

log = logging.getLogger(__name__)

bp = protect(Blueprint("ussd_events", __name__))


@bp.post("/ussd/events")
def session_end() -> ResponseReturnValue:
    operations = current_app.extensions["operations"]
    end = operations.end_schema.load(request.form)
    g.log_fields.update(channel="ussd_events", step="session_end",
                        outcome=end.status.lower(), phone=mask_phone(end.phone))

    if _record(operations.session_ends, end):
        metrics.count_session_end(end.status)
        _report(end)
    else:
        g.log_fields.update(outcome="duplicate")

    return jsonify(status="received")


def _record(session_ends: SessionEnds, end: SessionEnd) -> bool:
    try:
        return session_ends.record(end)
    except redis.RedisError as error:
        # Fails open: the notice reports, it decides nothing. The metric and
        # the log line below still tell the operator, and AT gets its 200
        # rather than retrying into the outage.
        log.warning("ussd session end not stored: %s", type(error).__name__)

        return True


def _report(end: SessionEnd) -> None:
    if end.status == "Failed":
        level = logging.WARNING
    elif end.failed:
        # Most incomplete sessions are a health worker hanging up: worth a
        # line, not an alert.
        level = logging.INFO
    else:
        return
    log.log(level, "ussd session %s ended %s after %d hops in %d ms (phone %s, network %s): %s",
            end.session_id, end.status, end.hops, end.duration_ms, mask_phone(end.phone),
            end.network_code or "unknown", redact_text(end.error)[:120] or "no error given")
