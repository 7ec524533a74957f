"""Consent requests, kept in Redis beyond the USSD session that made them.

A record is findable by its reference and by (health worker, CR ID). It holds
everything needed to verify the OTP and start the visit later, but never the
OTP itself: SHA generates and checks it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

import redis

from sessions.keys import Keys

OTP_SENT = "otp_sent"


@dataclass
class ConsentRecord:
    reference: str
    cr_id: str
    contact_id: str
    masked_phone: str
    worker: str
    facility: str
    status: str
    created_at: float
    expires_at: float
    sha_reference: str = ""
    send_count: int = 1
    wrong_codes: int = 0

    def to_hash(self) -> dict[str, str]:
        return {name: str(value) for name, value in asdict(self).items()}

    @classmethod
    def from_hash(cls, data: Mapping[str, str]) -> ConsentRecord:
        types = {field.name: field.type for field in fields(cls)}
        values = {}
        for name, raw in data.items():
            kind = types.get(name)
            if kind is None:
                continue
            values[name] = float(raw) if kind == "float" else int(raw) if kind == "int" else raw

        return cls(**values)


class ConsentRecords:
    def __init__(self, client: redis.Redis, keys: Keys, *, otp_lifetime: int) -> None:
        self.redis = client
        self.keys = keys
        self.otp_lifetime = otp_lifetime

    def new(self, *, reference: str, sha_reference: str | None, cr_id: str, contact_id: str,
            masked_phone: str, worker: str, facility: str) -> ConsentRecord:
        now = time.time()

        return ConsentRecord(reference=reference, sha_reference=sha_reference or "",
                             cr_id=cr_id, contact_id=contact_id, masked_phone=masked_phone,
                             worker=worker, facility=facility, status=OTP_SENT,
                             created_at=now, expires_at=now + self.otp_lifetime)

    def save(self, record: ConsentRecord) -> None:
        """Write the record and both of its indexes in one round trip."""
        key = self.keys.consent(record.reference)
        by_patient = self.keys.consent_by_patient(record.worker, record.cr_id)
        by_worker = self.keys.worker_consents(record.worker)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key.name, mapping=record.to_hash())
        pipe.expire(key.name, key.ttl)
        pipe.set(by_patient.name, record.reference, ex=by_patient.ttl)
        pipe.zadd(by_worker.name, {record.reference: record.created_at})
        pipe.expire(by_worker.name, by_worker.ttl)
        pipe.execute()

    def get(self, reference: str) -> ConsentRecord | None:
        data = self.redis.hgetall(self.keys.consent(reference).name)

        return ConsentRecord.from_hash(data) if data else None

    def latest_for_patient(self, worker: str, cr_id: str) -> ConsentRecord | None:
        reference = self.redis.get(self.keys.consent_by_patient(worker, cr_id).name)

        return self.get(reference) if reference else None
