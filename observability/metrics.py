"""Prometheus metrics, counted right however many gunicorn workers serve.

Call the ``count_*`` and ``observe_*`` functions from anywhere, request or
not. No label ever carries a phone number, a CR ID, a session id or any other
identifier (``safe_label`` turns one into ``other``): each label value is a
time series of its own, kept for as long as the monitoring keeps data.

Under gunicorn every worker is its own process with its own counters. With
``PROMETHEUS_MULTIPROC_DIR`` set (before this module is first imported),
prometheus_client keeps each worker's values in files in that directory and
``exposition`` adds them up, so ``/metrics`` shows the totals whichever worker
answers. Without it, the process's own default registry is used.
"""

from __future__ import annotations

import os
import re

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

# The ``*_created`` series only double the output: Prometheus does not need them.
disable_created_metrics()

# Letters first, no run of 4 digits (phone numbers, CR IDs, session ids all
# have one), short: anything else would grow the series without bound.
_SAFE_LABEL = re.compile(r"^(?!.*[0-9]{4})[A-Za-z][A-Za-z0-9_.-]{0,39}\Z")

# Africa's Talking waits 15 s for a hop; the buckets resolve the fast path
# (Redis only, a few ms) and the slow one (SHA calls, seconds).
_REPLY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0, 15.0)
_UPSTREAM_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0)

USSD_HOPS = Counter("gateway_ussd_hops", "USSD hops answered, by menu step and outcome",
                    ["step", "outcome"])
USSD_REPLY_SECONDS = Histogram("gateway_ussd_reply_seconds",
                               "Time to answer a USSD hop", buckets=_REPLY_BUCKETS)
USSD_SESSION_ENDS = Counter("gateway_ussd_session_ends",
                            "USSD session-end notices from Africa's Talking, by status",
                            ["status"])
UPSTREAM_SECONDS = Histogram("gateway_upstream_seconds", "Time of each call to SHA, by call",
                             ["call"], buckets=_UPSTREAM_BUCKETS)
UPSTREAM_ERRORS = Counter("gateway_upstream_errors", "Failed calls to SHA, by call and error",
                          ["call", "error"])
OTP_SENDS = Counter("gateway_otp_sends", "OTP send attempts, by result and reason",
                    ["result", "reason"])
SMS_STATUS = Counter("gateway_sms", "SMS we sent, by delivery status", ["status"])
CALLBACKS_REFUSED = Counter("gateway_callbacks_refused",
                            "Callback requests refused, by endpoint and reason",
                            ["endpoint", "reason"])


def safe_label(value: str) -> str:
    """``value`` if it is a short name, else ``other``: never an identifier."""
    return value if _SAFE_LABEL.match(value) else "other"


def count_otp(outcome: str) -> None:
    """One OTP send attempt: ``sent``, ``refused:cooldown``, ``failed:unavailable``..."""
    result, _, reason = outcome.partition(":")
    OTP_SENDS.labels(result=safe_label(result), reason=safe_label(reason or "none")).inc()


def count_sms(status: str) -> None:
    """One SMS status seen: ``Sent``, ``Success``, ``Failed``... (AT's words)."""
    SMS_STATUS.labels(status=safe_label(status)).inc()


def count_hop(step: str, outcome: str, seconds: float) -> None:
    USSD_HOPS.labels(step=safe_label(step), outcome=safe_label(outcome)).inc()
    USSD_REPLY_SECONDS.observe(seconds)


def count_session_end(status: str) -> None:
    USSD_SESSION_ENDS.labels(status=safe_label(status)).inc()


def count_refused(endpoint: str, reason: str) -> None:
    CALLBACKS_REFUSED.labels(endpoint=safe_label(endpoint), reason=safe_label(reason)).inc()


def observe_upstream(call: str, seconds: float, outcome: str) -> None:
    """Observer for upstream clients, beside the request log's."""
    UPSTREAM_SECONDS.labels(call=safe_label(call)).observe(seconds)
    if outcome != "ok":
        UPSTREAM_ERRORS.labels(call=safe_label(call), error=safe_label(outcome)).inc()


def exposition() -> tuple[bytes, str]:
    """The text format body and its content type, summed over workers if multiprocess."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY

    return generate_latest(registry), CONTENT_TYPE_LATEST
