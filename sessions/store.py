"""USSD session state in Redis, two round trips per hop.

A hop first *claims* its (sessionId, text) pair, reading the session and the
health worker's record in the same round trip; it then stores the new state and
its reply in a second. A repeated hop finds the claim taken and answers with the
stored reply, or waits briefly for the first copy to finish. Session state fails
closed: when Redis cannot be read, the caller ends the session politely rather
than guessing.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

import redis

from sessions.keys import Keys

# Marks a hop whose reply is still being computed by another request.
IN_FLIGHT = "\x00in-flight"

# How long a duplicate waits for the first copy of its hop; AT gives 15 s.
# It looks often at first (most hops take milliseconds), then every 250 ms.
DUPLICATE_WAIT_SECONDS = 12.0
DUPLICATE_POLL_SECONDS = (0.02, 0.05, 0.1, 0.25)


@dataclass
class HopStart:
    claimed: bool
    stored_reply: str | None
    state: dict[str, Any] | None
    worker: dict[str, str]
    notice: str | None


class SessionStore:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis = client
        self.keys = keys

    def begin(self, session_id: str, text: str, phone: str) -> HopStart:
        """Claim the hop and read everything the menu needs, in one round trip."""
        hop = self.keys.hop(session_id, text)
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(hop.name, IN_FLIGHT, nx=True, ex=hop.ttl)
        pipe.get(hop.name)
        pipe.get(self.keys.session(session_id).name)
        pipe.hgetall(self.keys.worker(phone).name)
        pipe.get(self.keys.worker_notice(phone).name)
        claimed, current, state, worker, notice = pipe.execute()

        return HopStart(
            claimed=bool(claimed),
            stored_reply=None if claimed or current == IN_FLIGHT else current,
            state=json.loads(state) if state else None,
            worker=worker,
            notice=notice,
        )

    def finish(self, session_id: str, text: str, state: dict[str, Any], reply: str,
               worker_phone: str, worker_changes: dict[str, str] | None = None,
               notice_shown: bool = False) -> None:
        """Store the session's new state and this hop's reply, in one round trip."""
        session = self.keys.session(session_id)
        hop = self.keys.hop(session_id, text)
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(session.name, json.dumps(state, separators=(",", ":")), ex=session.ttl)
        pipe.set(hop.name, reply, ex=hop.ttl)
        if worker_changes:
            pipe.hset(self.keys.worker(worker_phone).name, mapping=worker_changes)
        if notice_shown:
            pipe.delete(self.keys.worker_notice(worker_phone).name)
        pipe.execute()

    def release(self, session_id: str, text: str) -> None:
        """Give up a claim whose hop failed, so a retry of it is served afresh."""
        self.redis.delete(self.keys.hop(session_id, text).name)

    def wait_for_reply(self, session_id: str, text: str,
                       timeout: float = DUPLICATE_WAIT_SECONDS) -> str | None:
        """The reply of a hop another request is computing, once it is stored."""
        hop = self.keys.hop(session_id, text)
        deadline = time.monotonic() + timeout
        for attempt in itertools.count():
            if time.monotonic() >= deadline:
                return None
            time.sleep(DUPLICATE_POLL_SECONDS[min(attempt, len(DUPLICATE_POLL_SECONDS) - 1)])
            current = self.redis.get(hop.name)
            if current is None:
                return None
            if current != IN_FLIGHT:
                return current

        raise AssertionError("unreachable")
