"""The shared secret every callback URL carries as ``?key=``.

Africa's Talking does not sign callbacks and publishes no source addresses, so
the key is the only thing telling AT's requests from anyone else's.
"""

from __future__ import annotations

import hmac

from flask import abort, current_app, request


def require_callback_key() -> None:
    """``before_request`` hook for callback blueprints: 403 unless the key matches."""
    expected = current_app.config["GATEWAY_SETTINGS"].callback_key
    if expected is None:
        return
    given = request.args.get("key", "")

    # Constant-time: a byte-by-byte comparison would leak the key's prefix.
    if not hmac.compare_digest(given.encode(), expected.encode()):
        abort(403, description="Missing or wrong callback key.")
