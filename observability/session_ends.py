"""USSD session-end notices, kept per session so a failed session can be found.

Africa's Talking posts one notice when a session closes, however it closed. We
keep what helps an operator see where sessions die (status, hops, duration, the
last screen, AT's error) and nothing that could identify a person: the phone is
masked, the last screen and error are redacted, and the session's ``input`` is
never kept, since it holds the CR IDs and OTPs the health worker typed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis

from consent.identifiers import mask_phone
from observability.redact import redact_text
from sessions.keys import Keys

# The failed-session list is for a person to read, newest first: older ids
# fall off here, and their records expire with their own TTL.
MAX_FAILED_KEPT = 1000


@dataclass(frozen=True)
class SessionEnd:
    """One session-end notice, as validated at the edge."""

    session_id: str
    phone: str
    status: str
    network_code: str
    date: str
    cost: str
    duration_ms: int
    hops: int
    last_screen: str
    error: str

    @property
    def failed(self) -> bool:
        """Failed or Incomplete: the session closed before its END screen."""
        return self.status != "Success"


class SessionEnds:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis = client
        self.keys = keys

    def record(self, end: SessionEnd) -> bool:
        """Keep the notice; False when it was already kept (AT repeats notices)."""
        key = self.keys.session_end(end.session_id)
        received = time.time()
        stored = self.redis.set(key.name, json.dumps(_summary(end, received)), nx=True,
                                ex=key.ttl)
        if not stored:
            return False

        if end.failed:
            failed = self.keys.failed_sessions()
            pipe = self.redis.pipeline(transaction=False)
            pipe.zadd(failed.name, {end.session_id: received})
            pipe.zremrangebyrank(failed.name, 0, -MAX_FAILED_KEPT - 1)
            pipe.expire(failed.name, failed.ttl)
            pipe.execute()

        return True

    def recent_failed(self, limit: int) -> list[dict[str, object]]:
        """The last ``limit`` failed or incomplete sessions, newest first."""
        ids = self.redis.zrevrange(self.keys.failed_sessions().name, 0, limit - 1)
        if not ids:
            return []
        raw = self.redis.mget([self.keys.session_end(session_id).name for session_id in ids])

        return [json.loads(item) for item in raw if item]


def _summary(end: SessionEnd, received: float) -> dict[str, object]:
    return {
        "session": end.session_id, "phone": mask_phone(end.phone), "status": end.status,
        "network": end.network_code, "date": end.date, "received": round(received, 3),
        "cost": end.cost, "duration_ms": end.duration_ms, "hops": end.hops,
        "last_screen": redact_text(end.last_screen), "error": redact_text(end.error),
    }
