"""The README's run command: ``python app.py`` serves a whole session, no setup."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port_pair() -> int:
    """A port whose next port is free too (the embedded sandbox takes it)."""
    for _ in range(50):
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no free pair of ports")


@pytest.fixture
def demo() -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port_pair()
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(port)}
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/healthz", timeout=0.5)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield url, process
    process.kill()
    process.communicate(timeout=10)


def test_demo_run_reaches_a_consent_reference(demo) -> None:
    url, process = demo
    form = {"sessionId": "demo-1", "serviceCode": "*384*12#", "phoneNumber": "+254711000002"}

    menu = requests.post(url + "/ussd", data={**form, "text": ""}, timeout=5).text
    final = requests.post(url + "/ussd", data={**form, "text": "1*97955152869925*1"},
                          timeout=10).text
    messages = requests.get(url + "/sandbox/messages", params={"to": "+254714123898"},
                            timeout=5).json()

    assert menu.startswith("CON John Otieno, choose:")
    assert final.startswith("END OTP sent to +254714***898.\nConsent ref: ")
    assert len(messages) == 1 and "consent code" in messages[0]["text"]
    process.terminate()
    output, _ = process.communicate(timeout=10)
    log_lines = [line for line in output.splitlines() if line.startswith("{")]
    assert len(log_lines) >= 3
    otp = messages[0]["text"].split("code is ")[1][:5]
    for secret in ("+254711000002", "+254714123898", "CR9795515286992-5", otp):
        assert not any(secret in line for line in log_lines), secret
