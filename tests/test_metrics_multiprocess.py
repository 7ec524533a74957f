"""Under gunicorn with two workers, ``/metrics`` counts every hop, whichever
worker served it and whichever worker answers the scrape.

The proof needs both workers to have served hops: two slow hops (SHA's
contacts call held for a moment) are sent at once, and a sync worker takes one
request at a time, so the second can only go to the other worker. The access
log's pids confirm it. A per-process registry would then show each scrape
only part of the total.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REDIS_URL, SERVICE_CODE, WORKER_EN, WORKER_SW, inject_fault

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(prefix: str, sha_sandbox, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "GATEWAY_MODE": "sandbox",
           "REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix, "HIE_BASE_URL": sha_sandbox.url,
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "LOG_FORMAT": "json"}
    access = tmp_path / "access.log"
    # gunicorn.conf.py in ROOT (the hooks) is read because gunicorn starts there.
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "1",
         "-b", f"127.0.0.1:{port}", "--access-logfile", str(access),
         "--access-logformat", "%(p)s %(m)s %(U)s %(s)s", "app:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url, access
    finally:
        process.terminate()
        process.communicate(timeout=15)


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode())
        try:
            requests.get(url + "/healthz", timeout=0.5)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def session(url: str, worker: str, answers: list[str]) -> int:
    """One USSD session; the number of hops it made."""
    form = {"sessionId": f"ATUid_mp_{worker[-3:]}_{time.monotonic_ns()}",
            "serviceCode": SERVICE_CODE, "phoneNumber": worker, "networkCode": "63902"}
    texts = [""] + ["*".join(answers[:n]) for n in range(1, len(answers) + 1)]
    for text in texts:
        reply = requests.post(url + "/ussd", data={**form, "text": text}, timeout=10)
        assert reply.status_code == 200 and reply.text.startswith(("CON ", "END "))

    return len(texts)


def totals(url: str) -> tuple[float, float]:
    """Hops counted (all steps and outcomes), and replies timed, as one scrape says."""
    text = requests.get(url + "/metrics", timeout=5).text
    hops = replies = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "gateway_ussd_hops_total":
                hops += sample.value
            elif sample.name == "gateway_ussd_reply_seconds_count":
                replies += sample.value

    return hops, replies


def test_two_workers_report_the_same_totals(gunicorn, sha_sandbox) -> None:
    url, access = gunicorn
    inject_fault(sha_sandbox, "contacts", status=0, delay=0.4, times=2)
    made: list[int] = []
    slow = [threading.Thread(target=lambda w=w: made.append(
        session(url, w, ["1", "97955152869925"]))) for w in (WORKER_EN, WORKER_SW)]

    for thread in slow:
        thread.start()
    for thread in slow:
        thread.join(timeout=20)
    made.extend(session(url, WORKER_EN, ["4"]) for _ in range(3))

    expected = float(sum(made))
    assert len(made) == 5 and expected == 12
    log = access.read_text()
    pids = set(re.findall(r"^<(\d+)> POST /ussd 200$", log, re.MULTILINE))
    assert len(pids) == 2, log
    for _ in range(12):
        assert totals(url) == (expected, expected)
