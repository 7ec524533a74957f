"""The USSD menu as an explicit state machine.

Each named state shows one screen and handles one input. ``handle`` answers
with the next state's name, a :class:`Retry` (same screen, with a note saying
what is expected), or a final :class:`Screen`. ``0`` (back) and ``00`` (home)
are handled once, in :func:`advance`, for every state that takes input.

    main --1--> cr_id --> [contact] --> END sent
         --2--> [verify_pick] --> otp --> visit --> [patient_phone] --> END
                                         --> expired_offer --> END resent
         --3--> [resend_pick] --> END resent
         --4--> language --> main

A bracketed state is skipped when there is only one thing to choose.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from config.messages import DEFAULT_LANGUAGE, LANGUAGES, text
from consent.identifiers import mask_cr_id, mask_phone, normalise_phone, parse_cr_id
from consent.records import ConsentRecord
from consent.registry import HealthWorker
from consent.screens import MORE_KEY, Screen, pages_of, plain
from consent.workflow import ConsentWorkflow
from upstream.sha import Contact

BACK, HOME = "0", "00"
MAIN = "main"


@dataclass
class Session:
    """What a USSD session remembers between hops (stored as JSON in Redis)."""

    language: str = DEFAULT_LANGUAGE
    state: str = MAIN
    history: list[str] = field(default_factory=list)
    misses: int = 0
    page: int = 0
    answers: int = 0        # how many of AT's '*'-joined answers are handled
    answers_mac: str = ""   # keyed digest of those answers (they may hold an OTP)
    cr_id: str | None = None
    contacts: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, str]] = field(default_factory=list)
    reference: str | None = None
    contact: str = ""       # the masked number the request's code went to
    visit: str = ""
    ended: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        """A stored session; fields or states a newer release dropped are forgotten,
        so a deploy mid-session sends the health worker home, not to an error."""
        known = {name: value for name, value in data.items() if name in _FIELDS}
        session = cls(**known)
        if session.state not in STATES:
            session.home()

        return session

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def go(self, state: str) -> None:
        self.history.append(self.state)
        self.state, self.misses, self.page = state, 0, 0

    def back(self) -> None:
        if self.page:
            self.page -= 1
        elif self.history:
            self.state, self.misses = self.history.pop(), 0

    def home(self) -> None:
        self.state, self.history, self.misses, self.page = MAIN, [], 0, 0


@dataclass
class Retry:
    note: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class Context:
    worker: HealthWorker
    workflow: ConsentWorkflow
    worker_changes: dict[str, str] = field(default_factory=dict)


Result = str | Retry | Screen


class State:
    name: ClassVar[str]
    max_misses: ClassVar[int | None] = None
    locked: ClassVar[str] = ""

    def screen(self, session: Session, ctx: Context) -> Screen:
        raise NotImplementedError

    def handle(self, session: Session, ctx: Context, value: str) -> Result:
        raise NotImplementedError


class MainMenu(State):
    name = MAIN

    def screen(self, session: Session, ctx: Context) -> Screen:
        name = plain(ctx.worker.name, 20) or mask_phone(ctx.worker.phone)
        return Screen("main", {"name": name}, footer=False)

    def handle(self, session: Session, ctx: Context, value: str) -> Result:
        if value == "1":
            return CrIdEntry.name
        if value == "4":
            return LanguageChoice.name
        if value not in ("2", "3"):
            return Retry("main.invalid")

        pending = ctx.workflow.pending(ctx.worker)
        if not pending:
            return Screen("pending.none", end=True)
        now = ctx.workflow.clock.now()
        session.pending = [{"reference": r.reference, "cr_id": r.cr_id,
                            "status": r.effective_status(now)} for r in pending]
        pick = VerifyPick if value == "2" else ResendPick
        if len(pending) == 1:
            return pick.chosen(session, ctx, session.pending[0])

        return pick.name


class LanguageChoice(State):
    name = "language"

    def screen(self, session: Session, ctx: Context) -> Screen:
        return Screen("language")

    def handle(self, session: Session, ctx: Context, value: str) -> Result:
        if value not in ("1", "2"):
            return Retry("language.invalid")

        session.language = LANGUAGES[int(value) - 1]
        ctx.worker_changes["language"] = session.language
        session.home()

        return MAIN


class CrIdEntry(State):
    name = "cr_id"
    max_misses = 3
    locked = "cr_id.locked"

    def screen(self, session: Session, ctx: Context) -> Screen:
        return Screen("cr_id")

    def handle(self, session: Session, ctx: Context, value: str) -> Result:
        cr_id = parse_cr_id(value)
        if cr_id is None:
            return Retry("cr_id.invalid")

        session.cr_id = cr_id
        contacts = ctx.workflow.contacts(ctx.worker, cr_id)
        if len(contacts) == 1:
            return _sent(ctx.workflow.send(ctx.worker, cr_id, contacts[0]), "otp.sent")
        session.contacts = [asdict(contact) for contact in contacts]

        return ContactChoice.name


class ListChoice(State):
    """A numbered list over several pages; ``98`` shows the next page."""

    prompt: ClassVar[str]

    def items(self, session: Session) -> list[dict[str, Any]]:
        raise NotImplementedError

    def label(self, session: Session, item: dict[str, Any]) -> str:
        raise NotImplementedError

    def choose(self, session: Session, ctx: Context, item: dict[str, Any]) -> Result:
        raise NotImplementedError

    def screen(self, session: Session, ctx: Context) -> Screen:
        options = [f"{number}. {self.label(session, item)}"
                   for number, item in enumerate(self.items(session), start=1)]

        return Screen(self.prompt, options=options, page=session.page)

    def handle(self, session: Session, ctx: Context, value: str) -> Result:
        items = self.items(session)
        if value == MORE_KEY:
            if session.page + 1 < len(pages_of(self.screen(session, ctx), session.language)):
                session.page += 1
                return self.name
            return Retry("list.invalid")
        if not value.isdecimal() or not 1 <= int(value) <= len(items):
            return Retry("list.invalid")

        return self.choose(session, ctx, items[int(value) - 1])


class ContactChoice(ListChoice):
    name = "contact"
    prompt = "contact"

    def items(self, session: Session) -> list[dict[str, Any]]:
        return session.contacts

    def label(self, session: Session, item: dict[str, Any]) -> str:
        marker = " " + text(session.language, "contact.default") if item["default"] else ""
        return item["masked"] + marker

    def choose(self, session: Session, ctx: Context, item: dict[str, Any]) -> Result:
        assert session.cr_id is not None
        record = ctx.workflow.send(ctx.worker, session.cr_id, Contact(**item))

        return _sent(record, "otp.sent")


class PendingChoice(ListChoice):
    prompt = "pending"

    def items(self, session: Session) -> list[dict[str, Any]]:
        return session.pending

    def label(self, session: Session, item: dict[str, Any]) -> str:
        return f"{mask_cr_id(item['cr_id'])} {item['reference'][:8]}"

    def choose(self, session: Session, ctx: Context, item: dict[str, Any]) -> Result:
        return self.chosen(session, ctx, item)

    @classmethod
    def chosen(cls, session: Session, ctx: Context, item: dict[str, str]) -> Result:
        session.reference, session.cr_id = item["reference"], item["cr_id"]
        return cls.next_step(session, ctx, item)

    @classmethod
    def next_step(cls, session: Session, ctx: Context, item: dict[str, str]) -> Result:
        raise NotImplementedError


class VerifyPick(PendingChoice):
    name = "verify_pick"

    @classmethod
    def next_step(cls, session: Session, ctx: Context, item: dict[str, str]) -> Result:
        # An expired code cannot be checked: offer a new one straight away.
        return ExpiredOffer.name if item.get("status") == "expired" else OtpEntry.name


class ResendPick(PendingChoice):
    name = "resend_pick"

    @classmethod
    def next_step(cls, session: Session, ctx: Context, item: dict[str, str]) -> Result:
        return _resend(session, ctx)


class OtpEntry(State):
    name = "otp"

    def screen(self, session: Session, ctx: Context) -> Screen:
        return Screen("otp", {"cr_id": mask_cr_id(session.cr_id or ""),
                              "digits": ctx.workflow.policy.otp_digits})

    def handle(self, session: Session, ctx: Context, value: str) -> Result:
        # A code of the wrong length is a typo: re-prompt without spending one
        # of the patient's attempts at SHA.
        digits = ctx.workflow.policy.otp_digits
        if len(value) != digits or not value.isascii() or not value.isdigit():
            return Retry("otp.invalid", {"digits": digits})

        assert session.reference is not None
        result = ctx.workflow.verify(session.reference, value, channel="ussd",
                                     language=session.language)
        if result.outcome == "wrong":
            return Retry("verify.wrong", {"left": result.attempts_left})
        if result.outcome == "expired":
            return ExpiredOffer.name
        if result.outcome == "verified":
            session.visit, session.contact = (result.record.visit_reference,
                                              result.record.masked_phone)
            return VisitStarted.name

        return Screen(f"verify.{result.outcome}", {"visit": result.record.visit_reference},
                      end=True)


class VisitStarted(State):
    """The visit is open. SHA shows us only masked numbers, so the health worker
    may type the patient's number to have the visit reference texted to them too."""

    name = "visit"

    def screen(self, session: Session, ctx: Context) -> Screen:
        return Screen("verify.verified", {"visit": session.visit}, footer=False)

    def handle(self, session: Session, ctx: Context, value: str) -> Result:
        if value == "1":
            return PatientPhone.name
        if value == "2":
            return Screen("visit.done", end=True)

        return Retry("visit.invalid")


