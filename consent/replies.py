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
from consent.records import PENDING, VERIFIED, ConsentRecords
from consent.registry import Registry
from consent.workflow import ConsentError, ConsentWorkflow
from sessions.keys import Keys
from upstream.errors import UpstreamError

# A reply is a code when, spaces aside, it holds one run of 4 to 8 digits and
# little else ("12345", "OTP 12345", "code: 12 345").
_CODE = re.compile(r"(?<![0-9])([0-9]{4,8})(?![0-9])")


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
        code = extract_code(sms.text)
        if code is None:
            return self._reply(sms, "help", DEFAULT_LANGUAGE)
        mine = self.records.for_phone(sms.sender)
        pending = [r for r in mine if r.status in PENDING]
        if len(pending) > 1:
            return self._reply(sms, "ambiguous", DEFAULT_LANGUAGE)
        if not pending:
            verified = next((r for r in mine if r.status == VERIFIED), None)
            if verified is None:
                return self._reply(sms, "none", DEFAULT_LANGUAGE)
            pending = [verified]

        record = pending[0]
        worker = self.registry.get(record.worker)
        language = worker.language if worker else DEFAULT_LANGUAGE
        try:
            result = self.workflow.verify(record.reference, code, channel="sms",
                                          patient_phone=sms.sender)
        except (ConsentError, UpstreamError):
            return self._reply(sms, "unavailable", language, reference=record.reference)
        if result.outcome == "verified":
            return "verified"

        return self._reply(sms, result.outcome, language, reference=record.reference,
                           left=result.attempts_left, visit=result.record.visit_reference)

    def _reply(self, sms: InboundSms, outcome: str, language: str, *, reference: str = "",
               **params: object) -> str:
        self.notifier.send_later(sms.sender, f"sms.patient.{outcome}", language,
                                 reference=reference, worker="", **params)

        return outcome


def extract_code(text: str) -> str | None:
    """The code in a reply, or None when the reply is not (just) a code."""
    compact = re.sub(r"(?<=[0-9]) (?=[0-9])", "", text.strip())
    codes = _CODE.findall(compact)
    letters = sum(char.isalpha() for char in compact)
    if len(codes) != 1 or letters > 12:
        return None

    return codes[0]
