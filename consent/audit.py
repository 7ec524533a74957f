"""The consent audit trail: an append-only Redis stream of who did what, when.

The Kenya Data Protection Act (s.32) asks the controller to be able to prove
consent. Each event names the health worker (their registry phone: staff, not
patient), the patient by masked CR ID, the facility, the time and the outcome.
No OTP or token is ever part of an event.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import redis

from consent.clock import Clock
from consent.identifiers import mask_cr_id
from sessions.keys import Keys

SENT, RESENT, REFUSED, SUPERSEDED = "sent", "resent", "refused", "superseded"
VERIFIED, WRONG_CODE, EXPIRED = "verified", "wrong_code", "expired"
LOCKED, FAILED = "locked", "failed"
SMS_STATUS = "sms_status"


class AuditTrail:
    def __init__(self, client: redis.Redis, keys: Keys, clock: Clock) -> None:
        self.redis = client
        self.keys = keys
        self.clock = clock

    def event(self, event: str, *, reference: str, worker: str, facility: str, cr_id: str,
              outcome: str = "ok", channel: str = "ussd", detail: str = "") -> dict[str, str]:
        """An event's fields, for :meth:`append` or for a record's own transaction."""
        return {"event": event, "reference": reference, "worker": worker,
                "facility": facility, "patient": mask_cr_id(cr_id) if cr_id else "",
                "outcome": outcome, "channel": channel, "detail": detail,
                "at": self.clock.iso()}

    def append(self, fields: dict[str, str]) -> None:
        self.redis.xadd(self.keys.audit().name, fields)

    def history(self, reference: str) -> list[dict[str, Any]]:
        """Every event of one consent request, oldest first.

        It reads the whole trail: right for an operator's command at the event
        rates one county makes, and to be replaced by an index of events by
        reference once a read of the trail takes longer than an operator waits.
        """
        return [entry for entry in self.export() if entry["reference"] == reference]

    def export(self, start_ms: int | None = None, end_ms: int | None = None,
               batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Events between two times (Unix milliseconds, inclusive), oldest first."""
        low = f"{start_ms}-0" if start_ms is not None else "-"
        high = f"{end_ms}-99999999" if end_ms is not None else "+"
        key = self.keys.audit().name
        while True:
            entries = self.redis.xrange(key, min=low, max=high, count=batch)
            for entry_id, fields in entries:
                yield {"id": entry_id, **fields}
            if len(entries) < batch:
                return
            low = "(" + entries[-1][0]
