"""The consent lifecycle as health workers and patients live it: verify, resend,
limits, and SMS replies, against real Redis and the sandbox over HTTP."""

from __future__ import annotations

import re
import threading
import time

import pytest
import requests

from tests.conftest import WORKER_EN, WORKER_SW, Phone, inject_fault, outbox, sandbox_calls

PATIENT = "+254722000444"          # CR1234567890123-4, one phone
PATIENT_DIGITS = "12345678901234"
TWO_PHONES_DIGITS = "97955152869925"
OTP_PROMPT = "CON Enter the code patient CR12***23-4 received (5 digits):\n0 Back 00 Home"


def send(phone: Phone, digits: str = PATIENT_DIGITS, *choice: str) -> str:
    """Option 1 in a new session; the consent reference comes back."""
    phone.dial()
    phone.answer("1")
    reply = phone.answer(digits)
    for answer in choice:
        reply = phone.answer(answer)
    found = re.search(r"(?:Consent ref|Kumbukumbu): (\S+)", reply)
    assert found, reply
    return found.group(1)


def otp_sent_to(sandbox, number: str) -> str:
    """The newest code SHA texted to ``number``."""
    codes = [re.search(r"\b(\d{5})\b", m["text"]).group(1)
             for m in outbox(sandbox, number) if m["from"] == "SHA"]
    assert codes
    return codes[-1]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 100000:05d}"


def sms_texts(app, sandbox, number: str) -> list[str]:
    """What the gateway itself has texted to ``number``, once its queue is sent."""
    app.extensions["gateway"].notifier.drain()
    return [m["text"] for m in outbox(sandbox, number) if m["from"] != "SHA"]


def patient_replies(client, sender: str, text: str, message_id: str = "ATXid_in1") -> int:
    response = client.post("/sms/inbound", data={
        "from": sender, "to": "22384", "text": text, "id": message_id,
        "date": "2026-12-03 10:00:00", "networkCode": "63902"})
    return response.status_code


def records(app):
    return app.extensions["gateway"].records


def test_option_2_in_a_new_session_verifies_and_starts_the_visit(app, phone: Phone,
                                                                  sha_sandbox) -> None:
    reference = send(phone)
    code = otp_sent_to(sha_sandbox, PATIENT)

    phone.dial()
    assert phone.answer("2") == OTP_PROMPT
    reply = phone.answer(code)

    visit = records(app).get(reference).visit_reference
    assert reply == (f"CON Consent confirmed. Visit started.\nVisit ref: {visit}\n"
                     "An SMS with this ref is on its way to you.\n1. Text it to the patient "
                     "too\n2. Done")
    assert visit.startswith("V-")
    assert phone.answer("2") == "END Thank you."
    assert sms_texts(app, sha_sandbox, WORKER_EN) == [
        f"SHA consent confirmed for patient CR12***23-4. Visit ref: {visit}."]
    assert sms_texts(app, sha_sandbox, PATIENT) == []
    record = records(app).get(reference)
    assert (record.status, record.verified_channel) == ("verified", "ussd")
    assert record.consent_token


def test_the_worker_can_have_the_visit_ref_texted_to_the_patients_number(
        app, phone: Phone, sha_sandbox) -> None:
    reference = send(phone)
    phone.dial()
    phone.answer("2")
    phone.answer(otp_sent_to(sha_sandbox, PATIENT))

    assert phone.answer("1") == ("CON The code went to +254722***444. Type that number to "
                                 "text the patient:\n0 Back 00 Home")
    assert phone.answer("0733000444") == ("CON That is not the number the code went to.\n"
                                          "The code went to +254722***444. Type that number "
                                          "to text the patient:\n0 Back 00 Home")
    assert phone.answer("0722000444") == "END The visit ref is on its way to the patient."

    visit = records(app).get(reference).visit_reference
    assert sms_texts(app, sha_sandbox, PATIENT) == [
        "Thank you. Your consent is confirmed and your visit has started. "
        f"Visit ref: {visit}."]
    assert sms_texts(app, sha_sandbox, "+254733000444") == []


def test_three_wrong_patient_numbers_text_no_one(app, phone: Phone, sha_sandbox) -> None:
    send(phone)
    phone.dial()
    phone.answer("2")
    phone.answer(otp_sent_to(sha_sandbox, PATIENT))
    phone.answer("1")
    phone.answer("0733000444")
    phone.answer("0744000444")

    assert phone.answer("0755000444") == ("END Not the number the code went to. The patient "
                                          "was not texted.")
    assert sms_texts(app, sha_sandbox, PATIENT) == []


