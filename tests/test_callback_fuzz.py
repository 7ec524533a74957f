"""Hostile form bodies at each callback: never a 5xx, always a well-formed screen,
and never an OTP for a request that should not send one.

Real Redis and the SHA sandbox, as everywhere; example counts are kept small
enough for the suite to stay fast.
"""

from __future__ import annotations

import string
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import (
    SERVICE_CODE,
    WORKER_EN,
    WORKER_INACTIVE,
    WORKER_SW,
    outbox,
    sandbox_calls,
)

# An empty form would otherwise go without a content type, and be refused for that.
FORM = "application/x-www-form-urlencoded"
PATIENT_PHONES = ("+254714123898", "+254110456321", "+254722000444")
FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

unicode_digits = st.text(st.characters(categories=["Nd"], exclude_characters=string.digits),
                         min_size=1, max_size=16)
controls = st.lists(st.sampled_from(["\x00", "\r", "\n", "\r\n", "\t", "\x7f", "1", "*"]),
                    min_size=1, max_size=12).map("".join)
keypad = st.text(st.sampled_from("0123456789*#"), max_size=600)
star_runs = st.integers(1, 10_000).map(lambda n: "*" * n)
menu_then = st.builds(lambda key, rest: f"{key}*{rest}",
                      st.sampled_from(["1", "2", "3", "4", "0", "00", "98", "1*1"]),
                      st.one_of(unicode_digits, controls, keypad, st.text(max_size=40)))
hostile_text = st.one_of(st.just(""), keypad, star_runs, controls, unicode_digits, menu_then,
                         st.text(max_size=60), st.text(min_size=300, max_size=2000))

# Registered health workers too, so hostile input reaches the menu itself.
hostile_phone = st.one_of(
    st.sampled_from([WORKER_EN, WORKER_SW, WORKER_INACTIVE, "+254799000111",
                     WORKER_EN + "\n", WORKER_EN + "\x00", " " + WORKER_EN, "0711000002",
                     "254711000002", "+255711000002", "+256772123456", "+14155550123",
                     "+254900123456", "+254202123456", "22384", "+254" + "٧١١٠٠٠٠٠٢", "",
                     "+254711000002" * 50]),
    st.text(max_size=20),
)
hostile_id = st.one_of(st.from_regex(r"\AATUid_[0-9a-f]{8}\Z"), st.text(max_size=120),
                       st.just("a" * 101), st.just("x/../y"))
hostile_code = st.sampled_from([SERVICE_CODE, SERVICE_CODE + "\n", "*384*12", "*999#", "",
                                "*384*12*1#", "*384*12#" * 40])
hostile_network = st.one_of(st.sampled_from(["63902", "63903", "99999", "", "6390", "٦٣٩٠٢"]),
                            st.text(max_size=8))


