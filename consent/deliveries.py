"""Delivery reports for the SMS we sent, from Africa's Talking.

AT's statuses map onto three: ``pending`` (Sent, Submitted, Buffered),
``delivered`` (Success) and ``failed`` (Rejected, Failed, and Expired, which
AT sends in production though its documentation omits it). Reports arrive
out of order and more than once, so a final state is never overwritten: the
check and the write are one Lua script.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis

from consent import audit
from consent.audit import AuditTrail
from consent.identifiers import mask_cr_id
from consent.records import ConsentRecords
from sessions.keys import Keys

log = logging.getLogger(__name__)

IN_TRANSIT, DELIVERED, UNDELIVERED = "pending", "delivered", "failed"
AT_STATUSES = {"Sent": IN_TRANSIT, "Submitted": IN_TRANSIT, "Buffered": IN_TRANSIT,
               "Success": DELIVERED,
               "Rejected": UNDELIVERED, "Failed": UNDELIVERED, "Expired": UNDELIVERED}

# KEYS: the SMS record. ARGV: AT's status, our state, failure reason.
# Returns 'unknown', 'kept' (already final, or the same report again) or 'updated'.
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
local current = redis.call('HMGET', KEYS[1], 'final', 'status')
if current[1] == '1' or current[2] == ARGV[1] then return 'kept' end
local final = '0'
if ARGV[2] ~= 'pending' then final = '1' end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'state', ARGV[2], 'final', final,
           'failure', ARGV[3])
return 'updated'
"""


@dataclass(frozen=True)
class DeliveryReport:
    message_id: str
    status: str
    phone: str
    failure_reason: str


class DeliveryReports:
    def __init__(self, client: redis.Redis, keys: Keys, records: ConsentRecords,
                 trail: AuditTrail) -> None:
        self.redis = client
        self.keys = keys
        self.records = records
        self.trail = trail
        self._update = client.register_script(_UPDATE)

    def record(self, report: DeliveryReport) -> str:
        """Apply one report; the outcome (updated, kept, unknown) is for the log."""
        state = AT_STATUSES[report.status]
        key = self.keys.sms(report.message_id).name
        outcome = self._update(keys=[key], args=[report.status, state, report.failure_reason])
        if outcome == "unknown":
            log.warning("delivery report for an unknown message status=%s", report.status)
        if outcome != "updated" or state == IN_TRANSIT:
            return outcome

        self._tell(self.redis.hgetall(key), report, state)

        return outcome

    def _tell(self, sms: dict[str, str], report: DeliveryReport, state: str) -> None:
        """Put a final status in the consent's history; flag a patient SMS that failed."""
        record = self.records.get(sms.get("reference", "")) if sms.get("reference") else None
        if record is None:
            return
        self.trail.append(self.trail.event(
            audit.SMS_STATUS, reference=record.reference, worker=record.worker,
            facility=record.facility, cr_id=record.cr_id, channel="sms",
            outcome=state, detail=f"{sms.get('purpose', '')} {report.failure_reason}".strip()))
        if state == UNDELIVERED and sms.get("purpose", "").startswith("sms.patient."):
            notice = self.keys.worker_notice(record.worker)
            self.redis.set(notice.name, mask_cr_id(record.cr_id), ex=notice.ttl)
