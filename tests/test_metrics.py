"""``GET /metrics``: hops, reply latency, SHA calls, OTPs and SMS, never an identifier."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from observability import metrics
from tests.conftest import inject_fault, outbox
from tests.observe import sample

SEND_OTP = ["1", "97955152869925", "1"]


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)

    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def hops(step: str, outcome: str) -> float:
    return sample("gateway_ussd_hops_total", step=step, outcome=outcome)


def test_a_send_otp_session_shows_every_hop_by_step_and_outcome(phone, client) -> None:
    expected = [("main", "main"), ("main", "cr_id"), ("cr_id", "contact"),
                ("contact", "otp.sent")]
    before = {pair: hops(*pair) for pair in expected}
    replies_before = sample("gateway_ussd_reply_seconds_count")

    phone.dial()
    for answer in SEND_OTP:
        phone.answer(answer)

    scraped = scrape(client)
    for step, outcome in expected:
        key = ("gateway_ussd_hops_total", (("outcome", outcome), ("step", step)))
        assert scraped[key] == before[(step, outcome)] + 1, (step, outcome)
    assert scraped[("gateway_ussd_reply_seconds_count", ())] == replies_before + 4


def test_sha_calls_are_timed_by_call(phone) -> None:
    before = {call: sample("gateway_upstream_seconds_count", call=call)
              for call in ("contacts", "send_otp")}

    phone.dial()
    for answer in SEND_OTP:
        phone.answer(answer)

    for call in ("contacts", "send_otp"):
        assert sample("gateway_upstream_seconds_count", call=call) == before[call] + 1


def test_sha_failures_are_counted_by_call_and_error(phone, sha_sandbox) -> None:
    before = sample("gateway_upstream_errors_total", call="contacts", error="Unavailable")
    inject_fault(sha_sandbox, "contacts", status=503)

    phone.dial()
    phone.answer("1")
    reply = phone.answer("97955152869925")

    assert reply.startswith("END ")
    assert sample("gateway_upstream_errors_total", call="contacts",
                  error="Unavailable") == before + 1


def test_otp_outcomes_split_into_result_and_reason() -> None:
    before = (sample("gateway_otp_sends_total", result="sent", reason="none"),
              sample("gateway_otp_sends_total", result="refused", reason="cooldown"))

    metrics.count_otp("sent")
    metrics.count_otp("refused:cooldown")

    assert sample("gateway_otp_sends_total", result="sent", reason="none") == before[0] + 1
    assert sample("gateway_otp_sends_total", result="refused",
                  reason="cooldown") == before[1] + 1


def test_sms_statuses_are_counted_in_africas_talking_words() -> None:
    before = sample("gateway_sms_total", status="Success")

    metrics.count_sms("Success")

    assert sample("gateway_sms_total", status="Success") == before + 1


@pytest.mark.parametrize("identifier", ["+254711000002", "254711000002", "0711000002",
                                        "CR9795515286992-5", "97955152869925",
                                        "ATUid_0a1b2c3d4e5f60718", "a" * 41, "", "sent otp"])
def test_identifiers_never_become_labels(identifier: str) -> None:
    assert metrics.safe_label(identifier) == "other"


@pytest.mark.parametrize("name", ["sent", "refused", "Success", "otp.sent", "cr_id",
                                  "send_otp", "InsufficientCredit", "Unavailable",
                                  "ussd.hop", "http_503"])
def test_names_stay_labels(name: str) -> None:
    assert metrics.safe_label(name) == name


def test_metrics_carry_no_phone_or_cr_id_after_traffic(phone, client) -> None:
    phone.dial()
    for answer in SEND_OTP:
        phone.answer(answer)
    metrics.count_sms("+254714123898")
    client.post("/ussd/events", data={"sessionId": "ATUid_m1", "serviceCode": "*384*12#",
                                      "phoneNumber": "+254711000002", "status": "Failed"})

    text = client.get("/metrics").get_data(as_text=True)

    for secret in ("254711000002", "254714123898", "9795515286992", "ATUid_"):
        assert secret not in text


def test_after_a_demo_session_metrics_show_its_hops_otp_and_sms(app, phone, client,
                                                                 sha_sandbox) -> None:
    """Send an OTP, then enter it: the scrape shows the hops, the send and our SMS."""
    before = scrape(client)
    phone.dial()
    for answer in SEND_OTP:
        phone.answer(answer)
    code = outbox(sha_sandbox, "+254714123898")[-1]["text"].split("code is ")[1][:5]
    phone.dial()
    phone.answer("2")
    assert phone.answer(code).startswith("CON Consent confirmed.")
    app.extensions["gateway"].notifier.drain()

    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("gateway_ussd_hops_total", step="contact", outcome="otp.sent") == 1
    assert grew("gateway_ussd_reply_seconds_count") == 7
    assert grew("gateway_otp_sends_total", result="sent", reason="none") == 1
    assert grew("gateway_sms_total", status="Sent") >= 1
