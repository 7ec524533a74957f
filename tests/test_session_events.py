"""``POST /ussd/events``: session-end notices are kept, counted and shown to the operator."""

from __future__ import annotations

import json
import logging

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.conftest import SERVICE_CODE, WORKER_EN
from tests.observe import keys_under, sample

NOTICE = {"date": "2026-12-03 10:00:00", "sessionId": "ATUid_end1", "serviceCode": SERVICE_CODE,
          "networkCode": "63902", "phoneNumber": WORKER_EN, "status": "Failed",
          "cost": "KES 0.0000", "durationInMillis": "15230", "hopsCount": "3",
          "input": "1*97955152869925", "lastAppResponse":
          "END No patient with CR ID CR9795515286992-5. Check the ID and dial again.",
          "errorMessage": "Application response timeout"}


def notify(client, **changes: str):
    return client.post("/ussd/events", data={**NOTICE, **changes})


def only_line(caplog) -> logging.LogRecord:
    """The request's log line, after checking it is the only line the request wrote."""
    ours = [r for r in caplog.records if not r.name.startswith("werkzeug")]
    assert [r.name for r in ours] == ["gateway.request"]

    return ours[0]


def stored(app, redis_client, session_id: str) -> dict:
    key = app.extensions["gateway"].keys.session_end(session_id)
    return json.loads(redis_client.get(key.name))


def test_notice_is_kept_per_session_without_identifiers(app, client, redis_client) -> None:
    response = notify(client)

    assert response.status_code == 200
    record = stored(app, redis_client, "ATUid_end1")
    assert (record["status"], record["hops"], record["duration_ms"]) == ("Failed", 3, 15230)
    assert record["phone"] == "***002"
    assert record["error"] == "Application response timeout"
    assert record["last_screen"].startswith("END No patient with CR ID CR97***92-5.")
    flat = json.dumps(record)
    assert WORKER_EN not in flat and "9795515286992" not in flat
    assert "input" not in record


def test_notice_lives_as_long_as_consent_records(app, client, redis_client, settings) -> None:
    notify(client)

    key = app.extensions["gateway"].keys.session_end("ATUid_end1")
    assert settings.consent_ttl - 5 <= redis_client.ttl(key.name) <= settings.consent_ttl


def test_repeated_notice_is_counted_once(client) -> None:
    before = sample("gateway_ussd_session_ends_total", status="Incomplete")

    for _ in range(3):
        assert notify(client, sessionId="ATUid_rep", status="Incomplete").status_code == 200

    assert sample("gateway_ussd_session_ends_total", status="Incomplete") == before + 1


def test_failed_session_is_a_warning_with_the_phone_masked(client, caplog) -> None:
    with caplog.at_level(logging.INFO):
        notify(client, sessionId="ATUid_warn")

    line = only_line(caplog)
    assert line.levelno == logging.WARNING
    fields = line.fields
    assert (fields["session_id"], fields["outcome"], fields["phone"]) == (
        "ATUid_warn", "failed", "***002")
    assert (fields["hops"], fields["session_ms"], fields["network"]) == (3, 15230, "63902")
    assert fields["session_error"] == "Application response timeout"
    assert WORKER_EN not in json.dumps(fields) and WORKER_EN not in caplog.text


@pytest.mark.parametrize(("status", "detailed"), [("Incomplete", True), ("Success", False)])
def test_other_endings_are_not_warnings(client, caplog, status, detailed) -> None:
    with caplog.at_level(logging.INFO):
        notify(client, sessionId="ATUid_" + status, status=status)

    line = only_line(caplog)
    assert line.levelno == logging.INFO
    assert line.fields["outcome"] == status.lower()
    assert ("session_id" in line.fields) is detailed


def test_cli_lists_failed_and_incomplete_sessions_newest_first(app, client) -> None:
    notify(client, sessionId="ATUid_old", status="Failed")
    notify(client, sessionId="ATUid_ok", status="Success")
    notify(client, sessionId="ATUid_new", status="Incomplete", errorMessage="")

    result = app.test_cli_runner().invoke(args=["sessions", "failed"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[3] for line in lines] == ["ATUid_new", "ATUid_old"]
    assert "Incomplete" in lines[0] and "phone ***002" in lines[0] and "hops 3" in lines[0]
    assert "Application response timeout" in lines[1]
    assert WORKER_EN not in result.output and "9795515286992" not in result.output


def test_cli_says_so_when_nothing_failed(app) -> None:
    result = app.test_cli_runner().invoke(args=["sessions", "failed"])

    assert result.exit_code == 0
    assert "no failed or incomplete sessions" in result.output


@pytest.mark.parametrize(("label", "change"), [
    ("no status", {"status": None}),
    ("status AT never sends", {"status": "Timeout"}),
    ("phone not Kenyan", {"phoneNumber": "+255711000002"}),
    ("premium-rate number", {"phoneNumber": "+254900123456"}),
    ("session id with a slash", {"sessionId": "ATUid/../x"}),
    ("service code not ours", {"serviceCode": "*999#"}),
    ("hops not a number", {"hopsCount": "three"}),
    ("duration in unicode digits", {"durationInMillis": "١٥٢٣٠"}),
    ("NUL in the last screen", {"lastAppResponse": "END bye\x00"}),
    ("error message too long", {"errorMessage": "x" * 201}),
])
def test_malformed_notice_is_refused_and_kept_nowhere(client, redis_client, prefix,
                                                      label: str, change: dict) -> None:
    form = {k: v for k, v in {**NOTICE, **change}.items() if v is not None}
    before_keys = keys_under(redis_client, prefix)
    before = sample("gateway_ussd_session_ends_total", status="Failed")

    response = client.post("/ussd/events", data=form)

    assert response.status_code == 400, label
    assert keys_under(redis_client, prefix) == before_keys
    assert sample("gateway_ussd_session_ends_total", status="Failed") == before


def test_notice_when_redis_is_down_is_still_counted_and_logged(app, client, caplog) -> None:
    broken = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    app.extensions["operations"].session_ends.redis = broken
    before = sample("gateway_ussd_session_ends_total", status="Failed")

    with caplog.at_level(logging.INFO):
        response = notify(client, sessionId="ATUid_down")

    assert response.status_code == 200
    assert sample("gateway_ussd_session_ends_total", status="Failed") == before + 1
    line = only_line(caplog)
    assert line.levelno == logging.WARNING
    assert line.fields["store_error"] == "ConnectionError"
    assert (line.fields["session_id"], line.fields["outcome"]) == ("ATUid_down", "failed")
