"""Texts we send to people ourselves: outcomes to health workers and patients.

Each SMS is remembered by AT's messageId, with what it was for, so that a
delivery report can be tied back to its consent request. Sending never raises:
a notification that fails is logged and the consent stands.

SMS go out on a small thread pool, after the reply: a USSD hop that verified a
code must answer within Africa's Talking's 15 s even when the SMS gateway is
slow, and the screen already tells the health worker the SMS is on its way.
An SMS that AT refuses, or one still queued when the process is killed, is not
sent again; that stays so until outcome SMS move to a durable queue (rq on the
same Redis would do), where a retryable failure could wait its turn.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

import redis

from config.messages import text
from consent.clock import Clock
from consent.identifiers import mask_phone
from observability.metrics import count_sms
from sessions.keys import Keys
from upstream.sms import SmsResult, SmsSender

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, sender: SmsSender, client: redis.Redis, keys: Keys, clock: Clock,
                 *, workers: int = 4) -> None:
        self.sender = sender
        self.redis = client
        self.keys = keys
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sms")
        self._pending: set[Future[SmsResult]] = set()
        self._lock = threading.Lock()

    def send_later(self, to: str, key: str, language: str, *, reference: str, worker: str,
                   **params: object) -> None:
        """Queue :meth:`send` to run after the current request has answered."""
        future = self._pool.submit(self.send, to, key, language, reference=reference,
                                   worker=worker, **params)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def drain(self, timeout: float = 10.0) -> None:
        """Wait for queued SMS to be handed to the gateway (for tests and shutdown)."""
        with self._lock:
            pending = set(self._pending)
        wait(pending, timeout=timeout)

    def _forget(self, future: Future[SmsResult]) -> None:
        with self._lock:
            self._pending.discard(future)
        error = future.exception()
        if error is not None:
            # send() catches what AT and the network throw; this is our own bug.
            log.error("sms not sent: %s", type(error).__name__, exc_info=error)

    def send(self, to: str, key: str, language: str, *, reference: str, worker: str,
             **params: object) -> SmsResult:
        """Text ``to`` the catalog message ``key``, and remember the message."""
        result = self.sender.send(to, text(language, key, **params))
        count_sms("Sent" if result.accepted else result.status)
        if not result.accepted:
            log.warning("sms not accepted to=%s purpose=%s status=%s", mask_phone(to), key,
                        result.status)
        if result.accepted and result.message_id:
            self._remember(result, to, key, reference, worker)

        return result

    def _remember(self, result: SmsResult, to: str, key: str, reference: str,
                  worker: str) -> None:
        """Keep what a delivery report will need to find this SMS's consent."""
        record = self.keys.sms(result.message_id)
        try:
            # AT says "Success" on acceptance; the delivery report's "Success"
            # means delivered. Until a report comes, an accepted SMS is "Sent".
            pipe = self.redis.pipeline(transaction=False)
            pipe.hset(record.name, mapping={
                "purpose": key, "reference": reference, "worker": worker,
                "to": mask_phone(to), "status": "Sent", "state": "pending", "final": "0",
                "sent_at": str(self.clock.now()),
            })
            pipe.expire(record.name, record.ttl)
            pipe.execute()
        except redis.RedisError as error:
            log.warning("sms record not saved: %s", type(error).__name__)
