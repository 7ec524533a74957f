"""The gateway's notion of now, in one place, so tests can move it forward.

Expiry and send limits are computed from stored timestamps against this clock,
never from Redis TTLs, so that a test can step past an OTP's ten minutes.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

# Daily caps follow the health workers' day: East Africa Time, UTC+3 all year.
EAT = timezone(timedelta(hours=3), "EAT")


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def day(self) -> str:
        """Today's date in Kenya, for daily caps."""
        return datetime.fromtimestamp(self.now(), EAT).strftime("%Y%m%d")

    def seconds_to_midnight(self) -> int:
        """Seconds until the next day starts in Kenya."""
        local = self.now() + EAT.utcoffset(None).total_seconds()
        return int(86400 - local % 86400) + 1

    def iso(self) -> str:
        """Now, as an ISO 8601 UTC timestamp."""
        return datetime.fromtimestamp(self.now(), UTC).isoformat(timespec="seconds")
