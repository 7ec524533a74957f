"""Consent requests, kept in Redis beyond the USSD session that made them.

A record is findable by its reference, by (health worker, CR ID), by health
worker (newest first) and by the masked number its OTP went to. It holds what
verification and the visit need, but never the OTP: SHA generates and checks it.

    otp_sent --> verified             the code was right; the visit is started
             --> expired              no right code within the OTP lifetime
             --> locked               too many wrong codes; a new request is needed
             --> failed               SHA refused the request for good
             --> superseded           the worker sent a new request for the patient
    expired  --> otp_sent             a resend issues a new code
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields

import redis

from consent.clock import Clock
from consent.identifiers import masked_matches
from sessions.keys import Keys

OTP_SENT, VERIFIED, EXPIRED = "otp_sent", "verified", "expired"
LOCKED, FAILED, SUPERSEDED = "locked", "failed", "superseded"
PENDING = (OTP_SENT, EXPIRED)

# Release a lock only if it is still ours: it may have timed out and been
# taken by another request meanwhile.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# How many pending requests a health worker is offered under options 2 and 3.
PENDING_LIMIT = 20


class RecordBusy(Exception):
    """Another channel is verifying this request right now."""


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
    last_sent_at: float = 0.0
    sha_reference: str = ""
    send_count: int = 1
    wrong_codes: int = 0
    verified_at: float = 0.0
    verified_channel: str = ""
    visit_reference: str = ""
    consent_token: str = ""

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

    def effective_status(self, now: float) -> str:
        """The status, with an unanswered OTP past its lifetime counted as expired."""
        if self.status == OTP_SENT and now >= self.expires_at:
            return EXPIRED

        return self.status


class ConsentRecords:
    def __init__(self, client: redis.Redis, keys: Keys, clock: Clock, *,
                 otp_lifetime: int) -> None:
        self.redis = client
        self.keys = keys
        self.clock = clock
        self.otp_lifetime = otp_lifetime
        self._release = client.register_script(_RELEASE)

    def new(self, *, reference: str, sha_reference: str | None, cr_id: str, contact_id: str,
            masked_phone: str, worker: str, facility: str) -> ConsentRecord:
        now = self.clock.now()

        return ConsentRecord(reference=reference, sha_reference=sha_reference or "",
                             cr_id=cr_id, contact_id=contact_id, masked_phone=masked_phone,
                             worker=worker, facility=facility, status=OTP_SENT,
                             created_at=now, last_sent_at=now,
                             expires_at=now + self.otp_lifetime)

    def save(self, record: ConsentRecord, events: list[dict[str, str]] = ()) -> None:
        """Write the record, its indexes and its audit events in one transaction."""
        key = self.keys.consent(record.reference)
        by_patient = self.keys.consent_by_patient(record.worker, record.cr_id)
        by_worker = self.keys.worker_consents(record.worker)
        by_contact = self.keys.consents_by_phone_tail(record.masked_phone[-3:])
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key.name, mapping=record.to_hash())
        pipe.expire(key.name, key.ttl)
        pipe.set(by_patient.name, record.reference, ex=by_patient.ttl)
        pipe.zadd(by_worker.name, {record.reference: record.created_at})
        pipe.expire(by_worker.name, by_worker.ttl)
        pipe.zadd(by_contact.name, {record.reference: record.created_at})
        pipe.zremrangebyscore(by_contact.name, "-inf", record.created_at - by_contact.ttl)
        pipe.expire(by_contact.name, by_contact.ttl)
        for event in events:
            pipe.xadd(self.keys.audit().name, event)
        pipe.execute()

    def update(self, record: ConsentRecord, events: list[dict[str, str]] = (),
               **changes: object) -> ConsentRecord:
        """Change some fields of a stored record, with its audit events, atomically.

        A request that leaves the pending states leaves the worker's list too,
        so options 2 and 3 read only what they may offer.
        """
        for name, value in changes.items():
            setattr(record, name, value)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.keys.consent(record.reference).name,
                  mapping={name: str(value) for name, value in changes.items()})
        if record.status not in PENDING:
            pipe.zrem(self.keys.worker_consents(record.worker).name, record.reference)
        for event in events:
            pipe.xadd(self.keys.audit().name, event)
        pipe.execute()

        return record

    def get(self, reference: str) -> ConsentRecord | None:
        data = self.redis.hgetall(self.keys.consent(reference).name)

        return ConsentRecord.from_hash(data) if data else None

    def latest_for_patient(self, worker: str, cr_id: str) -> ConsentRecord | None:
        reference = self.redis.get(self.keys.consent_by_patient(worker, cr_id).name)

        return self.get(reference) if reference else None

    def pending_for_worker(self, worker: str) -> list[ConsentRecord]:
        """The worker's requests still awaiting a code (or a resend), newest first."""
        references = self.redis.zrevrange(self.keys.worker_consents(worker).name, 0,
                                          PENDING_LIMIT - 1)

        return [r for r in self._many(references) if r.status in PENDING]

    def for_phone(self, phone: str) -> list[ConsentRecord]:
        """Every kept request whose OTP may have gone to ``phone``, newest first."""
        references = self.redis.zrevrange(self.keys.consents_by_phone_tail(phone[-3:]).name,
                                          0, -1)

        return [r for r in self._many(references) if masked_matches(r.masked_phone, phone)]

    @contextmanager
    def holding(self, reference: str) -> Iterator[None]:
        """Hold the request while a code is checked or a new one sent; raise
        :class:`RecordBusy` if another request holds it."""
        lock = self.keys.consent_lock(reference)
        token = secrets.token_hex(8)
        if not self.redis.set(lock.name, token, nx=True, ex=lock.ttl):
            raise RecordBusy(reference)
        try:
            yield
        finally:
            self._release(keys=[lock.name], args=[token])

    def _many(self, references: list[str]) -> list[ConsentRecord]:
        pipe = self.redis.pipeline(transaction=False)
        for reference in references:
            pipe.hgetall(self.keys.consent(reference).name)

        return [ConsentRecord.from_hash(data) for data in pipe.execute() if data]
