"""``python -m sandbox``: serve the SHA sandbox on its own (port 8001 by default)."""

import os

from sandbox.app import create_app

if __name__ == "__main__":
    port = int(os.environ.get("SANDBOX_PORT", "8001"))
    create_app().run(host="127.0.0.1", port=port, threaded=True)
