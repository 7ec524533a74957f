"""Session state in Redis: round trips per hop, TTLs, and failing closed."""

from __future__ import annotations

import socket

import pytest
import redis

from app import connect_redis, create_app
from tests.conftest import REDIS_URL, WORKER_EN, Phone, sandbox_calls


class CountingConnection(redis.Connection):
    """Counts what is sent to Redis: one send per command or per pipeline."""

    sends = 0

    def send_packed_command(self, command, check_health=True):
        CountingConnection.sends += 1
        return super().send_packed_command(command, check_health)


@pytest.fixture
def counted(settings):
    """The gateway on a Redis client that counts what it sends."""
    pool = redis.ConnectionPool.from_url(REDIS_URL, connection_class=CountingConnection,
                                         decode_responses=True)
    counting = redis.Redis(connection_pool=pool)
    app = create_app(settings, redis_client=counting)
    counting.ping()
    yield app
    app.extensions["gateway"].notifier.drain()
    pool.disconnect()


def round_trips(phone: Phone, answer: str | None) -> int:
    before = CountingConnection.sends
    phone.dial() if answer is None else phone.answer(answer)
    return CountingConnection.sends - before


def test_hops_without_upstream_take_two_round_trips(counted) -> None:
    phone = Phone(counted.test_client(), WORKER_EN)

    assert round_trips(phone, None) == 2          # main menu
    assert round_trips(phone, "1") == 2           # CR ID prompt
    assert round_trips(phone, "12") == 2          # wrong CR ID, re-prompt
    assert round_trips(phone, "0") == 2           # back
    assert round_trips(phone, "4") == 2           # language menu
    assert round_trips(phone, "2") == 2           # language saved with the session


def test_a_hop_that_lists_consent_requests_takes_two_more(counted) -> None:
    """Option 2 reads the worker's pending request ids, then the records themselves."""
    phone = Phone(counted.test_client(), WORKER_EN)
    phone.post("1*12345678901234")
    phone.dial()

    assert round_trips(phone, "2") == 4


def test_the_sending_hop_takes_three_more_around_its_sha_calls(counted) -> None:
    """The first send for a patient looks up an earlier request to supersede (none
    here, so one trip), reserves a slot under the limits (one script), then
    saves the record with its audit event (one transaction)."""
    phone = Phone(counted.test_client(), WORKER_EN)
    phone.dial()
    phone.answer("1")

    assert round_trips(phone, "12345678901234") == 5


def test_a_replayed_hop_takes_one_round_trip(counted) -> None:
    phone = Phone(counted.test_client(), WORKER_EN)
    phone.dial()

    before = CountingConnection.sends
    phone.post("")

    assert CountingConnection.sends - before == 1


def test_session_state_outlives_africas_talking_session(app, redis_client, prefix) -> None:
    phone = Phone(app.test_client(), WORKER_EN)
    phone.dial()

    ttl = redis_client.ttl(f"{prefix}ussd:session:{phone.session_id}")

    assert 180 < ttl <= 300


def test_unreachable_store_ends_the_session_and_sends_nothing(settings, sha_sandbox) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(settings)
    dead = settings.with_overrides(redis_url=f"redis://127.0.0.1:{port}/0")
    app.extensions["gateway"].ussd.store.redis = connect_redis(dead)
    phone = Phone(app.test_client(), WORKER_EN)

    assert phone.post("1*12345678901234") == ("END The service is busy. Please dial again "
                                              "in a minute.")
    assert sandbox_calls(sha_sandbox) == {}
