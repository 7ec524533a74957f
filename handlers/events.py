"""``POST /ussd/events``: Africa's Talking's USSD session-end notices.

A session that died before its ``END`` screen (``Failed``, or ``Incomplete``
when the health worker dropped out or the network did) is what the operator
needs to see: each notice is kept per session and counted by status, and its
details go on the request's log line, raised to WARNING for a Failed one.
``flask --app app sessions failed`` lists both.
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from consent.identifiers import mask_phone
from handlers.requestlog import raise_level
from handlers.security import protect
from observability import metrics
from observability.redact import redact_text
from observability.session_ends import SessionEnd, SessionEnds

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
        # the request's log line still tell the operator, and AT gets its 200
        # rather than retrying into the outage.
        g.log_fields.update(store_error=type(error).__name__)
        raise_level(logging.WARNING)

        return True


def _report(end: SessionEnd) -> None:
    """Put a session that closed before its END screen on the request's line."""
    if not end.failed:
        return
    g.log_fields.update(session_id=end.session_id, hops=end.hops, session_ms=end.duration_ms,
                        network=end.network_code or "unknown",
                        session_error=redact_text(end.error)[:120] or "no error given")

    # Most incomplete sessions are a health worker hanging up: worth a line,
    # not an alert.
    if end.status == "Failed":
        raise_level(logging.WARNING)
