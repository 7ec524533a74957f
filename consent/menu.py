"""The USSD menu as an explicit state machine.

Each named state shows one screen and handles one input. ``handle`` answers
with the next state's name, a :class:`Retry` (same screen, with a note saying
what is expected), or a final :class:`Screen`. ``0`` (back) and ``00`` (home)
are handled once, in :func:`advance`, for every state that takes input.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from config.messages import DEFAULT_LANGUAGE, LANGUAGES, text
from consent.identifiers import parse_cr_id
from consent.registry import HealthWorker
from consent.screens import MORE_KEY, Screen, pages_of, plain
from consent.workflow import SendOtpWorkflow
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
    text: str = ""
    cr_id: str | None = None
    contacts: list[dict[str, Any]] = field(default_factory=list)
    ended: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        return cls(**data)

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


@dataclass
class Context:
    worker: HealthWorker
    workflow: SendOtpWorkflow
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
        return Screen("main", {"name": plain(ctx.worker.name, 20) or "Menu"})

    def handle(self, session: Session, ctx: Context, value: str) -> Result:
        choices = {"1": CrIdEntry.name, "4": LanguageChoice.name}
        if value in choices:
            return choices[value]
        # Options 2 and 3 keep their numbers for "Enter patient's OTP" and
        # "Resend OTP" until those flows land: health workers learn shortcuts.
        if value in ("2", "3"):
            return Retry("main.unavailable")

        return Retry("main.invalid")


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
            return _send(session, ctx, contacts[0])
        session.contacts = [asdict(contact) for contact in contacts]

        return ContactChoice.name


class ContactChoice(State):
    name = "contact"

    def screen(self, session: Session, ctx: Context) -> Screen:
        default = " " + text(session.language, "contact.default")
        options = [
            f"{number}. {contact['masked']}{default if contact['default'] else ''}"
            for number, contact in enumerate(session.contacts, start=1)
        ]

        return Screen("contact", options=options, page=session.page)

    def handle(self, session: Session, ctx: Context, value: str) -> Result:
        if value == MORE_KEY:
            pages = len(pages_of(self.screen(session, ctx), session.language))
            if session.page + 1 < pages:
                session.page += 1
                return self.name
            return Retry("list.invalid")
        if not value.isdecimal() or not 1 <= int(value) <= len(session.contacts):
            return Retry("list.invalid")

        return _send(session, ctx, Contact(**session.contacts[int(value) - 1]))


def _send(session: Session, ctx: Context, contact: Contact) -> Screen:
    assert session.cr_id is not None
    record = ctx.workflow.send(ctx.worker, session.cr_id, contact)

    return Screen("otp.sent", {"phone": record.masked_phone, "reference": record.reference},
                  end=True)


STATES: dict[str, State] = {
    state.name: state for state in (MainMenu(), LanguageChoice(), CrIdEntry(), ContactChoice())
}


def advance(session: Session, ctx: Context, inputs: list[str]) -> Screen:
    """Feed a hop's new inputs to the machine; the screen to show comes back."""
    note = None
    for value in inputs:
        if value in (HOME, BACK):
            session.home() if value == HOME else session.back()
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
            note = result.note
            continue
        if result != session.state:
            session.go(result)
        note = None

    screen = STATES[session.state].screen(session, ctx)
    screen.note = note

    return screen
