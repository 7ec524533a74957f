"""SHA's Health Information Exchange, as the consent flow needs it.

Every call has an explicit (connect, read) timeout. :func:`map_failure` is the
one place where requests' exceptions and HTTP statuses become the error tree of
:mod:`upstream.errors`. Sends are never retried after the request left us.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

from upstream.errors import (
    NotFound,
    OutcomeUnknown,
    Rejected,
    Throttled,
    Unauthorized,
    Unavailable,
    UpstreamError,
)

# A call is not started with less time than this left before its deadline: it
# could not finish, and a send cut short would leave its outcome unknown.
MIN_CALL_SECONDS = 0.5

# Refresh the token this long before SHA says it expires, so a token never
# dies between our check and SHA's.
TOKEN_REFRESH_MARGIN = 60.0

# A reference must fit on a USSD screen and be read aloud; anything else from
# SHA is kept in the record but replaced by one of ours on screen.
_SHOWABLE_REFERENCE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")

# Statuses by which a proxy in front of SHA says the request never reached it.
_NOT_PROCESSED = {502, 503}

_PHONE_TYPES = {"PHONE", "MOBILE", "MSISDN"}
_MASK_CHARS = set("+0123456789*")

CallObserver = Callable[[str, float, str], None]


@dataclass(frozen=True)
class Contact:
    id: str
    masked: str
    default: bool


@dataclass(frozen=True)
class OtpDispatch:
    reference: str
    sha_reference: str | None


@dataclass(frozen=True)
class Visit:
    visit_id: str
    consent_token: str


def mint_reference() -> str:
    """A reference of ours, for deployments that return no consent_request_id."""
    return "CG-" + secrets.token_hex(5).upper()


class ShaClient:
    def __init__(self, base_url: str, client_id: str, client_secret: str, *,
                 connect_timeout: float, read_timeout: float,
                 observe: CallObserver | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = {"client_id": client_id, "client_secret": client_secret}
        self._timeout = (connect_timeout, read_timeout)
        self._observe = observe or (lambda call, seconds, outcome: None)
        self._http = requests.Session()
        self._token: tuple[str, float] | None = None
        self._token_lock = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """Calls made in this block, in this thread, share ``seconds`` between them.

        A USSD hop may need a token, the contacts and a send: each within its
        own timeout, but all of them within Africa's Talking's 15 s.
        """
        self._local.deadline = time.monotonic() + seconds
        try:
            yield
        finally:
            self._local.deadline = None

    def contacts(self, cr_id: str, facility: str) -> list[Contact]:
        """The patient's active phone contacts, masked by SHA, default first."""
        body = self._call("contacts", "GET", "/api/v1/patients/contacts", facility,
                          params={"patient_id": cr_id}, idempotent=True)
        items = body if isinstance(body, list) else body.get("contacts", [])
        contacts = [_contact(item) for item in items if _usable(item)]

        return sorted(contacts, key=lambda contact: not contact.default)

    def send_otp(self, cr_id: str, contact_id: str | None, facility: str,
                 intervention_codes: list[str]) -> OtpDispatch:
        payload: dict[str, Any] = {"patient_id": cr_id, "intervention_codes": intervention_codes}
        if contact_id:
            payload["contact_id"] = contact_id
        body = self._call("send_otp", "POST", "/api/v1/claims/otp", facility,
                          json=payload, idempotent=False)

        sha_reference = body.get("consent_request_id") if isinstance(body, dict) else None
        sha_reference = str(sha_reference) if sha_reference else None
        if sha_reference and _SHOWABLE_REFERENCE.match(sha_reference):
            return OtpDispatch(reference=sha_reference, sha_reference=sha_reference)

        return OtpDispatch(reference=mint_reference(), sha_reference=sha_reference)

    def start_visit(self, cr_id: str, otp: str, facility: str, *, service_type: str,
                    intervention_codes: list[str], consent_request_id: str = "") -> Visit:
        """Verify the patient's OTP and open the visit; SHA answers with a consent token."""
        payload: dict[str, Any] = {"patient_id": cr_id, "service_type": service_type,
                                   "intervention_codes": intervention_codes, "otp": otp}
        if consent_request_id:
            payload["consent_request_id"] = consent_request_id
        body = self._call("start_visit", "POST", "/api/v1/claims/visit", facility,
                          json=payload, idempotent=False)
        if not isinstance(body, dict) or not (body.get("visit_id") or body.get("token")):
            raise OutcomeUnknown("start_visit", "answer named no visit")

        return Visit(visit_id=str(body.get("visit_id") or body.get("id") or ""),
                     consent_token=str(body.get("token") or body.get("consent_token") or ""))

    def _call(self, call: str, method: str, path: str, facility: str, *,
              idempotent: bool, **kwargs: Any) -> Any:
        # A 401 on a cached token means SHA dropped it early: SHA refused the
        # request before acting, so one retry with a fresh token is safe.
        for attempt in (1, 2):
            try:
                bearer = self._bearer(force=attempt == 2)
            except UpstreamError as error:
                error.purpose = call
                raise
            headers = {
                "Authorization": f"Bearer {bearer}",
                "X-Facility-Id": facility,
                "X-Facility-Id-Type": "fr-code",
            }
            try:
                return self._request(call, method, path, headers=headers,
                                     idempotent=idempotent, **kwargs)
            except Unauthorized:
                if attempt == 2:
                    raise

        raise AssertionError("unreachable")

    def _bearer(self, *, force: bool) -> str:
        with self._token_lock:
            now = time.monotonic()
            if force or self._token is None or self._token[1] <= now:
                body = self._request("token", "POST", "/api/v1/tenants/token",
                                     data=self._credentials, idempotent=True)
                token, lifetime = _token_fields(body)
                self._token = (token, now + max(lifetime - TOKEN_REFRESH_MARGIN, 1.0))

            return self._token[0]

    def _request(self, call: str, method: str, path: str, *, idempotent: bool,
                 **kwargs: Any) -> Any:
        timeout = self._time_left(call)
        started = time.monotonic()
        outcome = "ok"
        try:
            response = self._http.request(method, self.base_url + path,
                                          timeout=timeout, **kwargs)
            if response.status_code >= 300:
                raise map_failure(call, response=response, idempotent=idempotent)
            return _json(call, response, idempotent)
        except requests.RequestException as exc:
            error = map_failure(call, exc=exc, idempotent=idempotent)
            outcome = type(error).__name__
            raise error from None
        except UpstreamError as error:
            outcome = type(error).__name__
            raise
        finally:
            self._observe(call, time.monotonic() - started, outcome)

    def _time_left(self, call: str) -> tuple[float, float]:
        """The call's (connect, read) timeout, cut to what the deadline leaves."""
        deadline = getattr(self._local, "deadline", None)
        if deadline is None:
            return self._timeout
        left = deadline - time.monotonic()
        if left < MIN_CALL_SECONDS:
            # Not sent at all, so safe to retry later.
            raise Unavailable(call, "no time left before the hop's deadline")

        return (min(self._timeout[0], left), min(self._timeout[1], left))


