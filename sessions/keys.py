"""Every Redis key the gateway uses, built here and nowhere else, TTL beside it.

All keys share the configured prefix, so several deployments (or test runs)
can share one Redis without seeing each other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    name: str
    ttl: int | None  # seconds; None means the key lives until it is replaced


class Keys:
    def __init__(self, prefix: str, *, session_ttl: int, consent_ttl: int) -> None:
        self.prefix = prefix
        self.session_ttl = session_ttl
        self.consent_ttl = consent_ttl

    def session(self, session_id: str) -> Key:
        """A USSD session's state; outlives Africa's Talking's 180 s sessions."""
        return Key(f"{self.prefix}ussd:session:{session_id}", self.session_ttl)

    def hop(self, session_id: str, text: str) -> Key:
        """The claim on one (sessionId, text) hop, then its stored reply."""
        digest = hashlib.sha256(text.encode()).hexdigest()[:24]

        return Key(f"{self.prefix}ussd:hop:{session_id}:{digest}", self.session_ttl)

    def worker(self, phone: str) -> Key:
        """A health worker's registry record (name, facility, language, active)."""
        return Key(f"{self.prefix}worker:{phone}", None)

    def consent(self, reference: str) -> Key:
        return Key(f"{self.prefix}consent:{reference}", self.consent_ttl)

    def consent_by_patient(self, worker_phone: str, cr_id: str) -> Key:
        """The latest consent reference a health worker holds for one patient."""
        return Key(f"{self.prefix}consent:by-patient:{worker_phone}:{cr_id}", self.consent_ttl)

    def worker_consents(self, worker_phone: str) -> Key:
        """A health worker's consent references, scored by creation time."""
        return Key(f"{self.prefix}consent:by-worker:{worker_phone}", self.consent_ttl)