def maybe(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    """A field value, or the field left out (None)."""
    return st.one_of(st.none(), strategy)


def form_of(fields: dict[str, str | None]) -> dict[str, str]:
    return {name: value for name, value in fields.items() if value is not None}


hops = st.fixed_dictionaries({
    "sessionId": maybe(hostile_id), "serviceCode": maybe(hostile_code),
    "phoneNumber": maybe(hostile_phone), "networkCode": maybe(hostile_network),
    "text": maybe(hostile_text)}).map(form_of)

notices = st.fixed_dictionaries({
    "sessionId": maybe(hostile_id), "serviceCode": maybe(hostile_code),
    "phoneNumber": maybe(hostile_phone), "networkCode": maybe(hostile_network),
    "status": maybe(st.one_of(st.sampled_from(["Success", "Incomplete", "Failed", "failed",
                                               "Success\n", ""]), st.text(max_size=12))),
    "date": maybe(st.one_of(st.just("2026-12-03 10:00:00"), st.text(max_size=50))),
    "cost": maybe(st.one_of(st.just("KES 0.0000"), st.text(max_size=50))),
    "durationInMillis": maybe(st.one_of(st.integers(-5, 10**12).map(str), unicode_digits)),
    "hopsCount": maybe(st.one_of(st.integers(-5, 10**6).map(str), unicode_digits)),
    "input": maybe(hostile_text),
    "lastAppResponse": maybe(hostile_text),
    "errorMessage": maybe(st.one_of(controls, st.text(max_size=400))),
}).map(form_of)


def assert_no_otp_sent(sha_sandbox) -> None:
    assert "send_otp" not in sandbox_calls(sha_sandbox)
    for number in PATIENT_PHONES:
        assert outbox(sha_sandbox, number) == []


def assert_screen(response) -> None:
    body = response.get_data(as_text=True)
    assert body.startswith(("CON ", "END ")), body
    assert len(body) <= 182, body


@FUZZ
@given(form=hops)
def test_hostile_hops_get_a_screen_or_a_4xx_and_send_nothing(client, sha_sandbox,
                                                              form: dict[str, str]) -> None:
    response = client.post("/ussd", data=form, content_type=FORM)

    assert response.status_code in (200, 400, 413)
    if response.status_code == 200:
        assert_screen(response)
    assert_no_otp_sent(sha_sandbox)


answer = st.one_of(st.sampled_from(["1", "2", "3", "4", "0", "00", "98", "99", "", "#"]),
                   st.from_regex(r"\A[0-9]{12,15}\Z"), unicode_digits, controls,
                   st.text(max_size=30), st.text(st.sampled_from("0123456789*"), max_size=40))


@settings(FUZZ, max_examples=60)
@given(worker=st.sampled_from([WORKER_EN, WORKER_SW, WORKER_INACTIVE, "+254799000111"]),
       answers=st.lists(answer, min_size=1, max_size=6))
def test_hostile_answers_in_a_real_session_always_get_a_screen(client, sha_sandbox, worker: str,
                                                               answers: list[str]) -> None:
    """A real health worker's session, each answer hostile: the menu itself is fuzzed."""
    session = {"sessionId": "ATUid_" + uuid.uuid4().hex, "serviceCode": SERVICE_CODE,
               "phoneNumber": worker, "networkCode": "63902"}
    given_so_far: list[str] = []

    for typed in answers:
        given_so_far.append(typed)
        response = client.post("/ussd", data={**session, "text": "*".join(given_so_far)},
                               content_type=FORM)
        assert response.status_code in (200, 400)
        if response.status_code == 200:
            assert_screen(response)
            if response.get_data(as_text=True).startswith("END "):
                break
    assert_no_otp_sent(sha_sandbox)


@settings(FUZZ, max_examples=100)
@given(form=notices)
def test_hostile_notices_are_received_or_refused_never_a_fault(client, sha_sandbox,
                                                               form: dict[str, str]) -> None:
    response = client.post("/ussd/events", data=form, content_type=FORM)

    assert response.status_code in (200, 400, 413)
    if response.status_code == 200:
        assert response.json == {"status": "received"}
    assert sandbox_calls(sha_sandbox) == {}


inbound_sms = st.fixed_dictionaries({
    "from": maybe(hostile_phone), "to": maybe(st.one_of(st.just("22384"), st.text(max_size=20))),
    "text": maybe(st.one_of(hostile_text, st.from_regex(r"\A[0-9]{5}\Z"))),
    "id": maybe(hostile_id), "date": maybe(st.text(max_size=30)),
    "linkId": maybe(st.text(max_size=30)), "networkCode": maybe(hostile_network),
}).map(form_of)

delivery_reports = st.fixed_dictionaries({
    "id": maybe(hostile_id), "phoneNumber": maybe(hostile_phone),
    "status": maybe(st.one_of(st.sampled_from(["Sent", "Submitted", "Buffered", "Rejected",
                                               "Success", "Failed", "Expired", "success", ""]),
                              st.text(max_size=12))),
    "networkCode": maybe(hostile_network),
    "retryCount": maybe(st.one_of(st.integers(-5, 10**6).map(str), unicode_digits)),
    "failureReason": maybe(st.one_of(st.sampled_from(["InsufficientCredit", "UserInBlackList",
                                                      "DeliveryFailure"]), controls,
                                     st.text(max_size=60))),
}).map(form_of)


@settings(FUZZ, max_examples=80)
@given(form=inbound_sms)
def test_hostile_inbound_sms_never_faults_or_verifies(client, sha_sandbox,
                                                      form: dict[str, str]) -> None:
    response = client.post("/sms/inbound", data=form, content_type=FORM)

    assert response.status_code in (200, 400, 413)
    assert "start_visit" not in sandbox_calls(sha_sandbox)
    assert_no_otp_sent(sha_sandbox)


@settings(FUZZ, max_examples=80)
@given(form=delivery_reports)
def test_hostile_delivery_reports_never_fault(client, sha_sandbox,
                                              form: dict[str, str]) -> None:
    response = client.post("/sms/delivery", data=form, content_type=FORM)

    assert response.status_code in (200, 400, 413)
    assert sandbox_calls(sha_sandbox) == {}
