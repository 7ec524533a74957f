"""``GET /sandbox/messages`` on the gateway, in sandbox mode only.

The phone outbox belongs to the sandbox service; this passes the question on,
so a demo needs only the gateway's address.
"""

from __future__ import annotations

import requests
from flask import Blueprint, Response, current_app, request

bp = Blueprint("sandbox", __name__)


@bp.get("/sandbox/messages")
def messages() -> Response:
    settings = current_app.config["GATEWAY_SETTINGS"]
    upstream = requests.get(f"{settings.hie_base_url}/sandbox/messages",
                            params={"to": request.args.get("to", "")},
                            timeout=(settings.hie_connect_timeout, settings.hie_read_timeout))

    return Response(upstream.content, status=upstream.status_code,
                    mimetype="application/json")
