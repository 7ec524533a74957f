"""The sandbox's memory: its data file, tokens, OTPs, outbox and injected faults."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKEN_LIFETIME = 3600


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


@dataclass
class SandboxState:
    data: dict[str, Any]
    tokens: set[str] = field(default_factory=set)
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
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens.add(token)

        return token

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
            self.otps[request_id] = Otp(code=code, cr_id=cr_id, contact_id=contact["id"],
                                        phone=contact["phone"], issued_at=time.time())
        self.deliver(contact["phone"], f"Your SHA consent code is {code}. It expires in "
                     "10 minutes. Share it only with your health worker.", sender="SHA")

        return code, request_id

    def deliver(self, to: str, text: str, *, sender: str) -> None:
        with self.lock:
            self.outbox.append({"to": to, "from": sender, "text": text, "time": time.time()})

    def messages_to(self, phone: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.outbox if m["to"] == phone]
