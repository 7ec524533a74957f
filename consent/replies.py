"""A patient's SMS reply to our short code: find their request, check the code.

SHA shows us only masked numbers, so the sender is matched against the masked
number each pending request's OTP went to. No match, or more than one, gets a
short helpful reply and nothing is verified. Africa's Talking repeats messages
it thinks were not acknowledged, so each message id is handled once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import redis

from config.messages import DEFAULT_LANGUAGE
from consent.notify import Notifier
from consent.records import EXPIRED, LOCKED, OTP_SENT, VERIFIED, ConsentRecord, ConsentRecords
from consent.registry import Registry
from consent.workflow import ConsentError, ConsentWorkflow
from sessions.keys import Keys
from upstream.errors import UpstreamError

# Statuses a reply is told about when no request awaits a code.
_TOLD_APART = (EXPIRED, VERIFIED, LOCKED)

# Help, "no request" and "ambiguous" replies to one number in an hour.
MAX_HELP_REPLIES_PER_HOUR = 3


@dataclass(frozen=True)
class InboundSms:
    message_id: str
    sender: str
    text: str


class PatientReplies:
    def __init__(self, workflow: ConsentWorkflow, records: ConsentRecords, registry: Registry,
                 notifier: Notifier, client: redis.Redis, keys: Keys) -> None:
        self.workflow = workflow
        self.records = records
        self.registry = registry
        self.notifier = notifier
        self.redis = client
        self.keys = keys

    def handle(self, sms: InboundSms) -> str:
        """Answer one incoming SMS; the outcome names what was done, for the log."""
        seen = self.keys.inbound_sms(sms.message_id)
        if not self.redis.set(seen.name, "1", nx=True, ex=seen.ttl):
            return "duplicate"
        try:
            return self._answer(sms)
        except BaseException:
            # Let Africa's Talking's retry of this message be handled afresh.
            self.redis.delete(seen.name)
            raise

    def _answer(self, sms: InboundSms) -> str:
        code = extract_code(sms.text, self.workflow.policy.otp_digits)
        if code is None:
            return self._help(sms, "help")
        record = self._request_for(sms.sender)
        if record is None or isinstance(record, list):
            return self._help(sms, "ambiguous" if record else "none")

        worker = self.registry.get(record.worker)
        language = worker.language if worker else DEFAULT_LANGUAGE
        try:
            result = self.workflow.verify(record.reference, code, channel="sms",
                                          language=language, patient_phone=sms.sender)
        except (ConsentError, UpstreamError):
            return self._reply(sms, "unavailable", language, record.reference)
        if result.outcome == "verified":
            return "verified"

        return self._reply(sms, result.outcome, language, record.reference,
                           left=result.attempts_left, visit=result.record.visit_reference)

    def _request_for(self, sender: str) -> ConsentRecord | list[ConsentRecord] | None:
        """The one request awaiting this sender's code; several (ambiguous); or, when
        none awaits one, the newest that ended, so the reply can say how."""
        mine = self.records.for_phone(sender)
        now = self.workflow.clock.now()
        waiting = [r for r in mine if r.effective_status(now) == OTP_SENT]
        if len(waiting) > 1:
            return waiting
        if waiting:
            return waiting[0]

        return next((r for r in mine if r.effective_status(now) in _TOLD_APART), None)

    def _help(self, sms: InboundSms, outcome: str) -> str:
        """A reply that verifies nothing: capped per sender, since each one costs an
        SMS and anyone can text our short code."""
        sent = self.keys.unsolicited_replies(sms.sender)
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(sent.name)
        pipe.expire(sent.name, sent.ttl, nx=True)
        count, _ = pipe.execute()
        if count > MAX_HELP_REPLIES_PER_HOUR:
            return outcome + ":unanswered"

        return self._reply(sms, outcome, DEFAULT_LANGUAGE, "")

    def _reply(self, sms: InboundSms, outcome: str, language: str, reference: str,
               **params: object) -> str:
        self.notifier.send_later(sms.sender, f"sms.patient.{outcome}", language,
                                 reference=reference, worker="", **params)

        return outcome


def extract_code(text: str, digits: int) -> str | None:
    """The code in a reply ("12345", "OTP 12345", "code: 12 345"), or None when the
    reply is not (just) a code of ``digits`` digits."""
    compact = re.sub(r"(?<=[0-9]) (?=[0-9])", "", text.strip())
    codes = re.findall(r"(?<![0-9])([0-9]+)(?![0-9])", compact)
    letters = sum(char.isalpha() for char in compact)
    if len(codes) != 1 or len(codes[0]) != digits or letters > 12:
        return None

    return codes[0]
