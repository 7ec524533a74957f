"""``GET /readyz``: ready while Redis answers and SHA can be reached, and says which failed.

The Redis here is a redis-server of the test's own, on a free port, so it can
be stopped and started again without touching the suite's Redis.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from app import create_app
from observability.readiness import CHECK_TIMEOUT_SECONDS, Readiness, redis_ping

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="needs redis-server on PATH")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnRedis:
    """A throwaway redis-server: no persistence, stopped and started at will."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


def poll_readyz(client, status: int, timeout: float = 5.0):
    """The first /readyz answer with ``status``, or the last one seen."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/readyz")
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def test_readyz_follows_redis_going_away_and_coming_back(settings, own_redis) -> None:
    client = create_app(settings.with_overrides(redis_url=own_redis.url)).test_client()
    assert client.get("/readyz").json == {"status": "ready",
                                          "checks": {"redis": "ok", "sha": "ok"}}

    own_redis.stop()
    down = client.get("/readyz")

    assert down.status_code == 503
    assert down.json["status"] == "unready"
    assert down.json["checks"]["redis"] != "ok"
    assert down.json["checks"]["sha"] == "ok"

    own_redis.start()
    back = poll_readyz(client, 200)

    assert back.status_code == 200
    assert back.json["checks"] == {"redis": "ok", "sha": "ok"}


def test_readyz_names_sha_when_it_cannot_be_reached(settings) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    client = create_app(settings.with_overrides(hie_base_url=unreachable)).test_client()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json["checks"]["redis"] == "ok"
    assert response.json["checks"]["sha"] == "ConnectionRefusedError"


def test_redis_that_never_answers_costs_one_timeout_not_two() -> None:
    """No retry: a second attempt would double the probe's time."""
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(8)
    readiness = Readiness(redis_ping(f"redis://127.0.0.1:{mute.getsockname()[1]}/0"),
                          f"http://127.0.0.1:{mute.getsockname()[1]}")
    started = time.monotonic()

    try:
        answer = readiness.checks()["redis"]
    finally:
        mute.close()

    assert answer == "TimeoutError"
    assert time.monotonic() - started < CHECK_TIMEOUT_SECONDS * 1.5


def test_redis_restart_needs_no_retry_to_be_ready_again(own_redis) -> None:
    """The pool notices the socket Redis closed and reconnects before the PING."""
    readiness = Readiness(redis_ping(own_redis.url), "http://127.0.0.1:1")
    assert readiness.checks()["redis"] == "ok"

    own_redis.stop()
    own_redis.start()

    assert readiness.checks()["redis"] == "ok"


def test_sha_check_is_cached_so_probes_cannot_hammer_sha() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    readiness = Readiness(lambda: True, url, cache_seconds=0.3)

    assert readiness.checks()["sha"] == "ok"
    listener.close()

    assert readiness.checks()["sha"] == "ok"  # still the cached answer
    time.sleep(0.35)
    assert readiness.checks()["sha"] == "ConnectionRefusedError"


def test_healthz_stays_up_whatever_the_dependencies(settings) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    client = create_app(settings.with_overrides(hie_base_url=unreachable)).test_client()

    assert client.get("/healthz").status_code == 200
