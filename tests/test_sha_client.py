"""The SHA client against the sandbox, and against a server that misbehaves."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from werkzeug.wrappers import Request, Response

from tests.conftest import Served, sandbox_calls, serve
from upstream.errors import (
    NotFound,
    OutcomeUnknown,
    Rejected,
    Throttled,
    Unauthorized,
    Unavailable,
)
from upstream.sha import ShaClient

FACILITY = "FID-47-108521-3"
CODES = ["SHA-01-001"]
TOKEN = json.dumps({"access_token": "t0k3n", "expires_in": 3600, "token_type": "Bearer"})


def client_for(url: str, timeout: float = 0.5) -> ShaClient:
    return ShaClient(url, "sandbox-client", "sandbox-secret", connect_timeout=timeout,
                     read_timeout=timeout)


def test_token_is_fetched_once_and_reused(sha_sandbox: Served) -> None:
    sha = client_for(sha_sandbox.url)

    sha.contacts("CR9795515286992-5", FACILITY)
    sha.contacts("CR1234567890123-4", FACILITY)

    assert sandbox_calls(sha_sandbox) == {"token": 1, "contacts": 2}


def test_contacts_come_masked_default_first(sha_sandbox: Served) -> None:
    contacts = client_for(sha_sandbox.url).contacts("CR8880001112223-3", FACILITY)

    assert [c.masked for c in contacts[:2]] == ["+254700***011", "+254700***010"]
    assert contacts[0].default and not any(c.default for c in contacts[1:])
    assert all("***" in c.masked for c in contacts)


def test_inactive_contacts_are_left_out(sha_sandbox: Served) -> None:
    assert client_for(sha_sandbox.url).contacts("CR5550001112223-0", FACILITY) == []


def test_unknown_patient_is_not_found(sha_sandbox: Served) -> None:
    with pytest.raises(NotFound):
        client_for(sha_sandbox.url).contacts("CR0000000000000-0", FACILITY)


def test_unknown_facility_is_rejected(sha_sandbox: Served) -> None:
    with pytest.raises(Rejected) as caught:
        client_for(sha_sandbox.url).contacts("CR9795515286992-5", "FID-01-000000-0")

    assert caught.value.status == 403


def test_wrong_credentials_are_unauthorized(sha_sandbox: Served) -> None:
    sha = ShaClient(sha_sandbox.url, "sandbox-client", "wrong", connect_timeout=1,
                    read_timeout=1)

    with pytest.raises(Unauthorized):
        sha.contacts("CR9795515286992-5", FACILITY)


def test_send_otp_returns_shas_reference(sha_sandbox: Served) -> None:
    dispatch = client_for(sha_sandbox.url).send_otp("CR9795515286992-5", "C-2", FACILITY, CODES)

    assert dispatch.reference == dispatch.sha_reference
    assert len(dispatch.reference) >= 8


def test_send_otp_mints_a_reference_when_sha_gives_none(sha_sandbox: Served) -> None:
    dispatch = client_for(sha_sandbox.url).send_otp("CR4440003332221-9", "C-6", FACILITY, CODES)

    assert dispatch.sha_reference is None
    assert dispatch.reference.startswith("CG-") and len(dispatch.reference) == 13


@dataclass
class Misbehaving:
    """A fake SHA whose every answer a test chooses; it records what it received."""

    routes: dict[str, tuple[int, str, float]] = field(default_factory=dict)
    received: list[str] = field(default_factory=list)

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.received.append(request.path)
        if request.path == "/api/v1/tenants/token" and request.path not in self.routes:
            return Response(TOKEN, mimetype="application/json")(environ, start_response)
        status, body, delay = self.routes.get(request.path, (404, "{}", 0.0))
        time.sleep(delay)
        return Response(body, status=status, mimetype="application/json")(environ,
                                                                             start_response)


@pytest.fixture
def fake() -> Iterator[tuple[Misbehaving, Served]]:
    behaviour = Misbehaving()
    served = serve(behaviour)
    yield behaviour, served
    served.stop()


SEND = "/api/v1/claims/otp"
CONTACTS = "/api/v1/patients/contacts"


@pytest.mark.parametrize(("path", "answer", "error", "retry_safe"), [
    (CONTACTS, (500, '{"error": "boom"}', 0), Unavailable, True),
    (CONTACTS, (200, "<html>", 0), Unavailable, True),
    (CONTACTS, (0, "", 1.0), Unavailable, True),
    (CONTACTS, (429, '{"message": "slow down"}', 0), Throttled, True),
    (CONTACTS, (400, '{"error": "bad", "message": "patient_id invalid"}', 0), Rejected, False),
    (SEND, (500, '{"error": "boom"}', 0), OutcomeUnknown, False),
    (SEND, (504, "", 0), OutcomeUnknown, False),
    (SEND, (503, "", 0), Unavailable, True),
    (SEND, (200, "garbage", 0), OutcomeUnknown, False),
    (SEND, (200, '{"message": "OTP sent"}', 1.0), OutcomeUnknown, False),
    ("/api/v1/tenants/token", (200, '{"no": "token"}', 0), Unavailable, True),
    ("/api/v1/tenants/token", (503, "", 0), Unavailable, True),
])
def test_failures_map_onto_the_error_tree(fake, path, answer, error, retry_safe) -> None:
    behaviour, served = fake
    status, body, delay = answer
    behaviour.routes[path] = (status or 200, body, delay)
    sha = client_for(served.url)

    with pytest.raises(error) as caught:
        if path == SEND:
            sha.send_otp("CR9795515286992-5", "C-1", FACILITY, CODES)
        else:
            sha.contacts("CR9795515286992-5", FACILITY)

    assert type(caught.value) is error
    assert caught.value.retry_safe is retry_safe


def test_send_after_read_timeout_is_not_retried(fake) -> None:
    behaviour, served = fake
    behaviour.routes[SEND] = (200, '{"consent_request_id": "abc"}', 1.0)

    with pytest.raises(OutcomeUnknown):
        client_for(served.url).send_otp("CR9795515286992-5", "C-1", FACILITY, CODES)

    assert behaviour.received.count(SEND) == 1


def test_a_401_refreshes_the_token_once_then_gives_up(fake) -> None:
    behaviour, served = fake
    behaviour.routes[CONTACTS] = (401, '{"error": "unauthorized"}', 0)

    with pytest.raises(Unauthorized):
        client_for(served.url).contacts("CR9795515286992-5", FACILITY)

    assert behaviour.received == ["/api/v1/tenants/token", CONTACTS] * 2


def test_nothing_listening_is_unavailable_and_safe_to_retry() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(Unavailable) as caught:
        client_for(f"http://127.0.0.1:{port}").send_otp("CR9795515286992-5", "C-1", FACILITY,
                                                          CODES)

    assert type(caught.value) is Unavailable
    assert caught.value.retry_safe is True


def test_calls_in_one_hop_share_its_deadline(fake) -> None:
    behaviour, served = fake
    behaviour.routes[CONTACTS] = (200, "[]", 0.4)
    sha = client_for(served.url, timeout=5.0)

    with sha.deadline(0.7):
        sha.contacts("CR9795515286992-5", FACILITY)
        with pytest.raises(Unavailable) as caught:
            sha.send_otp("CR9795515286992-5", "C-1", FACILITY, CODES)

    assert caught.value.retry_safe is True
    assert SEND not in behaviour.received


def test_a_slow_call_is_cut_at_the_deadline_not_its_own_timeout(fake) -> None:
    behaviour, served = fake
    behaviour.routes[CONTACTS] = (200, "[]", 2.0)
    sha = client_for(served.url, timeout=5.0)
    started = time.monotonic()

    with sha.deadline(0.8), pytest.raises(Unavailable):
        sha.contacts("CR9795515286992-5", FACILITY)

    assert time.monotonic() - started < 1.5


def test_only_active_phone_contacts_are_offered(fake) -> None:
    behaviour, served = fake
    behaviour.routes[CONTACTS] = (200, json.dumps([
        {"id": "E-1", "contactType": "EMAIL", "contactValue": "a***@mail.test", "active": True},
        {"id": "P-1", "contactType": "PHONE", "contactValue": "+254714***898\u200b"},
        {"id": "P-2", "contactType": "PHONE", "contactValue": "+254110***321", "active": False},
    ]), 0.0)

    contacts = client_for(served.url).contacts("CR9795515286992-5", FACILITY)

    assert [(c.id, c.masked) for c in contacts] == [("P-1", "+254714***898")]
