"""OTP send limits: per patient, per health worker, per facility.

SMS pumping costs real money and floods patients, so every send, first or
resend, must first win a reservation here. The check and the reservation are
one Lua script, so concurrent requests can never both take the last slot. The
limits fail closed: if Redis cannot answer, :class:`LimitStoreDown` is raised
and no OTP is sent.

    cooldown    60 s between two sends to one patient (FirebaseUI's wait)
    patient     at most 3 sends to one patient in 10 minutes (Twilio refuses a 6th in 10)
    worker      a daily cap per health worker (configurable)
    facility    a daily cap per facility (configurable)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import redis

from consent.clock import Clock
from sessions.keys import Keys

# KEYS: patient sends (sorted set of times), worker day count, facility day count.
# ARGV: now, cooldown, window, per-window cap, worker cap, facility cap, member,
#       patient key TTL, day key TTL.
_RESERVE = """
local now = tonumber(ARGV[1])
local cooldown, window = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local last = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if last[2] and now - tonumber(last[2]) < cooldown then
  return {'cooldown', tostring(math.ceil(tonumber(last[2]) + cooldown - now))}
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {'patient', tostring(math.ceil(tonumber(first[2]) + window - now))}
end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[5]) then
  return {'worker', '0'}
end
if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[6]) then
  return {'facility', '0'}
end
redis.call('ZADD', KEYS[1], now, ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[8])
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[9])
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[9])
return {'ok', '0'}
"""


# The script's keys (patient, worker, facility) fall in different hash slots,
# so the limits need one Redis node, not a cluster. A cluster would need the
# three counters under one hash tag, that is, kept per facility.


class LimitStoreDown(Exception):
    """The limits could not be read; nothing may be sent."""


@dataclass(frozen=True)
class Refusal:
    reason: str        # cooldown | patient | worker | facility
    retry_after: int   # seconds until a send may be allowed


@dataclass(frozen=True)
class Reservation:
    keys: tuple[str, str, str]
    member: str


@dataclass(frozen=True)
class Limits:
    cooldown: int
    per_window: int
    window: int
    worker_per_day: int
    facility_per_day: int


class SendLimiter:
    def __init__(self, client: redis.Redis, keys: Keys, clock: Clock, limits: Limits) -> None:
        self.redis = client
        self.keys = keys
        self.clock = clock
        self.limits = limits
        self._reserve = client.register_script(_RESERVE)

    def reserve(self, cr_id: str, worker: str, facility: str) -> Reservation | Refusal:
        """Take one send slot for this patient, worker and facility, or say why not."""
        day = self.clock.day()
        patient = self.keys.patient_sends(cr_id)
        worker_day = self.keys.daily_sends("worker:" + worker, day)
        facility_day = self.keys.daily_sends("facility:" + facility, day)
        member = uuid.uuid4().hex
        limits = self.limits
        try:
            verdict, wait = self._reserve(
                keys=[patient.name, worker_day.name, facility_day.name],
                args=[self.clock.now(), limits.cooldown, limits.window, limits.per_window,
                      limits.worker_per_day, limits.facility_per_day, member, patient.ttl,
                      worker_day.ttl])
        except redis.RedisError as error:
            raise LimitStoreDown(type(error).__name__) from error

        if verdict == "ok":
            return Reservation((patient.name, worker_day.name, facility_day.name), member)
        retry_after = int(wait) if verdict in ("cooldown", "patient") else \
            self.clock.seconds_to_midnight()

        return Refusal(verdict, retry_after)

    def release(self, reservation: Reservation) -> None:
        """Give a slot back when SHA certainly sent nothing (it was never reached)."""
        patient, worker_day, facility_day = reservation.keys
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(patient, reservation.member)
        pipe.decr(worker_day)
        pipe.decr(facility_day)
        pipe.execute()
