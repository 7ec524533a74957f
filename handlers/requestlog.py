"""One log line per request, with fields, and nothing personal in it.

Views add fields to ``g.log_fields`` (channel, step, outcome, masked phone)
and may raise the line's level with :func:`raise_level`; upstream calls add
their time to ``g.upstream_seconds``. The query string is never logged: it
carries the callback key. Both formatters pass every line through
:func:`observability.redact.redact_line`, for what arrives as free text, such
as an exception message quoting a URL with a CR ID in it.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from flask import Flask, Response, g, has_request_context, request

from observability import metrics
from observability.redact import redact_line

log = logging.getLogger("gateway.request")


def install(app: Flask) -> None:
    @app.before_request
    def start() -> None:
        g.started = time.monotonic()
        g.upstream_seconds = 0.0
        g.log_fields = {}
        g.log_level = logging.INFO

    @app.after_request
    def finish(response: Response) -> Response:
        fields = getattr(g, "log_fields", {})
        duration = time.monotonic() - getattr(g, "started", time.monotonic())
        level = getattr(g, "log_level", logging.INFO)
        log.log(level, "request", extra={"fields": {
            "method": request.method, "path": request.path, "status": response.status_code,
            "duration_ms": round(duration * 1000, 1),
            "upstream_ms": round(getattr(g, "upstream_seconds", 0.0) * 1000, 1),
            **fields,
        }})

        return response


def raise_level(level: int) -> None:
    """Log this request's line at ``level`` or above: WARNING for a degraded path."""
    g.log_level = max(getattr(g, "log_level", logging.INFO), level)


def add_upstream_time(call: str, seconds: float, outcome: str) -> None:
    """Observer for upstream clients: charge the call's time to this request,
    and to the upstream metrics, which also see calls made outside a request."""
    metrics.observe_upstream(call, seconds, outcome)
    if has_request_context() and hasattr(g, "upstream_seconds"):
        g.upstream_seconds += seconds
        if outcome != "ok":
            g.log_fields.setdefault("upstream_error", f"{call}:{outcome}")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record), "level": record.levelname,
                "logger": record.name, "event": record.getMessage(),
                **getattr(record, "fields", {})}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)

        return redact_line(json.dumps(line, default=str))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in getattr(record, "fields", {}).items())
        line = f"{self.formatTime(record)} {record.levelname} {record.getMessage()} {fields}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)

        return redact_line(line.rstrip())


def configure_logging(log_format: str) -> None:
    """JSON when not on a terminal (or when asked), readable text on one."""
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
