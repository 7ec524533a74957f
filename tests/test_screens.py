"""Every screen, in every language, fits 182 GSM-7 characters.

Screens are rendered with the longest values they can carry, and checked
without the renderer's own arithmetic: printable ASCII only (a subset of
GSM-7), with GSM-7's escaped characters counted twice.
"""

from __future__ import annotations

import string

import pytest

from config.messages import CATALOGS, LANGUAGES, text
from consent.screens import Screen, pages_of, plain, render

LIMIT = 182
SMS_LIMIT = 160
ESCAPED = set("^{}\\[]~|")
ALLOWED = set(string.ascii_letters + string.digits + " \n.,:;!?'\"()*+-/=<>#%&@_$")

WORST = {
    "name": plain("Wanjiru-Kamau Nyambura Achieng", 20),
    "phone": "+254714***898",
    "reference": "R" * 40,
    "cr_id": "CR99999999999999-9",
    "reason": plain("x" * 300, 60),
    "visit": "V-" + "9" * 20,
    "left": 4,
    "seconds": 59,
    "minutes": 10,
    "digits": 8,
}
INPUT_SCREENS = {
    "main": ["main.invalid", "main.sms_failed"],
    "language": ["language.invalid"],
    "cr_id": ["cr_id.invalid"],
    "contact": ["list.invalid"],
    "pending": ["list.invalid"],
    "otp": ["otp.invalid", "verify.wrong"],
    "verify.expired": ["expired.invalid"],
    "verify.verified": ["visit.invalid"],
    "patient_phone": ["patient_phone.invalid", "patient_phone.mismatch"],
}
LIST_LINES = {
    "contact": lambda language, n: f"{n}. {WORST['phone']} {text(language, 'contact.default')}",
    "pending": lambda language, n: f"{n}. CR99***99-9 RRRRRRRR",
}
PARTS = {"footer", "list.more", "contact.default"}
NOTES = {note for notes in INPUT_SCREENS.values() for note in notes}


def screen_length(screen: str) -> int:
    assert set(screen) <= ALLOWED | ESCAPED, set(screen) - ALLOWED - ESCAPED
    return len(screen) + sum(char in ESCAPED for char in screen)


def every_screen(language: str) -> list[tuple[str, str]]:
    screens = []
    for key, notes in INPUT_SCREENS.items():
        line = LIST_LINES.get(key)
        options = [line(language, n) for n in range(1, 31)] if line else []
        for note in [None, *notes]:
            base = Screen(key, dict(WORST), note=note, note_params=dict(WORST),
                          options=options)
            for page in range(len(pages_of(base, language))):
                base.page = page
                screens.append((f"{key}/{note}/page {page}", render(base, language)))
    for key in set(CATALOGS[language]) - set(INPUT_SCREENS) - PARTS - NOTES - sms_keys():
        screens.append((key, render(Screen(key, dict(WORST), end=True), language)))

    return screens


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_screen_fits_one_gsm7_page(language: str) -> None:
    screens = every_screen(language)

    assert len(screens) > 20
    for label, screen in screens:
        assert screen.startswith(("CON ", "END ")), label
        assert screen_length(screen) <= LIMIT, f"{label}: {screen_length(screen)}\n{screen}"


def sms_keys() -> set[str]:
    return {key for key in CATALOGS["en"] if key.startswith("sms.")}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_sms_fits_one_message(language: str) -> None:
    for key in sms_keys():
        message = text(language, key, **WORST)
        assert screen_length(message) <= SMS_LIMIT, f"{key}: {screen_length(message)}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_long_list_shows_every_option_once_across_its_pages(language: str) -> None:
    options = [f"{n}. +254700***{n:03d}" for n in range(1, 31)]
    screen = Screen("contact", options=options)

    pages = pages_of(screen, language)

    assert len(pages) > 1
    assert [line for page in pages for line in page] == options


def test_both_catalogs_have_the_same_keys_and_placeholders() -> None:
    english, swahili = CATALOGS["en"], CATALOGS["sw"]

    assert set(english) == set(swahili)
    for key in english:
        fields_en = {f for _, f, _, _ in string.Formatter().parse(english[key]) if f}
        fields_sw = {f for _, f, _, _ in string.Formatter().parse(swahili[key]) if f}
        assert fields_en == fields_sw, key


@pytest.mark.parametrize(("raw", "expected"), [
    ("Zoë Wanjirũ", "Zoe Wanjiru"),
    ("“Quoted” name", "Quoted name"),
    ("Two\nlines\tand  gaps", "Two lines and gaps"),
    ("A" * 30, "A" * 18 + ".."),
])
def test_free_text_is_folded_to_plain_ascii(raw: str, expected: str) -> None:
    assert plain(raw, 20) == expected
