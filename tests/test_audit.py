"""The audit trail: every consent event, its CLI, and no OTP anywhere we keep data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.conftest import Phone
from tests.test_consent_lifecycle import PATIENT, otp_sent_to, send, wrong


def test_audit_show_tells_a_requests_whole_history(app, phone: Phone, sha_sandbox) -> None:
    reference = send(phone)
    code = otp_sent_to(sha_sandbox, PATIENT)
    phone.dial()
    phone.answer("2")
    phone.answer(wrong(code))
    phone.answer(code)

    result = app.test_cli_runner().invoke(args=["audit", "show", reference])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{reference}  status=verified  patient=CR12***23-4  "
                               "facility=FID-47-108521-3  sends=1  wrong_codes=1  visit=V-")
    assert [line.split()[1] for line in lines[1:]] == ["sent", "wrong_code", "verified"]
    assert all("worker=+254711000002" in line for line in lines[1:])


def test_audit_show_names_an_unknown_reference(app) -> None:
    result = app.test_cli_runner().invoke(args=["audit", "show", "nope"])

    assert result.exit_code != 0
    assert "no consent request nope" in result.output


def test_refusals_are_in_the_trail(app, phone: Phone) -> None:
    send(phone)
    phone.dial()
    phone.post("1*12345678901234")

    events = list(app.extensions["gateway"].trail.export())

    assert [(e["event"], e["outcome"]) for e in events] == [("sent", "ok"),
                                                            ("refused", "cooldown")]
    assert events[1]["patient"] == "CR12***23-4"


def test_audit_export_writes_json_lines_for_a_date_range(app, phone: Phone) -> None:
    send(phone)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    runner = app.test_cli_runner()

    result = runner.invoke(args=["audit", "export", "--since", today, "--until", today])
    earlier = runner.invoke(args=["audit", "export", "--since", "2020-01-01",
                                  "--until", "2020-01-02"])

    events = [json.loads(line) for line in result.output.splitlines()]
    assert [e["event"] for e in events] == ["sent"]
    assert events[0]["facility"] == "FID-47-108521-3"
    assert earlier.output == ""


def everything_stored(redis_client, prefix: str) -> str:
    """Every value under this test's prefix, as text."""
    stored = []
    for key in redis_client.scan_iter(match=prefix + "*"):
        kind = redis_client.type(key)
        if kind == "hash":
            stored.append(json.dumps(redis_client.hgetall(key)))
        elif kind == "string":
            stored.append(redis_client.get(key))
        elif kind == "stream":
            stored.append(json.dumps(redis_client.xrange(key)))
        elif kind == "zset":
            stored.append(json.dumps(redis_client.zrange(key, 0, -1)))
        elif kind == "set":
            stored.append(json.dumps(sorted(redis_client.smembers(key))))
        stored.append(key)

    return "\n".join(stored)


def test_no_otp_is_kept_in_any_record(app, client, phone: Phone, sha_sandbox,
                                      redis_client, prefix) -> None:
    send(phone)
    first = otp_sent_to(sha_sandbox, PATIENT)
    phone.dial()
    phone.answer("2")
    phone.answer(wrong(first))
    mid_session = everything_stored(redis_client, prefix)
    app.extensions["gateway"].clock.advance(61)
    phone.dial()
    phone.answer("3")
    second = otp_sent_to(sha_sandbox, PATIENT)
    phone.dial()
    phone.answer("2")
    phone.answer(second)
    client.post("/sms/inbound", data={"from": PATIENT, "to": "22384", "text": second,
                                      "id": "ATXid_x"})

    everything = mid_session + everything_stored(redis_client, prefix)

    assert "verified" in everything
    for code in (first, second, wrong(first)):
        assert code not in everything
