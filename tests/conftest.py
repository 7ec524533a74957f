"""Fixtures: a real Redis (own key prefix per test) and the SHA sandbox served
over real HTTP on a free port, with the gateway app wired to both."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app
from config.settings import BUNDLED_SANDBOX_DATA, Settings
from sandbox import create_app as create_sandbox

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SERVICE_CODE = "*384*12#"
WORKER_EN = "+254711000002"
WORKER_SW = "+254711000001"
WORKER_INACTIVE = "+254711000003"


@dataclass
class Served:
    """A WSGI app on a real port, in a thread."""

    server: BaseWSGIServer
    url: str

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(app: object) -> Served:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()

    return Served(server, f"http://127.0.0.1:{server.server_port}")


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A key prefix of this test's own, removed afterwards."""
    value = f"test:{uuid.uuid4().hex[:12]}:"
    yield value
    keys = list(redis_client.scan_iter(match=value + "*", count=500))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture
def sandbox_data() -> Path:
    return BUNDLED_SANDBOX_DATA


@pytest.fixture
def sha_sandbox(sandbox_data: Path) -> Iterator[Served]:
    served = serve(create_sandbox(sandbox_data))
    yield served
    served.stop()


@pytest.fixture
def settings(prefix: str, sha_sandbox: Served, sandbox_data: Path) -> Settings:
    return Settings(mode="sandbox", redis_url=REDIS_URL, redis_prefix=prefix,
                    hie_base_url=sha_sandbox.url, sandbox_data=sandbox_data,
                    service_codes=(SERVICE_CODE,), log_format="text")


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    yield app
    # Outcome SMS are sent after the reply; let them finish before the
    # sandbox and this test's keys go away.
    app.extensions["gateway"].notifier.drain()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class Phone:
    """A health worker's handset: dials, answers, and remembers the session text."""

    client: FlaskClient
    number: str
    session_id: str = field(default_factory=lambda: "ATUid_" + uuid.uuid4().hex)
    answers: list[str] = field(default_factory=list)
    query: str = ""

    def dial(self) -> str:
        self.session_id = "ATUid_" + uuid.uuid4().hex
        self.answers = []
        return self.post("")

    def answer(self, value: str) -> str:
        self.answers.append(value)
        return self.post("*".join(self.answers))

    def post(self, text: str) -> str:
        response = self.client.post("/ussd" + self.query, data={
            "sessionId": self.session_id, "serviceCode": SERVICE_CODE,
            "phoneNumber": self.number, "networkCode": "63902", "text": text,
        })
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/plain"
        return response.get_data(as_text=True)


@pytest.fixture
def phone(client: FlaskClient) -> Phone:
    return Phone(client, WORKER_EN)


def outbox(sandbox: Served, number: str) -> list[dict[str, object]]:
    """What the sandbox has texted to ``number``, oldest first."""
    response = requests.get(f"{sandbox.url}/sandbox/messages", params={"to": number},
                            timeout=5)
    response.raise_for_status()
    return response.json()


def sandbox_calls(sandbox: Served) -> dict[str, int]:
    return requests.get(f"{sandbox.url}/sandbox/calls", timeout=5).json()


def inject_fault(sandbox: Served, call: str, **fault: object) -> None:
    requests.post(f"{sandbox.url}/sandbox/faults/{call}", json=fault,
                  timeout=5).raise_for_status()
