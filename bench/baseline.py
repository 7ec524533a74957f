"""The floor the gateway is measured against: Flask, gunicorn and two Redis round trips.

Its one view does what every gateway hop cannot avoid (read state in one
pipelined round trip, write it back in another) and nothing else, so the
difference between the two benchmarks is the gateway's own work: validation,
the menu, rendering, logging and, on the last two hops, SHA.

Serve it with ``gunicorn 'bench.baseline:create_app()'`` from the repository
root, with REDIS_URL and REDIS_PREFIX in the environment.
"""

from __future__ import annotations

import os

import redis
from flask import Flask, Response, current_app, jsonify, request

SESSION_TTL = 300


def create_app() -> Flask:
    app = Flask(__name__)
    app.extensions["redis"] = redis.Redis.from_url(
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), decode_responses=True,
        socket_connect_timeout=1.0, socket_timeout=1.0,
    )
    app.config["PREFIX"] = os.environ.get("REDIS_PREFIX", "bench:baseline:")

    app.add_url_rule("/ussd", view_func=hop, methods=["POST"])
    app.add_url_rule("/healthz", view_func=healthz, methods=["GET"])

    return app


def hop() -> Response:
    client: redis.Redis = current_app.extensions["redis"]
    key = f"{current_app.config['PREFIX']}session:{request.form.get('sessionId', '')}"

    read = client.pipeline(transaction=False)
    read.get(key)
    read.execute()

    write = client.pipeline(transaction=False)
    write.set(key, request.form.get("text", ""), ex=SESSION_TTL)
    write.execute()

    return Response("CON ok", status=200, mimetype="text/plain")


def healthz() -> Response:
    return jsonify(status="ok")
