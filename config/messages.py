"""What a health worker reads, in English and Swahili.

Every text here must stay inside GSM-7: one curly quote or accented letter
switches the whole screen to UCS-2 and halves the room (see
``tests/test_screens.py``, which renders every screen of both languages).
Code chooses a key; it never builds a sentence.
"""

from __future__ import annotations

LANGUAGES = ("en", "sw")
DEFAULT_LANGUAGE = "en"

CATALOGS: dict[str, dict[str, str]] = {
    "en": {
        "main": (
            "{name}, choose:\n1. Send consent OTP\n2. Enter patient's OTP\n"
            "3. Resend OTP\n4. Language"
        ),
        "main.invalid": "Choose 1, 2, 3 or 4.",
        "main.unavailable": "Not available yet. Choose 1 or 4.",
        "footer": "0 Back 00 Home",
        "list.more": "98 More",
        "list.invalid": "Choose a number from the list.",
        "language": "Choose language:\n1. English\n2. Kiswahili",
        "language.invalid": "Choose 1 or 2.",
        "cr_id": "Enter patient's CR ID.\nDigits only, e.g. 97955152869925",
        "cr_id.invalid": "Not a CR ID: it has 12 to 15 digits.",
        "cr_id.locked": (
            "CR ID not accepted 3 times. Check the ID on the patient's SHA card "
            "or eCHIS record, then dial again."
        ),
        "contact": "Send the OTP to which phone?",
        "contact.default": "(main)",
        "otp.sent": (
            "OTP sent to {phone}.\nConsent ref: {reference}\n"
            "Ask the patient for the code, then dial again and choose 2."
        ),
        "patient.not_found": "No patient with CR ID {cr_id}. Check the ID and dial again.",
        "patient.no_contact": (
            "The patient has no active phone with SHA. No OTP was sent. Ask them to "
            "update it at an SHA office, or use biometrics."
        ),
        "sha.unavailable": "SHA is not answering now. No OTP was sent. Try again in a few minutes.",
        "sha.throttled": "SHA is busy. No OTP was sent. Try again in 1 minute.",
        "sha.refused": "SHA refused the request: {reason}\nNo OTP was sent.",
        "sha.unknown": (
            "SHA did not answer in time. The OTP may have been sent: check the "
            "patient's phone before resending."
        ),
        "worker.unknown": (
            "This phone is not registered as a health worker. Contact your CHA or "
            "sub-county office."
        ),
        "worker.inactive": (
            "Your health worker account is not active. Contact your sub-county office."
        ),
        "service.busy": "The service is busy. Please dial again in a minute.",
    },
    "sw": {
        "main": (
            "{name}, chagua:\n1. Tuma OTP ya idhini\n2. Weka OTP ya mgonjwa\n"
            "3. Tuma OTP tena\n4. Lugha"
        ),
        "main.invalid": "Chagua 1, 2, 3 au 4.",
        "main.unavailable": "Bado haipatikani. Chagua 1 au 4.",
        "footer": "0 Rudi 00 Mwanzo",
        "list.more": "98 Zaidi",
        "list.invalid": "Chagua namba kwenye orodha.",
        "language": "Chagua lugha:\n1. English\n2. Kiswahili",
        "language.invalid": "Chagua 1 au 2.",
        "cr_id": "Weka namba ya CR ya mgonjwa.\nTarakimu tu, mfano 97955152869925",
        "cr_id.invalid": "Si namba ya CR: ina tarakimu 12 hadi 15.",
        "cr_id.locked": (
            "Namba ya CR imekataliwa mara 3. Angalia namba kwenye kadi ya SHA au "
            "eCHIS, kisha piga tena."
        ),
        "contact": "Tuma OTP kwa simu gani?",
        "contact.default": "(kuu)",
        "otp.sent": (
            "OTP imetumwa kwa {phone}.\nKumbukumbu: {reference}\n"
            "Mwombe mgonjwa namba, kisha piga tena uchague 2."
        ),
        "patient.not_found": "Hakuna mgonjwa mwenye CR {cr_id}. Angalia namba na upige tena.",
        "patient.no_contact": (
            "Mgonjwa hana simu hai kwenye SHA. OTP haijatumwa. Aende ofisi ya SHA "
            "kusasisha, au tumia alama za vidole."
        ),
        "sha.unavailable": (
            "SHA haipatikani sasa. OTP haijatumwa. Jaribu tena baada ya dakika chache."
        ),
        "sha.throttled": "SHA ina shughuli nyingi. OTP haijatumwa. Jaribu tena baada ya dakika 1.",
        "sha.refused": "SHA imekataa ombi: {reason}\nOTP haijatumwa.",
        "sha.unknown": (
            "SHA haikujibu kwa wakati. Huenda OTP imetumwa: angalia simu ya mgonjwa "
            "kabla ya kutuma tena."
        ),
        "worker.unknown": (
            "Simu hii haijasajiliwa kama ya mhudumu wa afya. Wasiliana na CHA au "
            "ofisi ya kaunti ndogo."
        ),
        "worker.inactive": "Akaunti yako ya mhudumu haiko hai. Wasiliana na ofisi ya kaunti ndogo.",
        "service.busy": "Huduma ina shughuli nyingi. Tafadhali piga tena baada ya dakika moja.",
    },
}


def text(language: str, key: str, **params: object) -> str:
    """The text for ``key`` in ``language``, falling back to English."""
    catalog = CATALOGS.get(language, CATALOGS[DEFAULT_LANGUAGE])

    return catalog[key].format(**params)
