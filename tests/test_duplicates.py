"""A repeated hop (same sessionId and text) replays its reply and does nothing twice."""

from __future__ import annotations

import threading
import uuid

import requests

from tests.conftest import SERVICE_CODE, WORKER_EN, Phone, outbox, sandbox_calls, serve


def test_final_hop_posted_twice_sends_one_otp(phone: Phone, sha_sandbox) -> None:
    phone.dial()
    phone.answer("1")
    phone.answer("97955152869925")
    first = phone.answer("1")

    second = phone.post("1*97955152869925*1")

    assert second == first
    assert first.startswith("END OTP sent to +254714***898.")
    assert len(outbox(sha_sandbox, "+254714123898")) == 1
    assert sandbox_calls(sha_sandbox)["send_otp"] == 1


def test_first_hop_sent_twice_by_the_telco_gives_the_same_menu(phone: Phone) -> None:
    first = phone.dial()

    assert phone.post("") == first
    assert phone.answer("1").startswith("CON Enter patient's CR ID.")


def test_concurrent_copies_of_the_final_hop_send_one_otp(app, sha_sandbox) -> None:
    gateway = serve(app)
    session_id = "ATUid_" + uuid.uuid4().hex
    form = {"sessionId": session_id, "serviceCode": SERVICE_CODE, "phoneNumber": WORKER_EN,
            "networkCode": "63902"}
    for text in ("", "1", "1*97955152869925"):
        requests.post(f"{gateway.url}/ussd", data={**form, "text": text}, timeout=10)
    # The sandbox takes a moment to send, so the copies overlap in flight.
    requests.post(f"{sha_sandbox.url}/sandbox/faults/send_otp",
                  json={"status": 0, "delay": 0.3}, timeout=5)

    replies: list[str] = []
    barrier = threading.Barrier(4)

    def post_final_hop() -> None:
        barrier.wait()
        response = requests.post(f"{gateway.url}/ussd",
                                 data={**form, "text": "1*97955152869925*2"}, timeout=15)
        replies.append(response.text)

    threads = [threading.Thread(target=post_final_hop) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    gateway.stop()

    assert len(replies) == 4
    assert len(set(replies)) == 1, replies
    assert replies[0].startswith("END OTP sent to +254110***321.")
    assert len(outbox(sha_sandbox, "+254110456321")) == 1
