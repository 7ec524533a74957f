"""Golden transcripts: the answers a health worker types, the screens they see.

Each case is a whole session against real Redis and the SHA sandbox over HTTP.
``<ref>`` stands for a consent reference, which is different every run.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import WORKER_EN, WORKER_SW, Phone, outbox, sandbox_calls

MAIN_EN = ("CON John Otieno, choose:\n1. Send consent OTP\n2. Enter patient's OTP\n"
           "3. Resend OTP\n4. Language")
MAIN_SW = ("CON Amina Wanjiru, chagua:\n1. Tuma OTP ya idhini\n2. Weka OTP ya mgonjwa\n"
           "3. Tuma OTP tena\n4. Lugha")
CR_PROMPT = "CON Enter patient's CR ID.\nDigits only, e.g. 97955152869925\n0 Back 00 Home"
CR_INVALID = ("CON Not a CR ID: it has 12 to 15 digits.\nEnter patient's CR ID.\n"
              "Digits only, e.g. 97955152869925\n0 Back 00 Home")
TWO_PHONES = ("CON Send the OTP to which phone?\n1. +254714***898 (main)\n2. +254110***321\n"
              "0 Back 00 Home")


def sent_to(masked: str) -> str:
    return (f"END OTP sent to {masked}.\nConsent ref: <ref>\n"
            "Ask the patient for the code, then dial again and choose 2.")


FLOWS = [
    ("default phone of two", ["1", "97955152869925", "1"],
     [CR_PROMPT, TWO_PHONES, sent_to("+254714***898")]),
    ("second phone of two", ["1", "97955152869925", "2"],
     [CR_PROMPT, TWO_PHONES, sent_to("+254110***321")]),
    ("one phone is used without asking", ["1", "12345678901234"],
     [CR_PROMPT, sent_to("+254722***444")]),
    ("full CR ID form works too", ["1", "cr1234567890123-4"],
     [CR_PROMPT, sent_to("+254722***444")]),
    ("reference minted when SHA returns none", ["1", "44400033322219"],
     [CR_PROMPT, sent_to("+254755***777").replace("<ref>", "CG-<ref>")]),
    ("unknown patient", ["1", "99999999999999"],
     [CR_PROMPT, "END No patient with CR ID CR9999999999999-9. Check the ID and dial again."]),
    ("no active phone", ["1", "55500011122230"],
     [CR_PROMPT, "END The patient has no active phone with SHA. No OTP was sent. Ask them "
      "to update it at an SHA office, or use biometrics."]),
    ("SHA refuses with its reason", ["1", "77700088899901"],
     [CR_PROMPT, "END SHA refused the request: Beneficiary not whitelisted for OTP consent\n"
      "No OTP was sent."]),
    ("wrong CR ID re-prompts, then a right one", ["1", "1234", "12345678901234"],
     [CR_PROMPT, CR_INVALID, sent_to("+254722***444")]),
    ("three wrong CR IDs end with advice", ["1", "1234", "CRX", "5"],
     [CR_PROMPT, CR_INVALID, CR_INVALID,
      "END CR ID not accepted 3 times. Check the ID on the patient's SHA card or eCHIS "
      "record, then dial again."]),
    ("wrong key on the main menu", ["7", "1"],
     ["CON Choose 1, 2, 3 or 4.\n" + MAIN_EN[4:], CR_PROMPT]),
    ("0 goes back a screen", ["1", "97955152869925", "0", "0"],
     [CR_PROMPT, TWO_PHONES, CR_PROMPT, MAIN_EN]),
    ("00 goes home from anywhere", ["1", "97955152869925", "00"],
     [CR_PROMPT, TWO_PHONES, MAIN_EN]),
    ("a wrong choice of phone re-prompts", ["1", "97955152869925", "3"],
     [CR_PROMPT, TWO_PHONES, "CON Choose a number from the list.\n" + TWO_PHONES[4:]]),
    ("long phone lists are paged with 98, default first", ["1", "88800011122233", "98", "98", "7"],
     [CR_PROMPT,
      "CON Send the OTP to which phone?\n1. +254700***011 (main)\n2. +254700***010\n"
      "3. +254700***012\n4. +254700***013\n98 More\n0 Back 00 Home",
      "CON Send the OTP to which phone?\n5. +254700***014\n6. +254700***015\n"
      "7. +254700***016\n0 Back 00 Home",
      "CON Choose a number from the list.\nSend the OTP to which phone?\n5. +254700***014\n"
      "6. +254700***015\n7. +254700***016\n0 Back 00 Home",
      sent_to("+254700***016")]),
    ("language switch", ["4", "2"],
     ["CON Choose language:\n1. English\n2. Kiswahili\n0 Back 00 Home",
      MAIN_SW.replace("Amina Wanjiru", "John Otieno")]),
]


def matches(expected: str, actual: str) -> bool:
    pattern = re.escape(expected).replace(re.escape("<ref>"), r"[A-Za-z0-9_-]{4,40}")
    return re.fullmatch(pattern, actual) is not None


@pytest.mark.parametrize(("label", "answers", "screens"), FLOWS, ids=[f[0] for f in FLOWS])
def test_send_otp_transcripts(phone: Phone, label: str, answers: list[str],
                              screens: list[str]) -> None:
    assert phone.dial() == MAIN_EN
    for answer, expected in zip(answers, screens, strict=True):
        actual = phone.answer(answer)
        assert matches(expected, actual), f"{label}: after {answer!r}\n{actual}"


def test_swahili_worker_sees_swahili_throughout(client, sha_sandbox) -> None:
    phone = Phone(client, WORKER_SW)

    assert phone.dial() == MAIN_SW
    assert phone.answer("1") == ("CON Weka namba ya CR ya mgonjwa.\n"
                                 "Tarakimu tu, mfano 97955152869925\n0 Rudi 00 Mwanzo")
    reply = phone.answer("12345678901234")
    assert matches("END OTP imetumwa kwa +254722***444.\nKumbukumbu: <ref>\n"
                   "Mwombe mgonjwa namba, kisha piga tena uchague 2.", reply)


def test_language_choice_is_kept_for_the_next_session(phone: Phone) -> None:
    phone.dial()
    phone.answer("4")
    phone.answer("2")

    assert phone.dial().startswith("CON John Otieno, chagua:")


def test_shortcut_dial_reaches_the_end_in_one_hop(phone: Phone, sha_sandbox) -> None:
    """``*384*12*1*97955152869925*2#`` arrives as the first hop's text."""
    reply = phone.post("1*97955152869925*2")

    assert matches(sent_to("+254110***321"), reply)
    assert len(outbox(sha_sandbox, "+254110456321")) == 1


