"""The USSD callback refuses what is malformed or unauthorised, and touches nothing."""

from __future__ import annotations

import pytest
import redis

from app import create_app
from tests.conftest import SERVICE_CODE, WORKER_EN, Phone, sandbox_calls

GOOD = {"sessionId": "ATUid_abc123", "serviceCode": SERVICE_CODE, "phoneNumber": WORKER_EN,
        "networkCode": "63902", "text": "1*12345678901234"}
KEY = "k" * 32


def keys_under(redis_client: redis.Redis, prefix: str) -> set[str]:
    return set(redis_client.scan_iter(match=prefix + "*"))


@pytest.mark.parametrize(("label", "change"), [
    ("no sessionId", {"sessionId": None}),
    ("no phoneNumber", {"phoneNumber": None}),
    ("no serviceCode", {"serviceCode": None}),
    ("phone not E.164", {"phoneNumber": "0711000002"}),
    ("phone not Kenyan", {"phoneNumber": "+255711000002"}),
    ("phone with a trailing newline", {"phoneNumber": WORKER_EN + "\n"}),
    ("phone in Arabic-Indic digits", {"phoneNumber": "+254٧١١٠٠٠٠٠٢"}),
    ("session id with spaces", {"sessionId": "a b"}),
    ("a service code we do not serve", {"serviceCode": "*999#"}),
    ("NUL in text", {"text": "1\x00"}),
    ("newline in text", {"text": "1\n2"}),
    ("trailing newline in text", {"text": "1\n"}),
    ("huge text", {"text": "1*" * 300}),
    ("network code not 5 digits", {"networkCode": "6390"}),
])
def test_malformed_hop_is_refused_and_changes_nothing(client, redis_client, prefix, sha_sandbox,
                                                      label: str, change: dict) -> None:
    form = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    before = keys_under(redis_client, prefix)

    response = client.post("/ussd", data=form)

    assert response.status_code == 400, label
    assert response.is_json
    assert keys_under(redis_client, prefix) == before
    assert sandbox_calls(sha_sandbox) == {}


def test_get_is_not_allowed(client) -> None:
    assert client.get("/ussd").status_code == 405


def test_oversized_body_is_refused(client, redis_client, prefix) -> None:
    before = keys_under(redis_client, prefix)

    response = client.post("/ussd", data={**GOOD, "padding": "x" * 20000})

    assert response.status_code == 413
    assert keys_under(redis_client, prefix) == before


@pytest.fixture
def keyed_client(settings):
    return create_app(settings.with_overrides(callback_key=KEY)).test_client()


@pytest.mark.parametrize("query", ["", "?key=", "?key=" + "k" * 31, "?key=" + "K" * 32,
                                   "?other=" + KEY])
def test_wrong_or_missing_key_is_forbidden(keyed_client, redis_client, prefix, query) -> None:
    before = keys_under(redis_client, prefix)

    response = keyed_client.post("/ussd" + query, data=GOOD)

    assert response.status_code == 403
    assert keys_under(redis_client, prefix) == before


def test_right_key_is_served(keyed_client) -> None:
    phone = Phone(keyed_client, WORKER_EN, query="?key=" + KEY)

    assert phone.dial().startswith("CON John Otieno, choose:")


def test_key_never_reaches_the_log(keyed_client, caplog) -> None:
    keyed_client.post("/ussd?key=" + KEY, data={**GOOD, "text": ""})
    keyed_client.post("/ussd?key=wrong", data=GOOD)

    assert caplog.records
    assert KEY not in caplog.text
    assert WORKER_EN not in caplog.text
