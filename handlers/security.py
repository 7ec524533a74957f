"""What every callback must pass before its view reads a field.

Africa's Talking does not sign callbacks and publishes no source addresses, so
the shared secret every callback URL carries as ``?key=`` is the only thing
telling AT's requests from anyone else's. A blueprint opts in with
:func:`protect`; its views then validate their fields with a schema. Nothing is
stored or called for a request refused here.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, request
from werkzeug.exceptions import HTTPException

# A real hop or notice is a few hundred bytes. The largest valid one, every
# character of its free text percent-encoded from 4 UTF-8 bytes (12 bytes
# each), stays under 7 KB; a hostile body is refused before it is read.
# Flask's MAX_CONTENT_LENGTH stays the cap for everything else.
CALLBACK_MAX_BODY = 8 * 1024

# AT posts form-encoded bodies on every callback, as its documentation says.
# Refusing the rest keeps the view's one parser the only one a caller reaches.
FORM_TYPE = "application/x-www-form-urlencoded"


def require_callback_key() -> None:
    """``before_request`` hook for callback blueprints: 403 unless the key matches."""
    expected = current_app.config["GATEWAY_SETTINGS"].callback_key
    if expected is None:
        return
    given = request.args.get("key", "")

    # Constant-time: a byte-by-byte comparison would leak the key's prefix.
    if not hmac.compare_digest(given.encode(), expected.encode()):
        abort(403, description="Missing or wrong callback key.")


def protect(bp: Blueprint, *, max_body: int = CALLBACK_MAX_BODY) -> Blueprint:
    """Make every view of ``bp`` a callback: the key, POST, a form body, a size cap.

    Call it before ``bp`` is first registered; calling it again is harmless.
    The checks run in the order that tells a stranger least: the key first,
    so a stranger learns nothing of the body rules.
    """
    if getattr(bp, "callback_max_body", None) is not None:
        return bp
    bp.callback_max_body = max_body  # type: ignore[attr-defined]
    # A blueprint may have added the key check itself; it runs once either way.
    if require_callback_key not in bp.before_request_funcs.get(None, []):
        bp.before_request(require_callback_key)
    bp.before_request(_require_form_post)

    return bp


def _require_form_post() -> None:
    # Routing refuses most other methods before any blueprint hook runs, but
    # not OPTIONS: Flask answers it for every route, after the hooks. Without
    # this check an OPTIONS with a form body would get a 200.
    if request.method != "POST":
        abort(405, valid_methods=["POST"])
    if request.mimetype != FORM_TYPE:
        abort(415, description=f"Send the fields as {FORM_TYPE}.")

    limit = current_app.blueprints[request.blueprint].callback_max_body
    too_large = f"A callback body is at most {limit} bytes."
    if request.content_length is not None and request.content_length > limit:
        abort(413, description=too_large)

    # A body sent without a length (chunked) is read one byte past the cap:
    # werkzeug would cut it at the cap without a word, and a cut form still
    # parses. The view's form is then parsed from these cached bytes.
    request.max_content_length = limit + 1
    if len(request.get_data(cache=True)) > limit:
        abort(413, description=too_large)


def callback_endpoint() -> str | None:
    """The protected view this request was for, even when routing refused its method."""
    endpoint = request.endpoint or _endpoint_by_path()
    if endpoint is None:
        return None
    blueprint = current_app.blueprints.get(endpoint.rpartition(".")[0])

    return endpoint if getattr(blueprint, "callback_max_body", None) else None


def _endpoint_by_path() -> str | None:
    try:
        endpoint, _ = current_app.url_map.bind_to_environ(request.environ).match(method="POST")
    except HTTPException:
        return None

    return endpoint
