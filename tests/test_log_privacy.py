"""Whole flows, then a search of everything logged for what must never be there.

Two views of the same logs: the raw records pytest captures (what our code
wrote, before any masking), and the JSON lines a production handler prints
(after the formatter's net). Neither may hold a full phone number, a CR ID, an
OTP, an SHA token, a consent token or the callback key.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from app import create_app
from handlers.requestlog import JsonFormatter
from tests.conftest import SERVICE_CODE, WORKER_EN, Phone, inject_fault, outbox

KEY = "Kq7vN2xR9sT4wY6zB8cD1fG3hJ5kL0mP"
TWO_PHONE_PATIENT = ("97955152869925", "CR9795515286992-5", "+254714123898")
ONE_PHONE_PATIENT = ("12345678901234", "CR1234567890123-4", "+254722000444")


@pytest.fixture
def keyed_app(settings):
    return create_app(settings.with_overrides(callback_key=KEY))


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """A production-style JSON handler on the root logger, at DEBUG so that even
    library debug lines (urllib3 prints URLs) go through the formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def reference_in(reply: str) -> str:
    found = re.search(r"Consent ref: (\S+)", reply)
    assert found, reply
    return found.group(1)


def newest_otp(sha_sandbox, number: str) -> str:
    texts = [m["text"] for m in outbox(sha_sandbox, number) if m["from"] == "SHA"]
    assert texts
    return re.search(r"\b(\d{5})\b", texts[-1]).group(1)


def run_flows(app, sha_sandbox) -> list[str]:
    """Every path that handles a secret; returns the secrets it met."""
    client = app.test_client()
    phone = Phone(client, WORKER_EN, query="?key=" + KEY)
    digits, cr_id, patient = TWO_PHONE_PATIENT

    phone.dial()
    for answer in ("1", digits, "1"):
        reply = phone.answer(answer)
    first = reference_in(reply)
    first_otp = newest_otp(sha_sandbox, patient)
    phone.dial()
    phone.answer("2")
    phone.answer(f"{(int(first_otp) + 1) % 100000:05d}")
    phone.answer(first_otp)

    second = _send_and_reply_by_sms(client, phone, sha_sandbox)
    inject_fault(sha_sandbox, "contacts", status=503)
    phone.dial()
    phone.answer("1")
    phone.answer(digits)
    _refused_callbacks(client, cr_id, patient)
    _session_end(client, phone.session_id, f"2*{first_otp}", cr_id, "Failed")
    _session_end(client, "ATUid_gone", f"1*{digits}", cr_id, "Incomplete")
    app.extensions["gateway"].notifier.drain()

    records = app.extensions["gateway"].records
    tokens = [records.get(ref).consent_token for ref in (first, second)]
    assert all(tokens), "the flows must reach the consent tokens they check for"
    return [first_otp, newest_otp(sha_sandbox, ONE_PHONE_PATIENT[2]), *tokens]


def _send_and_reply_by_sms(client, phone: Phone, sha_sandbox) -> str:
    digits, _, patient = ONE_PHONE_PATIENT
    phone.dial()
    phone.answer("1")
    reference = reference_in(phone.answer(digits))
    code = newest_otp(sha_sandbox, patient)
    response = client.post("/sms/inbound?key=" + KEY, data={
        "from": patient, "to": "22384", "text": f"OTP {code}", "id": "ATXid_log1",
        "date": "2026-12-03 10:00:00", "networkCode": "63902"})
    assert response.status_code == 200
    return reference


def _refused_callbacks(client, cr_id: str, patient: str) -> None:
    hop = {"sessionId": "ATUid_bad", "serviceCode": SERVICE_CODE, "phoneNumber": WORKER_EN,
           "networkCode": "63902", "text": f"1*{cr_id}"}
    assert client.post("/ussd?key=wrong-" + KEY[:8], data=hop).status_code == 403
    assert client.post("/ussd?key=" + KEY,
                       data={**hop, "phoneNumber": patient + "9"}).status_code == 400
    assert client.post("/ussd?key=" + KEY, json=hop).status_code == 415
    assert client.post("/ussd?key=" + KEY, data={**hop, "pad": patient * 900}).status_code == 413


def _session_end(client, session_id: str, typed: str, cr_id: str, status: str) -> None:
    # Both endings put AT's error message, a phone in it, on the request's line.
    response = client.post("/ussd/events?key=" + KEY, data={
        "date": "2026-12-03 10:00:00", "sessionId": session_id, "serviceCode": SERVICE_CODE,
        "networkCode": "63902", "phoneNumber": WORKER_EN, "status": status,
        "cost": "KES 0.0000", "durationInMillis": "15230", "hopsCount": "3", "input": typed,
        "lastAppResponse": f"END No patient with CR ID {cr_id}.",
        "errorMessage": f"Timeout for {WORKER_EN}"})
    assert response.status_code == 200


def forbidden(app, met: list[str]) -> list[str]:
    settings = app.config["GATEWAY_SETTINGS"]
    # The client's cached bearer token: private, but the one value to look for.
    cached = app.extensions["gateway"].sha._token
    assert cached, "the flows must have fetched an SHA token"
    phones = [WORKER_EN, TWO_PHONE_PATIENT[2], ONE_PHONE_PATIENT[2]]

    return [*phones, *(p[1:] for p in phones), *(p[4:] for p in phones),
            *TWO_PHONE_PATIENT[:2], *ONE_PHONE_PATIENT[:2], cached[0], *met,
            KEY, settings.hie_client_secret]


def raw_line(record: logging.LogRecord) -> str:
    """A record as our code made it: message, fields and traceback, unmasked."""
    exception = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""

    return " ".join([record.getMessage(), json.dumps(getattr(record, "fields", {})), exception])


def leaks(text: str, secrets: list[str]) -> list[str]:
    # Digits are matched whole, so a 5-digit OTP inside a longer number or a
    # hex id is not mistaken for it.
    return [s for s in secrets
            if re.search(r"(?<![0-9])" + re.escape(s) + r"(?![0-9])", text)]


def test_no_phone_cr_id_otp_token_or_key_is_ever_logged(keyed_app, sha_sandbox, caplog,
                                                        json_log) -> None:
    caplog.handler.setLevel(logging.INFO)

    met = run_flows(keyed_app, sha_sandbox)

    secrets = forbidden(keyed_app, met)
    # The SHA stand-in's own access log (werkzeug) is SHA's, not ours; its
    # lines still pass through the JSON handler below.
    ours = [r for r in caplog.records if not r.name.startswith("werkzeug")]
    raw = "\n".join(raw_line(r) for r in ours)
    printed = json_log.getvalue()
    assert len(ours) > 20 and printed.count("\n") > 20
    assert leaks(raw, secrets) == []
    assert leaks(printed, secrets) == []


def test_each_request_logs_one_json_line_with_its_fields(keyed_app, json_log) -> None:
    phone = Phone(keyed_app.test_client(), WORKER_EN, query="?key=" + KEY)

    phone.dial()
    phone.answer("1")

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    requests = [line for line in lines if line["event"] == "request"]
    assert len(requests) == 2
    for line in requests:
        assert {"method", "path", "status", "duration_ms", "upstream_ms", "channel", "step",
                "outcome", "phone"} <= line.keys()
        assert (line["channel"], line["status"], line["phone"]) == ("ussd", 200, "***002")
    assert [line["step"] for line in requests] == ["main", "main"]
