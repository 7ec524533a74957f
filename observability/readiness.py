"""Is this process ready for traffic: does Redis answer, can SHA be reached?

Redis is asked on every probe (a PING is cheap). SHA is only dialled, a TCP
connect with a short timeout, and the answer is kept a few seconds: probes from
every worker of every instance must not add up to a load on SHA, and a connect
proves the network path without spending a token request.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# A probe answers well inside a load balancer's usual 1 s probe timeout.
CHECK_TIMEOUT_SECONDS = 0.5
SHA_CHECK_CACHE_SECONDS = 5.0

OK = "ok"


class Readiness:
    def __init__(self, ping_redis: Callable[[], object], sha_url: str, *,
                 timeout: float = CHECK_TIMEOUT_SECONDS,
                 cache_seconds: float = SHA_CHECK_CACHE_SECONDS) -> None:
        self._ping_redis = ping_redis
        self._sha_address = _address(sha_url)
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._sha_answer: tuple[float, str] | None = None
        self._sha_lock = threading.Lock()

    def checks(self) -> dict[str, str]:
        """Each dependency's state: ``ok``, or the name of what went wrong."""
        return {"redis": self._redis(), "sha": self._sha()}

    def _redis(self) -> str:
        try:
            self._ping_redis()
        except (redis.RedisError, OSError) as error:
            return type(error).__name__

        return OK

    def _sha(self) -> str:
        # One probe dials while the others wait for its answer, then share it.
        with self._sha_lock:
            now = time.monotonic()
            if self._sha_answer is None or self._sha_answer[0] <= now:
                self._sha_answer = (now + self._cache_seconds, self._dial_sha())

            return self._sha_answer[1]

    def _dial_sha(self) -> str:
        try:
            socket.create_connection(self._sha_address, timeout=self._timeout).close()
        except OSError as error:
            return type(error).__name__

        return OK


def redis_ping(url: str, timeout: float = CHECK_TIMEOUT_SECONDS) -> Callable[[], object]:
    """PING on a client of its own that never retries: a Redis that is down or
    mute costs a probe one ``timeout``, not one per attempt.

    A socket Redis closed while idle needs no retry: the pool sees it closed
    when it hands the connection out, and reconnects.
    """
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                  retry=Retry(NoBackoff(), 0))

    return client.ping


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)

    return parts.hostname or "", port
