"""The sandbox's memory: its data file, tokens, OTPs, outbox and injected faults."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKEN_LIFETIME = 3600
OTP_LIFETIME = 600
MAX_ATTEMPTS = 5


@dataclass
class Fault:
    """Makes the next ``times`` calls of one kind misbehave."""

    status: int = 503
    delay: float = 0.0
    body: str | None = None
    times: int = 1


@dataclass
class Otp:
    code: str
    cr_id: str
    contact_id: str
    phone: str
    issued_at: float
    attempts: int = 0
    used: bool = False
    expired: bool = False


@dataclass
class SandboxState:
    data: dict[str, Any]
    otps: dict[str, Otp] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, Fault] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, path: Path) -> SandboxState:
        return cls(data=json.loads(path.read_text(encoding="utf-8")))

    def patient(self, cr_id: str) -> dict[str, Any] | None:
        return next((p for p in self.data.get("patients", []) if p.get("cr_id") == cr_id), None)

    def facility_known(self, code: str) -> bool:
        return any(f.get("fr_code") == code for f in self.data.get("facilities", []))

    def client_ok(self, client_id: str, secret: str) -> bool:
        clients = self.data.get("clients") or [
            {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
        ]
        return any(secrets.compare_digest(c["client_id"], client_id)
                   and secrets.compare_digest(c["client_secret"], secret) for c in clients)

    def issue_token(self) -> str:
        """A signed token, so that every worker process of the sandbox accepts it."""
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{self._sign(nonce)}"

    def token_ok(self, token: str) -> bool:
        nonce, _, signature = token.partition(".")
        return bool(nonce) and hmac.compare_digest(signature, self._sign(nonce))

    def _sign(self, nonce: str) -> str:
        key = json.dumps(self.data.get("clients", []), sort_keys=True).encode()
        return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()[:32]

    def count(self, call: str) -> Fault | None:
        """Count a call and hand back the fault to apply to it, if any."""
        with self.lock:
            self.calls[call] = self.calls.get(call, 0) + 1
            fault = self.faults.get(call)
            if fault is None:
                return None
            fault.times -= 1
            if fault.times <= 0:
                del self.faults[call]

            return fault

    def issue_otp(self, cr_id: str, contact: dict[str, Any]) -> tuple[str, str]:
        """A fresh 5-digit code and its consent request id; the SMS goes to the outbox."""
        code = f"{secrets.randbelow(100000):05d}"
        request_id = secrets.token_hex(8)
        with self.lock:
            # A new code supersedes the patient's earlier ones.
            for earlier in self.otps.values():
                if earlier.cr_id == cr_id:
                    earlier.used = True
            self.otps[request_id] = Otp(code=code, cr_id=cr_id, contact_id=contact["id"],
                                        phone=contact["phone"], issued_at=time.time())
        self.deliver(contact["phone"], f"Your SHA consent code is {code}. It expires in "
                     "10 minutes. Share it only with your health worker.", sender="SHA")

        return code, request_id

    def check_otp(self, cr_id: str, code: str, request_id: str) -> tuple[int, dict[str, str]]:
        """SHA's start-visit verdict on a code: (HTTP status, body)."""
        with self.lock:
            otp = self.otps.get(request_id) if request_id else None
            if otp is None or otp.cr_id != cr_id:
                otp = next((o for o in reversed(self.otps.values()) if o.cr_id == cr_id), None)
            if otp is None:
                return 400, {"error": "no_otp", "message": "No OTP was requested"}
            if otp.expired or time.time() - otp.issued_at > OTP_LIFETIME:
                return 400, {"error": "otp_expired", "message": "OTP has expired"}
            if otp.attempts >= MAX_ATTEMPTS:
                return 400, {"error": "otp_locked", "message": "Too many failed attempts"}
            if otp.used or not hmac.compare_digest(otp.code, code):
                otp.attempts += 1
                return 400, {"error": "invalid_otp", "message": "Invalid OTP"}
            otp.used = True

        return 200, {"visit_id": "V-" + secrets.token_hex(5).upper(),
                     "token": secrets.token_urlsafe(24), "message": "Visit started"}

    def expire(self, cr_id: str) -> int:
        with self.lock:
            found = [o for o in self.otps.values() if o.cr_id == cr_id]
            for otp in found:
                otp.expired = True

        return len(found)

    def deliver(self, to: str, text: str, *, sender: str, message_id: str = "") -> None:
        with self.lock:
            self.outbox.append({"to": to, "from": sender, "text": text, "time": time.time(),
                                "id": message_id})

    def messages_to(self, phone: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.outbox if m["to"] == phone]
