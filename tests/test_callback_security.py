"""Every callback, through ``protect``: the key, POST, a form body, a size cap.

A refused request stores nothing, calls nothing, is counted by endpoint and
reason, and is logged without its body.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import requests
from flask import Blueprint

from app import create_app
from handlers.security import CALLBACK_MAX_BODY, protect, require_callback_key
from tests.conftest import SERVICE_CODE, WORKER_EN, sandbox_calls, serve
from tests.observe import keys_under, sample

KEY = "k" * 32
HOP = {"sessionId": "ATUid_sec1", "serviceCode": SERVICE_CODE, "phoneNumber": WORKER_EN,
       "networkCode": "63902", "text": "1*12345678901234"}
NOTICE = {"date": "2026-12-03 10:00:00", "sessionId": "ATUid_sec1", "serviceCode": SERVICE_CODE,
          "networkCode": "63902", "phoneNumber": WORKER_EN, "status": "Failed",
          "cost": "KES 0.0000", "durationInMillis": "15230", "hopsCount": "3",
          "input": "1*12345678901234", "lastAppResponse": "CON Enter patient's CR ID.",
          "errorMessage": "Application response timeout"}
INBOUND = {"from": "+254722000444", "to": "22384", "text": "OTP 12345", "id": "ATXid_sec1",
           "date": "2026-12-03 10:00:00", "networkCode": "63902"}
DELIVERY = {"id": "ATXid_sec2", "status": "Success", "phoneNumber": WORKER_EN,
            "networkCode": "63902", "retryCount": "0"}
CALLBACKS = [("/ussd", "ussd.hop", HOP), ("/ussd/events", "ussd_events.session_end", NOTICE),
             ("/sms/inbound", "sms.inbound", INBOUND), ("/sms/delivery", "sms.delivery", DELIVERY)]
CALLBACK_IDS = ["ussd", "events", "sms-inbound", "sms-delivery"]
# Only in the body of refused requests: must never reach the log.
MARKER = "+254799111222"


@pytest.fixture
def keyed(settings):
    return create_app(settings.with_overrides(callback_key=KEY)).test_client()


def refusals(endpoint: str, reason: str) -> float:
    return sample("gateway_callbacks_refused_total", endpoint=endpoint, reason=reason)


def form(fields: dict[str, str]) -> dict[str, object]:
    return {"data": {**fields, "note": MARKER},
            "content_type": "application/x-www-form-urlencoded"}


REFUSED = [
    ("no key", "", lambda body: {"method": "POST", **form(body)}, 403, "forbidden"),
    ("wrong key", "?key=" + "x" * 32, lambda body: {"method": "POST", **form(body)}, 403,
     "forbidden"),
    ("GET", "?key=" + KEY, lambda body: {"method": "GET"}, 405, "method"),
    ("PUT", "?key=" + KEY, lambda body: {"method": "PUT", **form(body)}, 405, "method"),
    # Flask answers OPTIONS for every route itself, after the blueprint's hooks.
    ("OPTIONS", "?key=" + KEY, lambda body: {"method": "OPTIONS", **form(body)}, 405,
     "method"),
    ("JSON body", "?key=" + KEY, lambda body: {"method": "POST", "json": {**body, "n": MARKER}},
     415, "media_type"),
    ("text body", "?key=" + KEY,
     lambda body: {"method": "POST", "data": MARKER, "content_type": "text/plain"}, 415,
     "media_type"),
    ("multipart body", "?key=" + KEY,
     lambda body: {"method": "POST", "data": {**body, "note": MARKER},
                   "content_type": "multipart/form-data"}, 415, "media_type"),
    # Over every callback's own cap (the SMS ones are larger), under the app's.
    ("body over the cap", "?key=" + KEY,
     lambda body: {"method": "POST", **form({**body, "pad": "x" * 30 * 1024})}, 413,
     "too_large"),
    ("bad phone", "?key=" + KEY,
     lambda body: {"method": "POST", **form({**body, **{
         name: MARKER + "x" for name in ("phoneNumber", "from") if name in body}})}, 400,
     "invalid"),
]


@pytest.mark.parametrize(("path", "endpoint", "body"), CALLBACKS, ids=CALLBACK_IDS)
@pytest.mark.parametrize(("label", "query", "request_of", "status", "reason"), REFUSED,
                         ids=[case[0] for case in REFUSED])
def test_callback_refuses_stores_nothing_and_counts_the_reason(
        keyed, redis_client, prefix, sha_sandbox, caplog, path, endpoint, body, label, query,
        request_of, status, reason) -> None:
    before_keys = keys_under(redis_client, prefix)
    before = refusals(endpoint, reason)

    response = keyed.open(path + query, **request_of(body))

    assert response.status_code == status, label
    assert response.is_json
    assert keys_under(redis_client, prefix) == before_keys
    assert sandbox_calls(sha_sandbox) == {}
    assert refusals(endpoint, reason) == before + 1
    assert MARKER not in caplog.text and MARKER[1:] not in caplog.text


def test_method_refusal_names_post_as_allowed(keyed) -> None:
    response = keyed.get("/ussd/events?key=" + KEY)

    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_key_is_checked_before_anything_else_is_revealed(keyed) -> None:
    """A stranger learns nothing about the body rules: every refusal is a 403."""
    for request_of in (lambda: {"json": NOTICE}, lambda: form({"pad": "x" * 9000})):
        assert keyed.post("/ussd/events", **request_of()).status_code == 403


def test_body_without_a_length_over_the_cap_is_refused_not_cut(settings, redis_client,
                                                                 prefix) -> None:
    """Chunked, so no Content-Length: werkzeug alone would parse the first 8 KiB."""
    served = serve(create_app(settings.with_overrides(callback_key=KEY)))
    before = keys_under(redis_client, prefix)
    parts = [urlencode({**HOP, "text": ""}).encode(), b"&pad=", b"x" * CALLBACK_MAX_BODY]

    try:
        response = requests.post(served.url + "/ussd?key=" + KEY, data=iter(parts), timeout=5,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    finally:
        served.stop()

    assert response.status_code == 413
    assert keys_under(redis_client, prefix) == before


def test_body_without_a_length_under_the_cap_is_served(settings) -> None:
    served = serve(create_app(settings.with_overrides(callback_key=KEY)))
    parts = [urlencode({**HOP, "text": ""}).encode()]

    try:
        response = requests.post(served.url + "/ussd?key=" + KEY, data=iter(parts), timeout=5,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    finally:
        served.stop()

    assert response.status_code == 200
    assert response.text.startswith("CON John Otieno")


@pytest.mark.parametrize(("path", "body"), [(path, body) for path, _, body in CALLBACKS],
                         ids=CALLBACK_IDS)
def test_real_africas_talking_payloads_are_accepted(keyed, path, body) -> None:
    # AT names the charset in its content type.
    response = keyed.post(path + "?key=" + KEY, data=body,
                          content_type="application/x-www-form-urlencoded; charset=UTF-8")

    assert response.status_code == 200


def test_protect_is_idempotent_and_checks_the_key_once() -> None:
    bp = Blueprint("twice", __name__)
    bp.before_request(require_callback_key)
    protect(bp)
    protect(bp)

    hooks = bp.before_request_funcs[None]
    assert hooks.count(require_callback_key) == 1
    assert len(hooks) == 2
