"""Errors become responses here, and nowhere else."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

log = logging.getLogger(__name__)


def register_errors(app: Flask) -> None:
    @app.errorhandler(ValidationError)
    def invalid_payload(error: ValidationError) -> tuple[Response, int]:
        # Field names only: the values may hold a phone number or a key.
        g.log_fields.update(outcome="invalid", fields=",".join(sorted(error.messages)))

        return jsonify(error="invalid_request", fields=error.messages), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        g.log_fields.setdefault("outcome", error.name.lower().replace(" ", "_"))
        response = jsonify(error=error.name, message=error.description)
        response.status_code = error.code or 500
        # A 405 must say what is allowed (RFC 9110), as werkzeug's own page does.
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)

        return response

    # Registered last, for whatever escaped every other handler: Africa's
    # Talking ends a USSD session on any non-200, so a hop still gets a
    # polite END; other callers get a 500 without details.
    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int] | Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        g.log_fields.update(outcome="fault")
        if request.path == "/ussd":
            return Response("END The service had a problem. Please dial again.",
                            status=200, mimetype="text/plain")

        return jsonify(error="internal_error"), 500
