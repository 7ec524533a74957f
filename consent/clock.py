"""The gateway's notion of now, in one place, so tests can move it forward.

Expiry and send limits are computed from stored timestamps against this clock,
never from Redis TTLs, so that a test can step past an OTP's ten minutes.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def day(self) -> str:
        """Today's UTC date, for daily caps."""
        return datetime.fromtimestamp(self.now(), UTC).strftime("%Y%m%d")

    def seconds_to_midnight(self) -> int:
        return int(86400 - self.now() % 86400) + 1

    def iso(self, at: float | None = None) -> str:
        moment = self.now() if at is None else at
        return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")