def test_otp_reaches_only_the_chosen_phone(phone: Phone, sha_sandbox) -> None:
    phone.dial()
    phone.answer("1")
    phone.answer("97955152869925")
    phone.answer("2")

    messages = outbox(sha_sandbox, "+254110456321")
    assert len(messages) == 1
    assert re.search(r"\b\d{5}\b", messages[0]["text"])
    assert outbox(sha_sandbox, "+254714123898") == []


def test_consent_record_is_kept_by_reference_and_by_patient(app, phone: Phone) -> None:
    phone.dial()
    phone.answer("1")
    reply = phone.answer("12345678901234")
    reference = re.search(r"Consent ref: (\S+)", reply).group(1)

    records = app.extensions["gateway"].records
    record = records.get(reference)
    assert record is not None
    assert (record.status, record.cr_id, record.contact_id) == ("otp_sent", "CR1234567890123-4",
                                                                "C-3")
    assert (record.worker, record.facility) == (WORKER_EN, "FID-47-108521-3")
    assert record.expires_at - record.created_at == 600
    assert records.latest_for_patient(WORKER_EN, "CR1234567890123-4") == record


@pytest.mark.parametrize(("number", "expected"), [
    ("+254711000099", "END This phone is not registered as a health worker. Contact your CHA "
                      "or sub-county office."),
    ("+254711000003", "END Your health worker account is not active. Contact your sub-county "
                      "office."),
])
def test_unregistered_or_inactive_worker_is_turned_away_without_calling_sha(
        client, sha_sandbox, number: str, expected: str) -> None:
    phone = Phone(client, number)

    assert phone.dial() == expected
    assert phone.post("1*12345678901234") == expected
    assert sandbox_calls(sha_sandbox) == {}


def test_a_session_stored_by_an_older_release_resumes_at_home() -> None:
    from consent.menu import Session

    session = Session.from_dict({"state": "retired_state", "history": ["main"],
                                 "field_since_removed": 1, "language": "sw"})

    assert (session.state, session.history, session.language) == ("main", [], "sw")
