"""Our own SMS, through the africastalking SDK: each recipient's status is read."""

from __future__ import annotations

import json
import socket
import time

from tests.conftest import Served, inject_fault, outbox, serve
from upstream.sms import SmsSender


def sender_for(url: str) -> SmsSender:
    return SmsSender("sandbox", "test-key", base_url=url, sender_id="22384",
                     timeout=(0.5, 1.0))


def test_an_accepted_sms_reaches_the_phone_with_a_message_id(sha_sandbox: Served) -> None:
    result = sender_for(sha_sandbox.url).send("+254722000444", "hello")

    assert result.accepted and not result.retryable
    assert result.message_id.startswith("ATXid_")
    assert [(m["from"], m["text"]) for m in outbox(sha_sandbox, "+254722000444")] == [
        ("22384", "hello")]


def test_a_blacklisted_number_is_a_final_rejection(tmp_path, sandbox_data) -> None:
    from sandbox import create_app

    data = json.loads(sandbox_data.read_text())
    data["sms_blacklist"] = ["+254722000444"]
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data))
    served = serve(create_app(path))

    result = sender_for(served.url).send("+254722000444", "hello")
    served.stop()

    assert (result.accepted, result.retryable, result.status) == (False, False,
                                                                  "UserInBlacklist")
    assert result.message_id == ""


def test_a_gateway_error_is_worth_a_retry(sha_sandbox: Served) -> None:
    inject_fault(sha_sandbox, "sms", status=500)

    result = sender_for(sha_sandbox.url).send("+254722000444", "hello")

    assert (result.accepted, result.retryable) == (False, True)
    assert outbox(sha_sandbox, "+254722000444") == []


def test_a_gateway_slower_than_the_read_timeout_is_not_a_success(sha_sandbox: Served) -> None:
    """The sandbox holds an SMS call for the fault's delay, as it does SHA's calls."""
    inject_fault(sha_sandbox, "sms", status=0, delay=1.3)
    started = time.monotonic()

    result = sender_for(sha_sandbox.url).send("+254722000444", "hello")

    assert (result.accepted, result.status) == (False, "ReadTimeout")
    assert 1.0 <= time.monotonic() - started < 1.3


def test_a_2xx_with_no_recipients_is_not_a_success() -> None:
    def empty(environ, start_response):
        start_response("201 Created", [("Content-Type", "application/json")])
        return [b'{"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}}']

    served = serve(empty)
    result = sender_for(served.url).send("+254722000444", "hello")
    served.stop()

    assert (result.accepted, result.retryable, result.status) == (False, False, "NoRecipients")


def test_an_unreachable_gateway_never_raises() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    result = sender_for(f"http://127.0.0.1:{port}").send("+254722000444", "hello")

    assert (result.accepted, result.retryable) == (False, True)


def test_a_malformed_number_is_refused_before_sending(sha_sandbox: Served) -> None:
    result = sender_for(sha_sandbox.url).send("0722000444", "hello")

    assert (result.accepted, result.retryable) == (False, False)
