"""Every Redis key the gateway uses, built here and nowhere else, TTL beside it.

All keys share the configured prefix, so several deployments (or test runs)
can share one Redis without seeing each other.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    name: str
    ttl: int | None  # seconds; None means the key lives until it is replaced


class Keys:
    def __init__(self, prefix: str, *, session_ttl: int, consent_ttl: int,
                 secret: bytes) -> None:
        self.prefix = prefix
        self.session_ttl = session_ttl
        self.consent_ttl = consent_ttl
        self._secret = secret

    def fingerprint(self, text: str) -> str:
        """A keyed digest of a hop's text. The text may hold an OTP, and five
        digits are quick to guess from a plain hash, so only this is stored."""
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()[:32]

    def session(self, session_id: str) -> Key:
        """A USSD session's state; outlives Africa's Talking's 180 s sessions."""
        return Key(f"{self.prefix}ussd:session:{session_id}", self.session_ttl)

    def hop(self, session_id: str, text: str) -> Key:
        """The claim on one (sessionId, text) hop, then its stored reply."""
        return Key(f"{self.prefix}ussd:hop:{session_id}:{self.fingerprint(text)}",
                   self.session_ttl)

    def session_end(self, session_id: str) -> Key:
        """How Africa's Talking says a session ended; kept as long as the consents it made."""
        return Key(f"{self.prefix}ussd:end:{session_id}", self.consent_ttl)

    def failed_sessions(self) -> Key:
        """Ids of sessions that ended Failed or Incomplete, scored by when we heard."""
        return Key(f"{self.prefix}ussd:ends:failed", self.consent_ttl)

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

    def consents_by_phone_tail(self, last_digits: str) -> Key:
        """References whose OTP went to a number ending in these 3 digits, scored
        by creation time: how a patient's SMS reply finds its request, since SHA
        only shows masked numbers. Entries older than a consent are trimmed."""
        return Key(f"{self.prefix}consent:by-tail:{last_digits}", self.consent_ttl)

    def consent_lock(self, reference: str) -> Key:
        """Held while a code is checked or a new one sent, so that USSD, SMS and
        resends never race; it outlives the longest such call (two SHA calls)."""
        return Key(f"{self.prefix}consent:lock:{reference}", 30)

    def patient_sends(self, cr_id: str) -> Key:
        """Times of the OTP sends to one patient; the limit window is 10 min."""
        return Key(f"{self.prefix}limit:patient:{cr_id}", 3600)

    def daily_sends(self, who: str, day: str) -> Key:
        """OTP sends by one health worker or facility on one day (in Kenya)."""
        return Key(f"{self.prefix}limit:day:{day}:{who}", 2 * 86400)

    def audit(self) -> Key:
        """The append-only trail of consent events (a stream, never trimmed)."""
        return Key(f"{self.prefix}audit", None)

    def sms(self, message_id: str) -> Key:
        """An SMS we sent: its purpose and delivery status, by AT's messageId."""
        return Key(f"{self.prefix}sms:{message_id}", self.consent_ttl)

    def worker_notice(self, worker_phone: str) -> Key:
        """A line for the health worker's next main menu (an SMS to their patient failed)."""
        return Key(f"{self.prefix}worker:{worker_phone}:notice", self.consent_ttl)

    def unsolicited_replies(self, sender: str) -> Key:
        """Help replies sent to one number this hour: each costs us an SMS."""
        return Key(f"{self.prefix}sms:replies:{sender}", 3600)

    def inbound_sms(self, message_id: str) -> Key:
        """Marks an incoming SMS as handled; AT repeats unacknowledged ones."""
        return Key(f"{self.prefix}sms:in:{message_id}", 2 * 86400)
