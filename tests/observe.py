"""Reading the gateway's metrics and Redis state from tests."""

from __future__ import annotations

import redis
from prometheus_client import REGISTRY


def sample(name: str, **labels: str) -> float:
    """A metric's current value in this process (0 when never touched)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def keys_under(redis_client: redis.Redis, prefix: str) -> set[str]:
    return set(redis_client.scan_iter(match=prefix + "*"))