class PatientPhone(State):
    name = "patient_phone"
    max_misses = 3
    locked = "patient_phone.locked"

    def screen(self, session: Session, ctx: Context) -> Screen:
        return Screen("patient_phone", {"phone": session.contact})

    def handle(self, session: Session, ctx: Context, value: str) -> Result:
        phone = normalise_phone(value)
        if phone is None:
            return Retry("patient_phone.invalid")

        assert session.reference is not None
        if not ctx.workflow.text_patient(session.reference, phone, session.language):
            return Retry("patient_phone.mismatch")

        return Screen("patient_phone.sent", end=True)


class ExpiredOffer(State):
    name = "expired_offer"

    def screen(self, session: Session, ctx: Context) -> Screen:
        return Screen("verify.expired")

    def handle(self, session: Session, ctx: Context, value: str) -> Result:
        if value != "1":
            return Retry("expired.invalid")

        return _resend(session, ctx)


def _resend(session: Session, ctx: Context) -> Screen:
    assert session.reference is not None
    return _sent(ctx.workflow.resend(ctx.worker, session.reference), "resend.ok")


def _sent(record: ConsentRecord, key: str) -> Screen:
    return Screen(key, {"phone": record.masked_phone, "reference": record.reference}, end=True)


_FIELDS = {field.name for field in fields(Session)}

STATES: dict[str, State] = {
    state.name: state for state in (MainMenu(), LanguageChoice(), CrIdEntry(), ContactChoice(),
                                    VerifyPick(), ResendPick(), OtpEntry(), ExpiredOffer(),
                                    VisitStarted(), PatientPhone())
}


def advance(session: Session, ctx: Context, inputs: list[str]) -> Screen:
    """Feed a hop's new inputs to the machine; the screen to show comes back."""
    note: Retry | None = None
    for value in inputs:
        if value in (HOME, BACK):
            if value == HOME:
                session.home()
            else:
                session.back()
            note = None
            continue

        state = STATES[session.state]
        result = state.handle(session, ctx, value)
        if isinstance(result, Screen):
            return result
        if isinstance(result, Retry):
            session.misses += 1
            if state.max_misses and session.misses >= state.max_misses:
                return Screen(state.locked, end=True)
            note = result
            continue
        if result != session.state:
            session.go(result)
        note = None

    screen = STATES[session.state].screen(session, ctx)
    if note is not None:
        screen.note, screen.note_params = note.note, note.params

    return screen
