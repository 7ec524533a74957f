"""``GET /metrics`` in Prometheus text format, and the counting done per request.

USSD hops are counted from the fields the USSD view already sets for the
request log (channel, step, outcome), so the log line and the metrics cannot
disagree. A refused callback is counted by endpoint and reason here too, after
its response is made, wherever in the request it was refused.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, g

from handlers.security import callback_endpoint
from observability import metrics

bp = Blueprint("metrics", __name__)

REFUSALS = {400: "invalid", 403: "forbidden", 405: "method", 413: "too_large",
            415: "media_type"}


@bp.get("/metrics")
def scrape() -> Response:
    body, content_type = metrics.exposition()

    return Response(body, status=200, content_type=content_type)


@bp.after_app_request
def count(response: Response) -> Response:
    fields = g.get("log_fields", {})
    if fields.get("channel") == "ussd":
        seconds = time.monotonic() - g.get("started", time.monotonic())
        metrics.count_hop(fields.get("step", "none"), fields.get("outcome", "none"), seconds)

    reason = REFUSALS.get(response.status_code)
    endpoint = callback_endpoint() if reason else None
    if endpoint:
        metrics.count_refused(endpoint, reason)

    return response
