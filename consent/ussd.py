"""One USSD hop, from Africa's Talking's fields to the reply body.

Africa's Talking sends the whole session's input on every hop (``1*9795…*2``);
what this hop adds is the part after the previous hop's text. Every hop is
claimed in Redis first, so a duplicate (same sessionId and text) replays the
stored reply and never repeats the work, such as an OTP send.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field

import redis

from config.messages import DEFAULT_LANGUAGE
from consent.menu import Context, Session, advance
from consent.registry import HealthWorker
from consent.screens import Screen, plain, render
from consent.workflow import ConsentError, ConsentWorkflow
from sessions.store import HopStart, SessionStore
from upstream.errors import OutcomeUnknown, Rejected, Throttled, Unauthorized, UpstreamError

log = logging.getLogger(__name__)

# Africa's Talking waits 15 s for a hop's answer. All the SHA calls of one hop
# share this much of it; the rest is for Redis, our own work and the network.
HOP_BUDGET_SECONDS = 12.0


@dataclass(frozen=True)
class Hop:
    session_id: str
    service_code: str
    phone: str
    network_code: str
    text: str


@dataclass(frozen=True)
class HopReply:
    body: str
    step: str
    outcome: str


@dataclass
class _Turn:
    """What one hop did: its reply and what must be stored with it."""

    reply: HopReply
    session: Session
    worker_changes: dict[str, str] = field(default_factory=dict)
    notice_shown: bool = False


class UssdService:
    def __init__(self, store: SessionStore, workflow: ConsentWorkflow) -> None:
        self.store = store
        self.workflow = workflow

    def handle(self, hop: Hop) -> HopReply:
        try:
            start = self.store.begin(hop.session_id, hop.text, hop.phone)
        except redis.RedisError as error:
            # Session state fails closed: without it we cannot know what the
            # health worker already did, so nothing is sent.
            log.warning("ussd session store unavailable: %s", type(error).__name__)
            return _reply(Screen("service.busy", end=True), DEFAULT_LANGUAGE, "start", "busy")
        if not start.claimed:
            return self._replay(hop, start.stored_reply)

        try:
            with self.workflow.sha.deadline(HOP_BUDGET_SECONDS):
                turn = self._run(hop, start)
        except BaseException:
            self._release(hop)
            raise
        self._finish(hop, turn)

        return turn.reply

    def _run(self, hop: Hop, start: HopStart) -> _Turn:
        worker = HealthWorker.from_record(hop.phone, start.worker)
        session = Session.from_dict(start.state) if start.state else Session()
        if start.state is None or session.ended:
            session = Session(language=worker.language if worker else DEFAULT_LANGUAGE)
        step = session.state

        if worker is None or not worker.active:
            session.ended = True
            key = "worker.unknown" if worker is None else "worker.inactive"
            return _Turn(_reply(Screen(key, end=True), session.language, step, key), session)

        ctx = Context(worker=worker, workflow=self.workflow)
        answers = hop.text.split("*") if hop.text else []
        screen = _advance_safely(session, ctx, self._new_inputs(session, answers))
        session.answers = len(answers)
        session.answers_mac = self.store.keys.fingerprint(hop.text)
        session.ended = screen.end
        notice_shown = _show_notice(screen, start.notice)

        return _Turn(_reply(screen, session.language, step, screen.key), session,
                     ctx.worker_changes, notice_shown)

    def _new_inputs(self, session: Session, answers: list[str]) -> list[str]:
        """The answers this hop adds to those the session has handled.

        Africa's Talking sends every answer of the session on every hop. Only
        a digest of the handled ones is kept, so they are recognised, not read.
        """
        handled = session.answers
        if handled == 0:
            return answers
        known = self.store.keys.fingerprint("*".join(answers[:handled]))
        if len(answers) > handled and hmac.compare_digest(known, session.answers_mac):
            return answers[handled:]

        # AT always extends the previous text; anything else is a reordered or
        # stale hop, whose last answer is the one the user just gave.
        return answers[-1:]

    def _replay(self, hop: Hop, stored: str | None) -> HopReply:
        reply = stored if stored is not None else self.store.wait_for_reply(hop.session_id,
                                                                          hop.text)
        if reply is None:
            return _reply(Screen("service.busy", end=True), DEFAULT_LANGUAGE, "replay", "busy")

        return HopReply(body=reply, step="replay", outcome="replayed")

    def _finish(self, hop: Hop, turn: _Turn) -> None:
        try:
            self.store.finish(hop.session_id, hop.text, turn.session.to_dict(), turn.reply.body,
                              hop.phone, turn.worker_changes, turn.notice_shown)
        except redis.RedisError as error:
            # The work is done (perhaps an OTP sent): answer with it anyway. A
            # duplicate of this hop will find the claim and wait, not resend.
            log.warning("ussd session not saved: %s", type(error).__name__)

    def _release(self, hop: Hop) -> None:
        try:
            self.store.release(hop.session_id, hop.text)
        except redis.RedisError:
            log.warning("ussd hop claim not released")


def _advance_safely(session: Session, ctx: Context, inputs: list[str]) -> Screen:
    """The menu's next screen, or the END that says why the workflow stopped."""
    try:
        return advance(session, ctx, inputs)
    except ConsentError as error:
        return Screen(error.reason, {"cr_id": session.cr_id or "", **error.params}, end=True)
    except UpstreamError as error:
        return screen_for_upstream(error)
    except redis.RedisError as error:
        # Consent records and limits fail closed, as session state does.
        log.warning("consent store unavailable mid-hop: %s", type(error).__name__)
        return Screen("service.busy", end=True)


def screen_for_upstream(error: UpstreamError) -> Screen:
    """The one place an SHA failure becomes what the health worker reads.

    Failures while checking a code say the code was not checked; the others,
    on the way to sending an OTP, say whether one was sent.
    """
    visit = "_visit" if error.purpose == "start_visit" else ""
    if isinstance(error, OutcomeUnknown):
        return Screen(f"sha.unknown{visit}", end=True)
    if isinstance(error, Throttled):
        return Screen(f"sha.throttled{visit}", end=True)
    if isinstance(error, Unauthorized):
        log.error("SHA refused our credentials on %s (trace %s)", error.call, error.trace_id)
        return Screen(f"sha.unavailable{visit}", end=True)
    if isinstance(error, Rejected):
        return Screen(f"sha.refused{visit}", {"reason": plain(error.detail, 60)}, end=True)

    return Screen(f"sha.unavailable{visit}", end=True)


def _show_notice(screen: Screen, notice: str | None) -> bool:
    """Put a pending notice (an SMS to a patient failed) atop the main menu."""
    if notice is None or screen.key != "main" or screen.note is not None:
        return False
    screen.note, screen.note_params = "main.sms_failed", {"cr_id": notice}

    return True


def _reply(screen: Screen, language: str, step: str, outcome: str) -> HopReply:
    return HopReply(body=render(screen, language), step=step, outcome=outcome)
