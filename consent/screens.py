"""USSD screens: what a state asks for, rendered in the worker's language.

Africa's Talking shows at most 182 GSM-7 characters. Long lists are split into
pages that fit, with ``98`` for the next one; free text from elsewhere (names,
SHA's messages) is folded into GSM-7 and cut short before it reaches a screen.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from config.messages import text

SCREEN_LIMIT = 182
MORE_KEY = "98"

# Room kept on every list page for a one-line note ("Choose a number from the
# list."), so that a note never moves an option to another page.
NOTE_ROOM = 40

def plain(value: str, limit: int) -> str:
    """Free text made safe for a screen: ASCII letters, one line, at most ``limit``."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    words = ("".join(c for c in word if c.isprintable() and c not in "`^{}\\[~]|")
             for word in folded.split())
    cleaned = " ".join(word for word in words if word)

    return cleaned if len(cleaned) <= limit else cleaned[: limit - 2].rstrip() + ".."


@dataclass
class Screen:
    key: str
    params: dict[str, object] = field(default_factory=dict)
    end: bool = False
    note: str | None = None
    note_params: dict[str, object] = field(default_factory=dict)
    options: list[str] = field(default_factory=list)
    page: int = 0
    footer: bool = True  # "0 Back 00 Home"; the main menu has nowhere to go back to


def render(screen: Screen, language: str) -> str:
    """The reply body for Africa's Talking: ``CON``/``END``, then the screen."""
    body = text(language, screen.key, **screen.params)
    note = [text(language, screen.note, **screen.note_params)] if screen.note else []
    if screen.end:
        return "END " + "\n".join([*note, body])

    pages = pages_of(screen, language)
    page = pages[min(screen.page, len(pages) - 1)]
    lines = [*note, body, *page]
    more = text(language, "list.more")
    if screen.page < len(pages) - 1:
        lines.append(more)
    if screen.footer:
        lines.append(text(language, "footer"))

    return "CON " + "\n".join(lines)


def pages_of(screen: Screen, language: str) -> list[list[str]]:
    """The screen's list lines split into pages that each fit, note or not."""
    head = "CON " + text(language, screen.key, **screen.params)
    fixed = len(head) + len(text(language, "footer")) + len(text(language, "list.more"))

    return paginate(screen.options, SCREEN_LIMIT - fixed - NOTE_ROOM - 3)


def paginate(options: list[str], room: int) -> list[list[str]]:
    """Split lines into pages of at most ``room`` characters, newlines counted."""
    pages: list[list[str]] = [[]]
    used = 0
    for option in options:
        cost = len(option) + 1
        if pages[-1] and used + cost > room:
            pages.append([])
            used = 0
        pages[-1].append(option)
        used += cost

    return pages
