"""Delivery reports: statuses recorded by message id, final states kept, and a
health worker told on their next dial when an SMS to their patient failed."""

from __future__ import annotations

import pytest

from tests.conftest import WORKER_EN, Phone, outbox
from tests.test_consent_lifecycle import PATIENT, otp_sent_to, patient_replies, send, wrong


def our_sms_to(app, sandbox, number: str) -> dict:
    app.extensions["gateway"].notifier.drain()
    sent = [m for m in outbox(sandbox, number) if m["from"] != "SHA"]
    assert sent
    return sent[-1]


def report(client, message_id: str, status: str, **extra: str) -> int:
    return client.post("/sms/delivery", data={
        "id": message_id, "status": status, "phoneNumber": PATIENT, "networkCode": "63902",
        "retryCount": "0", **extra}).status_code


def stored(app, redis_client, message_id: str) -> dict:
    return redis_client.hgetall(app.extensions["gateway"].keys.sms(message_id).name)


def test_a_final_status_is_not_overwritten_by_a_late_one(app, client, redis_client,
                                                         sha_sandbox) -> None:
    patient_replies(client, PATIENT, "hello")
    message_id = our_sms_to(app, sha_sandbox, PATIENT)["id"]

    assert report(client, message_id, "Submitted") == 200
    assert report(client, message_id, "Success") == 200
    assert report(client, message_id, "Sent") == 200
    assert report(client, message_id, "Success") == 200

    record = stored(app, redis_client, message_id)
    assert (record["status"], record["state"], record["final"]) == ("Success", "delivered", "1")
    assert record["purpose"] == "sms.patient.help"


@pytest.mark.parametrize("status", ["Expired", "Rejected", "Failed"])
def test_failures_including_expired_are_final(app, client, redis_client, sha_sandbox,
                                              status: str) -> None:
    patient_replies(client, PATIENT, "hello")
    message_id = our_sms_to(app, sha_sandbox, PATIENT)["id"]

    assert report(client, message_id, status, failureReason="DeliveryFailure") == 200
    report(client, message_id, "Buffered")

    record = stored(app, redis_client, message_id)
    assert (record["status"], record["state"], record["failure"]) == (status, "failed",
                                                                      "DeliveryFailure")


def test_an_unknown_message_is_acknowledged_and_logged(client, caplog) -> None:
    assert report(client, "ATXid_neverseen", "Success") == 200

    assert "delivery report for an unknown message" in caplog.text


@pytest.mark.parametrize("change", [
    {"status": "Delivered"}, {"id": ""}, {"phoneNumber": "0722000444"},
    {"failureReason": "Bad reason!"}, {"retryCount": "x"},
])
def test_a_malformed_report_is_refused(client, change: dict) -> None:
    data = {"id": "ATXid_1", "status": "Success", "phoneNumber": PATIENT, **change}

    assert client.post("/sms/delivery", data=data).status_code == 400


def test_a_failed_patient_sms_shows_on_the_workers_next_dial_once(app, client, phone: Phone,
                                                                  sha_sandbox) -> None:
    reference = send(phone)
    patient_replies(client, PATIENT, wrong(otp_sent_to(sha_sandbox, PATIENT)))
    message_id = our_sms_to(app, sha_sandbox, PATIENT)["id"]

    report(client, message_id, "Failed", failureReason="UserInBlackList")

    assert phone.dial().startswith("CON SMS to patient CR12***23-4 failed.\n"
                                   "John Otieno, choose:")
    assert phone.dial().startswith("CON John Otieno, choose:")
    history = app.extensions["gateway"].trail.history(reference)
    assert [(e["event"], e["outcome"]) for e in history][-1] == ("sms_status", "failed")
    assert "sms.patient.wrong UserInBlackList" in history[-1]["detail"]


def test_a_delivered_worker_sms_joins_the_consent_history(app, client, phone: Phone,
                                                         sha_sandbox) -> None:
    reference = send(phone)
    phone.dial()
    phone.answer("2")
    phone.answer(otp_sent_to(sha_sandbox, PATIENT))
    message_id = our_sms_to(app, sha_sandbox, WORKER_EN)["id"]

    report(client, message_id, "Success")

    history = app.extensions["gateway"].trail.history(reference)
    assert [e["event"] for e in history] == ["sent", "verified", "sms_status"]
    assert history[-1]["outcome"] == "delivered"