def test_patient_sms_reply_verifies_and_texts_both_people(app, client, phone: Phone,
                                                          sha_sandbox) -> None:
    reference = send(phone)
    code = otp_sent_to(sha_sandbox, PATIENT)

    assert patient_replies(client, PATIENT, f"OTP {code}") == 200

    record = records(app).get(reference)
    assert (record.status, record.verified_channel) == ("verified", "sms")
    assert sms_texts(app, sha_sandbox, PATIENT) == [
        "Thank you. Your consent is confirmed and your visit has started. "
        f"Visit ref: {record.visit_reference}."]
    assert sms_texts(app, sha_sandbox, WORKER_EN) == [
        f"SHA consent confirmed for patient CR12***23-4. Visit ref: {record.visit_reference}."]


def test_wrong_code_says_attempts_left_and_reprompts(app, phone: Phone, sha_sandbox) -> None:
    send(phone)
    code = otp_sent_to(sha_sandbox, PATIENT)
    phone.dial()
    phone.answer("2")

    assert phone.answer(wrong(code)) == "CON Wrong code. 4 tries left.\n" + OTP_PROMPT[4:]
    assert phone.answer("12") == "CON The code is 5 digits.\n" + OTP_PROMPT[4:]
    assert phone.answer(code).startswith("CON Consent confirmed. Visit started.")


def test_five_wrong_codes_lock_the_request(app, phone: Phone, sha_sandbox) -> None:
    reference = send(phone)
    code = otp_sent_to(sha_sandbox, PATIENT)
    phone.dial()
    phone.answer("2")
    for left in (4, 3, 2, 1):
        assert phone.answer(wrong(code)).startswith(f"CON Wrong code. {left} tries left.")

    assert phone.answer(wrong(code)) == ("END Too many wrong codes: this request is locked. "
                                         "Dial again and choose 1 to send a new OTP.")
    assert records(app).get(reference).status == "locked"
    phone.dial()
    assert phone.answer("2") == ("END No patient is waiting for a code. Dial again and "
                                 "choose 1 to send an OTP.")


def test_an_expired_request_offers_a_resend_that_works(app, phone: Phone,
                                                       sha_sandbox) -> None:
    reference = send(phone)
    app.extensions["gateway"].clock.advance(601)
    phone.dial()

    assert phone.answer("2") == "CON The code has expired.\n1. Send a new code\n0 Back 00 Home"
    reply = phone.answer("1")

    assert reply == (f"END New OTP sent to +254722***444.\nConsent ref: {reference}\n"
                     "Ask the patient for the new code, then dial again and choose 2.")
    new = otp_sent_to(sha_sandbox, PATIENT)
    phone.dial()
    phone.answer("2")
    assert phone.answer(new).startswith("CON Consent confirmed.")
    assert records(app).get(reference).send_count == 2


def test_a_code_that_expires_at_the_prompt_is_told_apart(app, phone: Phone,
                                                        sha_sandbox) -> None:
    send(phone)
    code = otp_sent_to(sha_sandbox, PATIENT)
    phone.dial()
    phone.answer("2")
    app.extensions["gateway"].clock.advance(601)

    assert phone.answer(code) == "CON The code has expired.\n1. Send a new code\n0 Back 00 Home"
    assert "start_visit" not in sandbox_calls(sha_sandbox)


def test_sha_saying_expired_is_told_apart_from_wrong(app, phone: Phone, sha_sandbox) -> None:
    send(phone)
    code = otp_sent_to(sha_sandbox, PATIENT)
    requests.post(f"{sha_sandbox.url}/sandbox/expire", json={"patient_id": "CR1234567890123-4"},
                  timeout=5)
    phone.dial()
    phone.answer("2")

    assert phone.answer(code).startswith("CON The code has expired.")


def test_already_confirmed_says_so_and_calls_nothing(app, client, sha_sandbox) -> None:
    first, second = Phone(client, WORKER_EN), Phone(client, WORKER_EN)
    reference = send(first)
    code = otp_sent_to(sha_sandbox, PATIENT)
    second.dial()
    second.answer("2")
    first.dial()
    first.answer("2")
    first.answer(code)

    reply = second.answer(code)

    visit = records(app).get(reference).visit_reference
    assert reply == f"END This consent is already confirmed.\nVisit ref: {visit}"
    assert sandbox_calls(sha_sandbox)["start_visit"] == 1


