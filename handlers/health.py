"""``GET /healthz``: the process is up. ``GET /readyz``: it can do its work."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    checks = current_app.extensions["operations"].readiness.checks()
    ready = all(state == "ok" for state in checks.values())

    return jsonify(status="ready" if ready else "unready", checks=checks), 200 if ready else 503