def map_failure(call: str, *, response: requests.Response | None = None,
                exc: requests.RequestException | None = None,
                idempotent: bool) -> UpstreamError:
    """Turn a failed HTTP exchange into the error that says what to do next."""
    if exc is not None:
        if _never_sent(exc):
            return Unavailable(call, f"could not connect ({type(exc).__name__})")
        if not idempotent:
            # Read timeouts and dropped connections: SHA may have sent the OTP.
            return OutcomeUnknown(call, f"no complete answer ({type(exc).__name__})")
        return Unavailable(call, f"transport failure ({type(exc).__name__})")

    assert response is not None
    status = response.status_code
    message, trace_id, code = _error_fields(response)
    known = {"status": status, "trace_id": trace_id, "code": code}
    if status == 401:
        return Unauthorized(call, message, **known)
    if status == 404:
        return NotFound(call, message, **known)
    if status == 429:
        return Throttled(call, message, **known)
    if 400 <= status < 500:
        return Rejected(call, message, **known)

    if idempotent or status in _NOT_PROCESSED:
        return Unavailable(call, f"HTTP {status}", retry_safe=True, **known)

    # A 500 or a gateway timeout on a send: SHA may have texted the OTP.
    return OutcomeUnknown(call, f"HTTP {status}", **known)


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the connection was never made, so SHA cannot have acted."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None

    # urllib3 raises NewConnectionError (a ConnectTimeoutError) for refusals
    # and failed name lookups, before a byte of the request is written.
    return isinstance(reason, urllib3.exceptions.ConnectTimeoutError)


def _json(call: str, response: requests.Response, idempotent: bool) -> Any:
    try:
        return response.json()
    except ValueError:
        # A success we cannot read: on a send, SHA may well have acted on it.
        error = Unavailable if idempotent else OutcomeUnknown
        raise error(call, "answer was not JSON", status=response.status_code) from None


def _error_fields(response: requests.Response) -> tuple[str, str | None, str]:
    """SHA's ``{error, message, trace_id}``; its messages are free text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}", None, ""
    message = body.get("message") or body.get("error") or f"HTTP {response.status_code}"

    return str(message), body.get("trace_id"), str(body.get("error") or "")


def _token_fields(body: Any) -> tuple[str, float]:
    try:
        return str(body["access_token"]), float(body.get("expires_in", 3600))
    except (KeyError, TypeError, ValueError):
        raise Unavailable("token", "token answer had no access_token") from None


def _usable(item: Any) -> bool:
    """An active phone contact; SHA may list e-mail addresses too."""
    if not isinstance(item, dict) or not item.get("id") or item.get("active") is False:
        return False
    kind = str(item.get("contactType") or "PHONE").upper()

    return kind in _PHONE_TYPES and bool(_masked_value(item))


def _contact(item: dict[str, Any]) -> Contact:
    # ``isDefault`` is not in SHA's published fields: without it, the first
    # contact SHA lists is offered first and none is marked.
    return Contact(id=str(item["id"])[:40], masked=_masked_value(item),
                   default=bool(item.get("isDefault", False)))


def _masked_value(item: dict[str, Any]) -> str:
    """SHA's masked number, kept to what a screen can show (digits, '+', '*')."""
    return "".join(c for c in str(item.get("contactValue", "")) if c in _MASK_CHARS)[:16]
