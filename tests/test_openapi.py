"""``GET /openapi.json`` describes the callbacks and operator endpoints, and the app
keeps to it: schemathesis drives every operation in-process, key supplied."""

from __future__ import annotations

import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from app import create_app

KEY = "Zx8cV7bN6mQ5wE4rT3yU2iO1pA0sD9fG"


# Callbacks are also sent what the document forbids (negative mode) and must
# refuse it with a documented 4xx; the operator endpoints take no input.
OPERATIONS = [("POST", "/ussd", True), ("POST", "/ussd/events", True),
              ("POST", "/sms/inbound", True), ("POST", "/sms/delivery", True),
              ("GET", "/healthz", False), ("GET", "/readyz", False), ("GET", "/metrics", False),
              ("GET", "/openapi.json", False)]
RUNS = [(method, path, mode) for method, path, takes_input in OPERATIONS
        for mode in ([GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if takes_input
                     else [GenerationMode.POSITIVE])]


@pytest.fixture
def keyed_app(settings):
    return create_app(settings.with_overrides(callback_key=KEY))


@pytest.fixture
def api_schema(keyed_app):
    # The callback key reaches schemathesis as the apiKey scheme's value, the
    # way an API consumer would supply it, not through the document.
    config = schemathesis.Config.from_dict({
        "auth": {"openapi": {"callbackKey": {"api_key": KEY}}},
    })
    return schemathesis.openapi.from_wsgi("/openapi.json", keyed_app, config=config)


def test_document_lists_every_callback_and_operator_endpoint(keyed_app) -> None:
    document = keyed_app.test_client().get("/openapi.json").json

    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {path for _, path, _ in OPERATIONS}
    hop = document["components"]["schemas"]["UssdHop"]
    assert hop["properties"]["serviceCode"]["enum"] == ["*384*12#"]
    assert hop["properties"]["phoneNumber"]["pattern"].startswith("^\\+254[17]")
    for path in ("/ussd", "/ussd/events", "/sms/inbound", "/sms/delivery"):
        post = document["paths"][path]["post"]
        assert set(post["responses"]) == {"200", "400", "403", "405", "413", "415"}
        assert post["security"] == [{"callbackKey": []}]


def test_document_names_the_key_but_never_holds_it(keyed_app) -> None:
    text = keyed_app.test_client().get("/openapi.json").get_data(as_text=True)

    assert json.loads(text)["components"]["securitySchemes"]["callbackKey"] == {
        "type": "apiKey", "in": "query", "name": "key"}
    assert KEY not in text


@pytest.mark.parametrize(("method", "path", "mode"), RUNS,
                         ids=[f"{m} {p} {mode.value}" for m, p, mode in RUNS])
def test_every_operation_answers_as_documented(api_schema, method: str, path: str,
                                               mode: GenerationMode) -> None:
    """No 5xx, and every status, content type and body as the document says."""
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def answers_as_documented(case) -> None:
        response = case.call_and_validate()

        # schemathesis checks JSON bodies only; a screen is text/plain.
        if path == "/ussd" and response.status_code == 200:
            assert re.match(r"(CON|END) ", response.text) and len(response.text) <= 182

    answers_as_documented()
