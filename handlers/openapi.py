"""``GET /openapi.json``: the callback and operator endpoints, as OpenAPI 3.

The request bodies come from the same marshmallow schemas the views load, so
the document cannot drift from what is enforced. The document names the
callback key's place (``?key=``), never its value.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from handlers.schemas import DeliveryReportSchema, InboundSmsSchema
from handlers.security import FORM_TYPE

bp = Blueprint("openapi", __name__)

OPENAPI_VERSION = "3.0.3"
# The version of the callback contract this document describes.
API_VERSION = "1.0.0"
CALLBACK_SECURITY = [{"callbackKey": []}]


class ErrorSchema(Schema):
    error = fields.String(required=True)
    message = fields.String()


class InvalidSchema(Schema):
    error = fields.String(required=True)
    # ``fields`` would shadow the Schema attribute of that name.
    field_errors = fields.Dict(data_key="fields", keys=fields.String(),
                               metadata={"description": "Each bad field and what is wrong."})


class ReadinessSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["ready", "unready"]})
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata={"description": "Each dependency: ok, or what failed."})


@bp.get("/openapi.json")
def document() -> ResponseReturnValue:
    return jsonify(current_app.extensions["operations"].openapi)


def build_spec(hop_schema: Schema, end_schema: Schema) -> dict[str, Any]:
    """The document; the hop and notice schemas are the app's own configured instances."""
    spec = APISpec(title="Consent gateway", version=API_VERSION, openapi_version=OPENAPI_VERSION,
                   plugins=[MarshmallowPlugin()],
                   info={"description": "Africa's Talking callbacks and operator endpoints."})
    spec.components.security_scheme("callbackKey", {"type": "apiKey", "in": "query",
                                                    "name": "key"})
    spec.components.schema("UssdHop", schema=hop_schema)
    spec.components.schema("UssdSessionEnd", schema=end_schema)
    spec.components.schema("InboundSms", schema=InboundSmsSchema)
    spec.components.schema("DeliveryReport", schema=DeliveryReportSchema)
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.schema("Invalid", schema=InvalidSchema)
    spec.components.schema("Readiness", schema=ReadinessSchema)
    _add_refusals(spec)
    _add_callbacks(spec)
    _add_operator_endpoints(spec)

    return _portable_patterns(spec.to_dict())


def _portable_patterns(node: Any) -> Any:
    """Python's end anchor ``\\Z`` (``$`` would allow a trailing newline) is
    spelled ``$`` in OpenAPI's ECMA-262 regexes, where it means the same."""
    if isinstance(node, dict):
        return {key: value.replace("\\Z", "$") if key == "pattern" and isinstance(value, str)
                else _portable_patterns(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_portable_patterns(item) for item in node]

    return node


def _add_refusals(spec: APISpec) -> None:
    error = {"application/json": {"schema": "Error"}}
    spec.components.response("Invalid", {
        "description": "A field is missing or malformed; the body names the fields.",
        "content": {"application/json": {"schema": "Invalid"}}})
    spec.components.response("Forbidden", {"description": "Missing or wrong callback key.",
                                           "content": error})
    spec.components.response("MethodNotAllowed", {"description": "Callbacks are POST only.",
                                                  "content": error})
    spec.components.response("TooLarge", {"description": "The body is over the callback cap.",
                                          "content": error})
    spec.components.response("UnsupportedMediaType", {
        "description": f"The body is not {FORM_TYPE}.", "content": error})


def _callback(summary: str, schema: str, reply: dict[str, Any]) -> dict[str, Any]:
    return {"post": {
        "summary": summary, "security": CALLBACK_SECURITY,
        "requestBody": {"required": True, "content": {FORM_TYPE: {"schema": schema}}},
        "responses": {"200": reply, "400": "Invalid", "403": "Forbidden",
                      "405": "MethodNotAllowed", "413": "TooLarge",
                      "415": "UnsupportedMediaType"},
    }}


def _add_callbacks(spec: APISpec) -> None:
    screen = {"type": "string", "pattern": "^(CON|END) "}
    spec.path(path="/ussd", operations=_callback(
        "A USSD hop from Africa's Talking", "UssdHop",
        {"description": "The next screen: CON expects input, END closes the session.",
         "content": {"text/plain": {"schema": screen}}}))
    received = {"type": "object", "properties": {"status": {"type": "string"}},
                "required": ["status"]}
    spec.path(path="/ussd/events", operations=_callback(
        "A USSD session-end notice from Africa's Talking", "UssdSessionEnd",
        {"description": "Received (a repeated notice is received again, counted once).",
         "content": {"application/json": {"schema": received}}}))
    ok = {"description": "Acknowledged, whatever the outcome, so AT does not repeat it.",
          "content": {"text/plain": {"schema": {"type": "string", "enum": ["OK"]}}}}
    spec.path(path="/sms/inbound", operations=_callback(
        "An SMS a patient sent to our short code", "InboundSms", ok))
    spec.path(path="/sms/delivery", operations=_callback(
        "A delivery report on an SMS we sent", "DeliveryReport", ok))


def _add_operator_endpoints(spec: APISpec) -> None:
    status = {"type": "object", "properties": {"status": {"type": "string"}},
              "required": ["status"]}
    spec.path(path="/healthz", operations={"get": {
        "summary": "The process is up",
        "responses": {"200": {"description": "Up.",
                              "content": {"application/json": {"schema": status}}}}}})
    readiness = {"application/json": {"schema": "Readiness"}}
    spec.path(path="/readyz", operations={"get": {
        "summary": "Redis answers and SHA can be reached",
        "responses": {"200": {"description": "Ready.", "content": readiness},
                      "503": {"description": "Not ready; checks says which failed.",
                              "content": readiness}}}})
    spec.path(path="/metrics", operations={"get": {
        "summary": "Prometheus metrics, summed over all workers",
        "responses": {"200": {"description": "Prometheus text format.",
                              "content": {"text/plain": {"schema": {"type": "string"}}}}}}})
    spec.path(path="/openapi.json", operations={"get": {
        "summary": "This document",
        "responses": {"200": {"description": "OpenAPI 3 document.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}})
