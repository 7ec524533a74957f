"""The sandbox's HTTP surface: SHA's paths and fields, plus a phone outbox."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, jsonify, request

from consent.identifiers import is_kenyan_mobile, mask_phone_for_screen
from sandbox.state import TOKEN_LIFETIME, Fault, SandboxState

INTERVENTION_CODE_PREFIX = "SHA-"


def create_app(data_path: str | Path | None = None) -> Flask:
    """The sandbox app, serving the data in ``data_path`` (or ``SANDBOX_DATA``)."""
    from config.settings import BUNDLED_SANDBOX_DATA

    path = Path(data_path or os.environ.get("SANDBOX_DATA") or BUNDLED_SANDBOX_DATA)
    app = Flask("sandbox")
    app.extensions["sandbox"] = SandboxState.load(path)
    _sha_routes(app)
    _at_routes(app)
    _control_routes(app)

    return app


def _state() -> SandboxState:
    return current_app.extensions["sandbox"]


def _error(status: int, error: str, message: str) -> tuple[Response, int]:
    return jsonify(error=error, message=message, trace_id=os.urandom(6).hex()), status


def _due_fault(call: str) -> Fault | None:
    """Count the call and wait out any injected delay; the fault comes back only
    when it also names a status to answer with (status 0 is a delay alone)."""
    fault = _state().count(call)
    if fault is None:
        return None
    time.sleep(fault.delay)

    return fault if fault.status else None


def _sha_call(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Count the call, apply any injected fault, check the token and facility."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            fault = _due_fault(name)
            if fault is not None:
                body = fault.body if fault.body is not None else '{"error": "fault"}'
                return Response(body, status=fault.status, mimetype="application/json")
            refusal = None if name == "token" else _refuse_caller()

            return refusal or view(*args, **kwargs)

        return wrapper

    return decorate


def _refuse_caller() -> tuple[Response, int] | None:
    """SHA's answer to a call without a live token or from an unknown facility."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not _state().token_ok(token):
        return _error(401, "unauthorized", "Invalid or expired token")
    if not _state().facility_known(request.headers.get("X-Facility-Id", "")):
        return _error(403, "forbidden", "Facility not registered")

    return None


def _sha_routes(app: Flask) -> None:
    app.add_url_rule("/api/v1/tenants/token", view_func=token, methods=["POST"])
    app.add_url_rule("/api/v1/patients/contacts", view_func=contacts, methods=["GET"])
    app.add_url_rule("/api/v1/claims/otp", view_func=send_otp, methods=["POST"])
    app.add_url_rule("/api/v1/claims/visit", view_func=start_visit, methods=["POST"])


@_sha_call("token")
def token() -> Any:
    if not _state().client_ok(request.form.get("client_id", ""),
                              request.form.get("client_secret", "")):
        return _error(401, "invalid_client", "Unknown client or wrong secret")

    return jsonify(access_token=_state().issue_token(), expires_in=TOKEN_LIFETIME,
                   token_type="Bearer")


@_sha_call("contacts")
def contacts() -> Any:
    patient = _state().patient(request.args.get("patient_id", ""))
    if patient is None:
        return _error(404, "not_found", "Patient not found in Client Registry")

    return jsonify([_contact(c) for c in patient.get("contacts", [])])


def _contact(contact: dict[str, Any]) -> dict[str, Any]:
    """A contact as SHA lists it: the phone masked, the flags spelled SHA's way."""
    return {"id": contact["id"], "contactType": "PHONE",
            "contactValue": mask_phone_for_screen(contact["phone"]),
            "active": contact.get("active", True),
            "isConfirmed": contact.get("confirmed", True),
            "isDefault": contact.get("default", False)}


@_sha_call("send_otp")
def send_otp() -> Any:
    body = request.get_json(silent=True) or {}
    if not _is_otp_request(body):
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


def _is_otp_request(body: dict[str, Any]) -> bool:
    codes = body.get("intervention_codes")
    if not body.get("patient_id") or not isinstance(codes, list) or not codes:
        return False

    return all(str(code).startswith(INTERVENTION_CODE_PREFIX) for code in codes)


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


def _at_routes(app: Flask) -> None:
    app.add_url_rule("/version1/messaging", view_func=at_send_sms, methods=["POST"])


def at_send_sms() -> Any:
    """Africa's Talking's bulk SMS endpoint, as the SDK calls it."""
    fault = _due_fault("sms")
    if fault is not None:
        return Response(fault.body or "Internal error", status=fault.status)
    if not request.headers.get("apiKey") or not request.form.get("username"):
        return Response("The supplied authentication is invalid", status=401)

    sender = request.form.get("from") or "AFRICASTKNG"
    message = request.form.get("message", "")
    numbers = [n.strip() for n in request.form.get("to", "").split(",") if n.strip()]
    recipients = [_at_deliver(number, message, sender) for number in numbers]
    sent = sum(r["statusCode"] == 101 for r in recipients)

    return jsonify(SMSMessageData={"Message": f"Sent to {sent}/{len(recipients)}",
                                   "Recipients": recipients})


def _at_deliver(number: str, message: str, sender: str) -> dict[str, Any]:
    if not is_kenyan_mobile(number):
        return {"statusCode": 403, "number": number, "status": "InvalidPhoneNumber",
                "cost": "0", "messageId": "None"}
    if number in _state().data.get("sms_blacklist", []):
        return {"statusCode": 406, "number": number, "status": "UserInBlacklist",
                "cost": "0", "messageId": "None"}

    message_id = "ATXid_" + os.urandom(12).hex()
    _state().deliver(number, message, sender=sender, message_id=message_id)

    return {"statusCode": 101, "number": number, "status": "Success", "cost": "KES 0.8000",
            "messageId": message_id}


def _control_routes(app: Flask) -> None:
    """The sandbox's own endpoints, for tests and demos: no counterpart at SHA or AT."""
    app.add_url_rule("/sandbox/expire", view_func=expire, methods=["POST"])
    app.add_url_rule("/sandbox/messages", view_func=messages, methods=["GET"])
    app.add_url_rule("/sandbox/faults/<call>", view_func=inject_fault, methods=["POST"])
    app.add_url_rule("/sandbox/calls", view_func=calls, methods=["GET"])


def expire() -> Any:
    body = request.get_json(silent=True) or {}

    return jsonify(expired=_state().expire(str(body.get("patient_id", ""))))


def messages() -> Any:
    phone = request.args.get("to", "")
    if not phone:
        return _error(400, "bad_request", "Give the phone as ?to=+2547...")

    # An unencoded '+' in the query string arrives as a space.
    return jsonify(_state().messages_to(phone.replace(" ", "+")))


def inject_fault(call: str) -> Any:
    body = request.get_json(silent=True) or {}
    fault = Fault(status=int(body.get("status", 503)), delay=float(body.get("delay", 0)),
                  body=body.get("body"), times=int(body.get("times", 1)))
    _state().faults[call] = fault

    return jsonify(call=call, times=fault.times)


def calls() -> Any:
    return jsonify(_state().calls)


def _pick_contact(patient: dict[str, Any], contact_id: str | None) -> dict[str, Any] | None:
    usable = [c for c in patient.get("contacts", []) if c.get("active", True)]
    if contact_id:
        return next((c for c in usable if c["id"] == contact_id), None)

    return next((c for c in usable if c.get("default")), usable[0] if usable else None)
