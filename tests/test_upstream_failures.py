"""When SHA fails, the health worker gets an END that says what to do, and no OTP
goes out unless SHA may already have sent it (and then the screen says so)."""

from __future__ import annotations

import pytest

from app import create_app
from tests.conftest import WORKER_EN, Phone, inject_fault, outbox

SHA_DOWN = "END SHA is not answering now. No OTP was sent. Try again in a few minutes."
SHA_UNKNOWN = ("END SHA did not answer in time. The OTP may have been sent: check the "
               "patient's phone. If it came, dial again and choose 2.")


@pytest.fixture
def phone(settings) -> Phone:
    quick = settings.with_overrides(hie_connect_timeout=0.5, hie_read_timeout=0.5)
    return Phone(create_app(quick).test_client(), WORKER_EN)


@pytest.mark.parametrize(("call", "fault", "screen"), [
    ("contacts", {"status": 503}, SHA_DOWN),
    ("contacts", {"status": 500, "body": "<html>oops</html>"}, SHA_DOWN),
    ("contacts", {"status": 0, "delay": 1.0}, SHA_DOWN),
    ("contacts", {"status": 429}, "END SHA is busy. No OTP was sent. Try again in 1 minute."),
    ("token", {"status": 503}, SHA_DOWN),
    ("send_otp", {"status": 503}, SHA_DOWN),
    ("send_otp", {"status": 500}, SHA_UNKNOWN),
    ("send_otp", {"status": 200, "body": "not json"}, SHA_UNKNOWN),
])
def test_sha_failure_gives_its_own_screen_and_no_otp(phone: Phone, sha_sandbox, call: str,
                                                      fault: dict, screen: str) -> None:
    inject_fault(sha_sandbox, call, **fault)

    assert phone.post("1*12345678901234") == screen
    assert outbox(sha_sandbox, "+254722000444") == []


def test_slow_send_is_never_retried_and_says_the_otp_may_be_out(phone: Phone,
                                                                 sha_sandbox) -> None:
    # SHA sends the OTP, but answers after our read timeout.
    inject_fault(sha_sandbox, "send_otp", status=0, delay=1.0)

    assert phone.post("1*12345678901234") == SHA_UNKNOWN
    assert phone.post("1*12345678901234") == SHA_UNKNOWN
    assert len(outbox(sha_sandbox, "+254722000444")) <= 1


def test_sha_down_then_back_lets_the_worker_dial_again(phone: Phone, sha_sandbox) -> None:
    inject_fault(sha_sandbox, "send_otp", status=502)
    assert phone.post("1*12345678901234") == SHA_DOWN

    phone.dial()
    phone.answer("1")

    assert phone.answer("12345678901234").startswith("END OTP sent to +254722***444.")
    assert len(outbox(sha_sandbox, "+254722000444")) == 1
