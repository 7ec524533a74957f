"""The terminal phone: a whole Send-OTP session typed answer by answer."""

from __future__ import annotations

from sandbox.phone import Phone
from tests.conftest import WORKER_EN, serve


def test_a_session_typed_on_the_simulated_phone_sends_the_otp(app, sha_sandbox) -> None:
    gateway = serve(app)
    typed = iter(["1", "97955152869925", "2"])
    shown: list[str] = []
    phone = Phone(gateway.url, WORKER_EN, ask=lambda prompt: next(typed), show=shown.append)

    final = phone.dial()
    inbox = Phone(gateway.url, "+254110456321").inbox()
    gateway.stop()

    assert shown[0].startswith("John Otieno, choose:")
    assert shown[2].startswith("Send the OTP to which phone?")
    assert final.startswith("END OTP sent to +254110***321.")
    assert len(inbox) == 1 and "consent code" in inbox[0]["text"]


def test_hanging_up_ends_the_session(app) -> None:
    gateway = serve(app)
    phone = Phone(gateway.url, WORKER_EN, ask=lambda prompt: "q", show=lambda screen: None)

    assert phone.dial() == "hung up"
    gateway.stop()
