"""The sandbox's HTTP surface: SHA's paths and fields, plus a phone outbox."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, jsonify, request

from sandbox.state import TOKEN_LIFETIME, Fault, SandboxState

INTERVENTION_CODE_PREFIX = "SHA-"


def create_app(data_path: str | Path | None = None) -> Flask:
    """The sandbox app, serving the data in ``data_path`` (or ``SANDBOX_DATA``)."""
    from config.settings import BUNDLED_SANDBOX_DATA

    path = Path(data_path or os.environ.get("SANDBOX_DATA") or BUNDLED_SANDBOX_DATA)
    app = Flask("sandbox")
    app.extensions["sandbox"] = SandboxState.load(path)
    _routes(app)

    return app


def _state() -> SandboxState:
    return current_app.extensions["sandbox"]


def _error(status: int, error: str, message: str) -> tuple[Response, int]:
    return jsonify(error=error, message=message, trace_id=os.urandom(6).hex()), status


def _sha_call(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Count the call, apply any injected fault, check the token and facility."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            fault = _state().count(name)
            if fault is not None:
                time.sleep(fault.delay)
                if fault.status:
                    body = fault.body if fault.body is not None else '{"error": "fault"}'
                    return Response(body, status=fault.status, mimetype="application/json")
            if name != "token":
                token = request.headers.get("Authorization", "").removeprefix("Bearer ")
                if not _state().token_ok(token):
                    return _error(401, "unauthorized", "Invalid or expired token")
                if not _state().facility_known(request.headers.get("X-Facility-Id", "")):
                    return _error(403, "forbidden", "Facility not registered")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _masked(phone: str) -> str:
    return phone[:7] + "***" + phone[-3:]


def _routes(app: Flask) -> None:
    @app.post("/api/v1/tenants/token")
    @_sha_call("token")
    def token() -> Any:
        if not _state().client_ok(request.form.get("client_id", ""),
                                  request.form.get("client_secret", "")):
            return _error(401, "invalid_client", "Unknown client or wrong secret")

        return jsonify(access_token=_state().issue_token(), expires_in=TOKEN_LIFETIME,
                       token_type="Bearer")

    @app.get("/api/v1/patients/contacts")
    @_sha_call("contacts")
    def contacts() -> Any:
        patient = _state().patient(request.args.get("patient_id", ""))
        if patient is None:
            return _error(404, "not_found", "Patient not found in Client Registry")

        return jsonify([
            {"id": c["id"], "contactType": "PHONE", "contactValue": _masked(c["phone"]),
             "active": c.get("active", True), "isConfirmed": c.get("confirmed", True),
             "isDefault": c.get("default", False)}
            for c in patient.get("contacts", [])
        ])

    @app.post("/api/v1/claims/otp")
    @_sha_call("send_otp")
    def send_otp() -> Any:
        body = request.get_json(silent=True) or {}
        codes = body.get("intervention_codes")
        if not body.get("patient_id") or not isinstance(codes, list) or not codes or \
                not all(str(c).startswith(INTERVENTION_CODE_PREFIX) for c in codes):
            return _error(400, "bad_request", "patient_id and intervention_codes are required")
        patient = _state().patient(body["patient_id"])
        if patient is None:
            return _error(404, "not_found", "Patient not found in Client Registry")
        if patient.get("refuse"):
            return _error(403, "forbidden", str(patient["refuse"]))
        contact = _pick_contact(patient, body.get("contact_id"))
        if contact is None:
            return _error(400, "bad_request", "Contact not found or inactive")

        _, request_id = _state().issue_otp(patient["cr_id"], contact)
        if patient.get("returns_reference", True) is False:
            return jsonify(message="OTP sent")

        return jsonify(message="OTP sent", consent_request_id=request_id)

    @app.post("/api/v1/claims/visit")
    @_sha_call("start_visit")
    def start_visit() -> Any:
        body = request.get_json(silent=True) or {}
        if not all(body.get(name) for name in ("patient_id", "otp", "service_type")):
            return _error(400, "bad_request", "patient_id, service_type and otp are required")
        if _state().patient(body["patient_id"]) is None:
            return _error(404, "not_found", "Patient not found in Client Registry")

        status, answer = _state().check_otp(body["patient_id"], str(body["otp"]),
                                            str(body.get("consent_request_id") or ""))
        if status != 200:
            return _error(status, answer["error"], answer["message"])

        return jsonify(answer)

    @app.post("/version1/messaging")
    def at_send_sms() -> Any:
        """Africa's Talking's bulk SMS endpoint, as the SDK calls it."""
        fault = _state().count("sms")
        if fault is not None and fault.status:
            return Response(fault.body or "Internal error", status=fault.status)
        if not request.headers.get("apiKey") or not request.form.get("username"):
            return Response("The supplied authentication is invalid", status=401)

        sender = request.form.get("from") or "AFRICASTKNG"
        recipients = [_at_deliver(number.strip(), request.form.get("message", ""), sender)
                      for number in request.form.get("to", "").split(",") if number.strip()]
        sent = sum(r["statusCode"] == 101 for r in recipients)

        return jsonify(SMSMessageData={"Message": f"Sent to {sent}/{len(recipients)}",
                                       "Recipients": recipients})

    @app.post("/sandbox/expire")
    def expire() -> Any:
        body = request.get_json(silent=True) or {}
        return jsonify(expired=_state().expire(str(body.get("patient_id", ""))))

    @app.get("/sandbox/messages")
    def messages() -> Any:
        phone = request.args.get("to", "")
        if not phone:
            return _error(400, "bad_request", "Give the phone as ?to=+2547...")

        return jsonify(_state().messages_to(phone.replace(" ", "+")))

    @app.post("/sandbox/faults/<call>")
    def inject_fault(call: str) -> Any:
        body = request.get_json(silent=True) or {}
        fault = Fault(status=int(body.get("status", 503)), delay=float(body.get("delay", 0)),
                      body=body.get("body"), times=int(body.get("times", 1)))
        _state().faults[call] = fault

        return jsonify(call=call, times=fault.times)

    @app.get("/sandbox/calls")
    def calls() -> Any:
        return jsonify(_state().calls)


def _at_deliver(number: str, message: str, sender: str) -> dict[str, Any]:
    if not re.match(r"^\+254[17][0-9]{8}\Z", number):
        return {"statusCode": 403, "number": number, "status": "InvalidPhoneNumber",
                "cost": "0", "messageId": "None"}
    if number in _state().data.get("sms_blacklist", []):
        return {"statusCode": 406, "number": number, "status": "UserInBlacklist",
                "cost": "0", "messageId": "None"}

    message_id = "ATXid_" + os.urandom(12).hex()
    _state().deliver(number, message, sender=sender, message_id=message_id)
    return {"statusCode": 101, "number": number, "status": "Success", "cost": "KES 0.8000",
            "messageId": message_id}


def _pick_contact(patient: dict[str, Any], contact_id: str | None) -> dict[str, Any] | None:
    usable = [c for c in patient.get("contacts", []) if c.get("active", True)]
    if contact_id:
        return next((c for c in usable if c["id"] == contact_id), None)

    return next((c for c in usable if c.get("default")), usable[0] if usable else None)