@pytest.mark.parametrize("call", ["start_visit", "token"])
def test_sha_down_while_verifying_counts_no_wrong_code(app, phone: Phone, sha_sandbox,
                                                       call: str) -> None:
    reference = send(phone)
    code = otp_sent_to(sha_sandbox, PATIENT)
    app.extensions["gateway"].sha._token = None
    inject_fault(sha_sandbox, call, status=503)
    phone.dial()
    phone.answer("2")

    assert phone.answer(code) == ("END SHA is not answering now. The code was not checked. "
                                  "Try again in a few minutes: dial and choose 2.")
    assert records(app).get(reference).wrong_codes == 0


def test_pending_requests_are_offered_newest_first(app, phone: Phone, sha_sandbox) -> None:
    first = send(phone)
    second = send(phone, TWO_PHONES_DIGITS, "2")
    phone.dial()

    assert phone.answer("2") == (f"CON Which patient?\n1. CR97***92-5 {second[:8]}\n"
                                 f"2. CR12***23-4 {first[:8]}\n0 Back 00 Home")
    assert phone.answer("2") == OTP_PROMPT


def test_resend_within_the_cooldown_says_when(app, phone: Phone, sha_sandbox) -> None:
    send(phone)
    app.extensions["gateway"].clock.advance(15)
    phone.dial()

    assert phone.answer("3") == ("END A code was sent to this patient moments ago. Wait 45 s, "
                                 "then try again. No OTP was sent.")
    assert len(outbox(sha_sandbox, PATIENT)) == 1


def test_fourth_send_in_ten_minutes_is_refused(app, phone: Phone, sha_sandbox) -> None:
    clock = app.extensions["gateway"].clock
    send(phone)
    for _ in range(2):
        clock.advance(61)
        phone.dial()
        assert phone.answer("3").startswith("END New OTP sent to +254722***444.")
    clock.advance(61)
    phone.dial()

    assert phone.answer("3") == ("END This patient has had the most codes allowed for now. "
                                 "Try again in 7 min. No OTP was sent.")
    assert len(outbox(sha_sandbox, PATIENT)) == 3
    clock.advance(420)
    phone.dial()
    assert phone.answer("3").startswith("END New OTP sent")


def test_resend_keeps_the_wrong_code_count(app, phone: Phone, sha_sandbox) -> None:
    reference = send(phone)
    phone.dial()
    phone.answer("2")
    phone.answer(wrong(otp_sent_to(sha_sandbox, PATIENT)))
    app.extensions["gateway"].clock.advance(61)
    phone.dial()
    phone.answer("3")
    phone.dial()
    phone.answer("2")

    assert phone.answer(wrong(otp_sent_to(sha_sandbox, PATIENT))).startswith(
        "CON Wrong code. 3 tries left.")
    assert records(app).get(reference).wrong_codes == 2


def test_concurrent_resends_send_at_most_the_allowed_number(app, client, phone: Phone,
                                                           sha_sandbox) -> None:
    send(phone)
    app.extensions["gateway"].clock.advance(61)
    replies: list[str] = []
    barrier = threading.Barrier(6)

    def resend() -> None:
        worker = Phone(client, WORKER_EN)
        barrier.wait()
        replies.append(worker.post("3"))

    threads = [threading.Thread(target=resend) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert sum(reply.startswith("END New OTP sent") for reply in replies) == 1
    assert len(outbox(sha_sandbox, PATIENT)) == 2


@pytest.fixture
def capped(settings):
    from app import create_app

    return create_app(settings.with_overrides(worker_sends_per_day=2, facility_sends_per_day=3))


def test_daily_caps_per_worker_and_per_facility(capped, sha_sandbox) -> None:
    john, amina = Phone(capped.test_client(), WORKER_EN), Phone(capped.test_client(), WORKER_SW)
    send(john)
    send(john, TWO_PHONES_DIGITS, "1")

    assert john.post("1*44400033322219") == ("END You have reached today's limit of OTP sends. "
                                             "Try again tomorrow.")
    assert amina.post("1*44400033322219").startswith("END OTP imetumwa")
    assert Phone(capped.test_client(), WORKER_SW).post("1*88800011122233*1") == (
        "END Kituo chako kimefikia kikomo cha leo cha kutuma OTP. Jaribu tena kesho.")
    assert sandbox_calls(sha_sandbox)["send_otp"] == 3


def test_limits_fail_closed_when_their_store_is_down(app, phone: Phone, sha_sandbox) -> None:
    from app import connect_redis
    from consent.limits import SendLimiter

    dead = app.config["GATEWAY_SETTINGS"].with_overrides(redis_url="redis://127.0.0.1:1/0")
    workflow = app.extensions["gateway"].workflow
    live = workflow.limiter
    workflow.limiter = SendLimiter(connect_redis(dead), live.keys, live.clock, live.limits)

    assert phone.post("1*12345678901234") == ("END The service is busy. Please dial again in "
                                              "a minute.")
    assert "send_otp" not in sandbox_calls(sha_sandbox)


def test_the_same_inbound_sms_delivered_twice_is_handled_once(app, client, phone: Phone,
                                                              sha_sandbox) -> None:
    send(phone)
    code = otp_sent_to(sha_sandbox, PATIENT)

    assert patient_replies(client, PATIENT, code, "ATXid_dup") == 200
    assert patient_replies(client, PATIENT, code, "ATXid_dup") == 200

    assert sandbox_calls(sha_sandbox)["start_visit"] == 1
    assert len(sms_texts(app, sha_sandbox, PATIENT)) == 1


@pytest.mark.parametrize(("text", "reply"), [
    ("hello", "To confirm your visit, reply with only the 5-digit code SHA sent you."),
    ("", "To confirm your visit, reply with only the 5-digit code SHA sent you."),
    ("12345 67890 11111", "To confirm your visit, reply with only the 5-digit code SHA "
                          "sent you."),
])
def test_text_that_is_not_a_code_gets_help(app, client, sha_sandbox, text: str, reply: str) -> None:
    assert patient_replies(client, PATIENT, text) == 200

    assert sms_texts(app, sha_sandbox, PATIENT) == [reply]
    assert "start_visit" not in sandbox_calls(sha_sandbox)


def test_a_sender_with_no_pending_request_is_told_so(app, client, sha_sandbox) -> None:
    assert patient_replies(client, "+254799000111", "12345") == 200

    assert sms_texts(app, sha_sandbox, "+254799000111") == [
        "No consent request is waiting for this phone. Ask your health worker to send a "
        "new code."]


def test_an_ambiguous_sender_is_asked_to_use_the_health_worker(app, client,
                                                               sha_sandbox) -> None:
    send(Phone(client, WORKER_EN))
    app.extensions["gateway"].clock.advance(61)
    send(Phone(client, WORKER_SW))

    assert patient_replies(client, PATIENT, otp_sent_to(sha_sandbox, PATIENT)) == 200

    assert sms_texts(app, sha_sandbox, PATIENT) == [
        "More than one request is waiting for this phone. Please read the code to your "
        "health worker."]
    assert "start_visit" not in sandbox_calls(sha_sandbox)


def test_wrong_code_by_sms_says_attempts_left(app, client, phone: Phone, sha_sandbox) -> None:
    send(phone)

    patient_replies(client, PATIENT, wrong(otp_sent_to(sha_sandbox, PATIENT)))

    assert sms_texts(app, sha_sandbox, PATIENT) == [
        "That code is wrong. 4 tries left. Reply with the 5-digit code."]


def test_sms_replies_tell_each_outcome_apart(app, client, phone: Phone, sha_sandbox) -> None:
    reference = send(phone)
    code = otp_sent_to(sha_sandbox, PATIENT)
    clock = app.extensions["gateway"].clock
    inject_fault(sha_sandbox, "start_visit", status=503)
    patient_replies(client, PATIENT, code, "ATXid_a")
    clock.advance(601)
    patient_replies(client, PATIENT, code, "ATXid_b")
    clock.advance(61)
    phone.dial()
    phone.answer("3")
    patient_replies(client, PATIENT, otp_sent_to(sha_sandbox, PATIENT), "ATXid_c")
    patient_replies(client, PATIENT, otp_sent_to(sha_sandbox, PATIENT), "ATXid_d")

    visit = records(app).get(reference).visit_reference
    assert sms_texts(app, sha_sandbox, PATIENT) == [
        "We could not reach SHA. Please reply with the code again in a few minutes.",
        "That code has expired. Ask your health worker to send a new one.",
        "Thank you. Your consent is confirmed and your visit has started. "
        f"Visit ref: {visit}.",
        f"Your consent is already confirmed. Visit ref: {visit}.",
    ]


def test_five_wrong_codes_by_sms_lock_the_request(app, client, phone: Phone,
                                                  sha_sandbox) -> None:
    reference = send(phone)
    bad = wrong(otp_sent_to(sha_sandbox, PATIENT))
    for n in range(5):
        patient_replies(client, PATIENT, bad, f"ATXid_{n}")

    assert sms_texts(app, sha_sandbox, PATIENT)[-1] == ("Too many wrong codes. Ask your "
                                                        "health worker to start again.")
    assert records(app).get(reference).status == "locked"


def test_sha_refusing_the_visit_fails_the_request(app, phone: Phone, sha_sandbox) -> None:
    reference = send(phone)
    inject_fault(sha_sandbox, "start_visit", status=403,
                 body='{"error": "forbidden", "message": "Facility not contracted"}')
    phone.dial()
    phone.answer("2")

    assert phone.answer(otp_sent_to(sha_sandbox, PATIENT)) == (
        "END SHA refused to start the visit: Facility not contracted")
    assert records(app).get(reference).status == "failed"


def test_a_long_unicode_sms_gets_help_not_an_error(app, client, sha_sandbox) -> None:
    assert patient_replies(client, PATIENT, "Habari 🙏 " * 160) == 200

    assert sms_texts(app, sha_sandbox, PATIENT) == [
        "To confirm your visit, reply with only the 5-digit code SHA sent you."]


def test_a_resend_in_flight_holds_off_a_verify_of_the_same_request(app, client, phone: Phone,
                                                                  sha_sandbox) -> None:
    reference = send(phone)
    first = otp_sent_to(sha_sandbox, PATIENT)
    app.extensions["gateway"].clock.advance(61)
    inject_fault(sha_sandbox, "send_otp", status=0, delay=0.8)
    resender = Phone(client, WORKER_EN)
    resend = threading.Thread(target=resender.post, args=("3",))
    resend.start()
    time.sleep(0.3)

    patient_replies(client, PATIENT, first, "ATXid_race")
    resend.join(timeout=10)

    assert sms_texts(app, sha_sandbox, PATIENT) == [
        "We could not reach SHA. Please reply with the code again in a few minutes."]
    assert "start_visit" not in sandbox_calls(sha_sandbox)
    record = records(app).get(reference)
    assert (record.status, record.send_count) == ("otp_sent", 2)


def test_sha_refusing_our_credentials_is_not_taken_for_an_expired_code(app, phone: Phone,
                                                                      sha_sandbox) -> None:
    reference = send(phone)
    inject_fault(sha_sandbox, "start_visit", status=401, times=2,
                 body='{"error": "unauthorized", "message": "Invalid or expired token"}')
    phone.dial()
    phone.answer("2")

    assert phone.answer(otp_sent_to(sha_sandbox, PATIENT)).startswith(
        "END SHA is not answering now. The code was not checked.")
    assert records(app).get(reference).status == "otp_sent"


def test_a_new_request_supersedes_the_earlier_one_for_the_patient(app, client, phone: Phone,
                                                                  sha_sandbox) -> None:
    earlier = send(phone)
    app.extensions["gateway"].clock.advance(61)
    newer = send(phone)

    assert patient_replies(client, PATIENT, otp_sent_to(sha_sandbox, PATIENT)) == 200

    assert records(app).get(earlier).status == "superseded"
    assert records(app).get(newer).status == "verified"
    assert [e["event"] for e in app.extensions["gateway"].trail.history(earlier)] == [
        "sent", "superseded"]


def test_a_code_of_the_wrong_length_spends_no_attempt(app, phone: Phone, sha_sandbox) -> None:
    reference = send(phone)
    phone.dial()
    phone.answer("2")

    assert phone.answer("1234") == "CON The code is 5 digits.\n" + OTP_PROMPT[4:]
    assert "start_visit" not in sandbox_calls(sha_sandbox)
    assert records(app).get(reference).wrong_codes == 0


def test_a_send_whose_answer_was_lost_can_still_be_verified(settings, sha_sandbox) -> None:
    from app import create_app

    quick = create_app(settings.with_overrides(hie_connect_timeout=0.5, hie_read_timeout=0.5))
    phone = Phone(quick.test_client(), WORKER_EN)
    inject_fault(sha_sandbox, "send_otp", status=0, delay=1.0)

    assert phone.post("1*12345678901234").startswith("END SHA did not answer in time.")
    time.sleep(0.7)
    phone.dial()
    assert phone.answer("2") == OTP_PROMPT
    assert phone.answer(otp_sent_to(sha_sandbox, PATIENT)).startswith("CON Consent confirmed.")
    quick.extensions["gateway"].notifier.drain()


def test_help_replies_to_one_number_are_capped(app, client, sha_sandbox) -> None:
    for n in range(5):
        assert patient_replies(client, PATIENT, "hello?", f"ATXid_h{n}") == 200

    assert len(sms_texts(app, sha_sandbox, PATIENT)) == 3
