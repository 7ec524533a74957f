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
        "main.sms_failed": "SMS to patient {cr_id} failed.",
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
            "patient's phone. If it came, dial again and choose 2."
        ),
        "worker.unknown": (
            "This phone is not registered as a health worker. Contact your CHA or "
            "sub-county office."
        ),
        "worker.inactive": (
            "Your health worker account is not active. Contact your sub-county office."
        ),
        "service.busy": "The service is busy. Please dial again in a minute.",
        "sha.unknown_visit": (
            "SHA did not answer in time. The visit may have started: do not enter the code "
            "again before checking with SHA."
        ),
        "sha.unavailable_visit": (
            "SHA is not answering now. The code was not checked. Try again in a few "
            "minutes: dial and choose 2."
        ),
        "sha.throttled_visit": (
            "SHA is busy. The code was not checked. Try again in 1 minute: dial and choose 2."
        ),
        "sha.refused_visit": "SHA refused to start the visit: {reason}",
        "pending.none": "No patient is waiting for a code. Dial again and choose 1 to send an OTP.",
        "pending": "Which patient?",
        "otp": "Enter the code patient {cr_id} received ({digits} digits):",
        "otp.invalid": "The code is {digits} digits.",
        "verify.wrong": "Wrong code. {left} tries left.",
        "verify.verified": (
            "Consent confirmed. Visit started.\nVisit ref: {visit}\n"
            "An SMS with this ref is on its way to you.\n1. Text it to the patient too\n2. Done"
        ),
        "visit.invalid": "Choose 1 or 2.",
        "visit.done": "Thank you.",
        "patient_phone": "The code went to {phone}. Type that number to text the patient:",
        "patient_phone.invalid": "Type a phone number like 0714123898.",
        "patient_phone.mismatch": "That is not the number the code went to.",
        "patient_phone.locked": "Not the number the code went to. The patient was not texted.",
        "patient_phone.sent": "The visit ref is on its way to the patient.",
        "verify.locked": (
            "Too many wrong codes: this request is locked. Dial again and choose 1 to send a "
            "new OTP."
        ),
        "verify.already": "This consent is already confirmed.\nVisit ref: {visit}",
        "verify.expired": "The code has expired.\n1. Send a new code",
        "expired.invalid": "Choose 1 to send a new code.",
        "resend.ok": (
            "New OTP sent to {phone}.\nConsent ref: {reference}\n"
            "Ask the patient for the new code, then dial again and choose 2."
        ),
        "limit.cooldown": (
            "A code was sent to this patient moments ago. Wait {seconds} s, then try again. "
            "No OTP was sent."
        ),
        "limit.patient": (
            "This patient has had the most codes allowed for now. Try again in {minutes} min. "
            "No OTP was sent."
        ),
        "limit.worker": "You have reached today's limit of OTP sends. Try again tomorrow.",
        "limit.facility": (
            "Your facility has reached today's limit of OTP sends. Try again tomorrow."
        ),
        "sms.worker.verified": "SHA consent confirmed for patient {cr_id}. Visit ref: {visit}.",
        "sms.patient.verified": (
            "Thank you. Your consent is confirmed and your visit has started. "
            "Visit ref: {visit}."
        ),
        "sms.patient.help": "To confirm your visit, reply with only the 5-digit code SHA sent you.",
        "sms.patient.none": (
            "No consent request is waiting for this phone. Ask your health worker to send "
            "a new code."
        ),
        "sms.patient.ambiguous": (
            "More than one request is waiting for this phone. Please read the code to your "
            "health worker."
        ),
        "sms.patient.wrong": "That code is wrong. {left} tries left. Reply with the 5-digit code.",
        "sms.patient.expired": "That code has expired. Ask your health worker to send a new one.",
        "sms.patient.locked": "Too many wrong codes. Ask your health worker to start again.",
        "sms.patient.already": "Your consent is already confirmed. Visit ref: {visit}.",
        "sms.patient.unavailable": (
            "We could not reach SHA. Please reply with the code again in a few minutes."
        ),
    },
    "sw": {
        "main": (
            "{name}, chagua:\n1. Tuma OTP ya idhini\n2. Weka OTP ya mgonjwa\n"
            "3. Tuma OTP tena\n4. Lugha"
        ),
        "main.invalid": "Chagua 1, 2, 3 au 4.",
        "main.sms_failed": "SMS kwa mgonjwa {cr_id} haikufika.",
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
            "SHA haikujibu kwa wakati. Huenda OTP imetumwa: angalia simu ya mgonjwa. "
            "Ikifika, piga tena uchague 2."
        ),
        "worker.unknown": (
            "Simu hii haijasajiliwa kama ya mhudumu wa afya. Wasiliana na CHA au "
            "ofisi ya kaunti ndogo."
        ),
        "worker.inactive": "Akaunti yako ya mhudumu haiko hai. Wasiliana na ofisi ya kaunti ndogo.",
        "service.busy": "Huduma ina shughuli nyingi. Tafadhali piga tena baada ya dakika moja.",
        "sha.unknown_visit": (
            "SHA haikujibu kwa wakati. Huenda ziara imeanza: usiweke namba tena kabla ya "
            "kuuliza SHA."
        ),
        "sha.unavailable_visit": (
            "SHA haipatikani sasa. Namba haijakaguliwa. Jaribu tena baada ya dakika "
            "chache: piga uchague 2."
        ),
        "sha.throttled_visit": (
            "SHA ina shughuli nyingi. Namba haijakaguliwa. Jaribu tena baada ya dakika 1: "
            "piga uchague 2."
        ),
        "sha.refused_visit": "SHA imekataa kuanza ziara: {reason}",
        "pending.none": "Hakuna mgonjwa anayesubiri namba. Piga tena uchague 1 kutuma OTP.",
        "pending": "Mgonjwa yupi?",
        "otp": "Weka namba aliyopokea mgonjwa {cr_id} (tarakimu {digits}):",
        "otp.invalid": "Namba ina tarakimu {digits}.",
        "verify.wrong": "Namba si sahihi. Nafasi {left} zimebaki.",
        "verify.verified": (
            "Idhini imethibitishwa. Ziara imeanza.\nKumbukumbu ya ziara: {visit}\n"
            "Utapokea SMS yake.\n1. Mtumie mgonjwa pia\n2. Maliza"
        ),
        "visit.invalid": "Chagua 1 au 2.",
        "visit.done": "Asante.",
        "patient_phone": "Namba ilitumwa kwa {phone}. Andika namba hiyo kumtumia mgonjwa SMS:",
        "patient_phone.invalid": "Andika namba ya simu kama 0714123898.",
        "patient_phone.mismatch": "Hiyo si namba iliyopokea namba.",
        "patient_phone.locked": "Si namba iliyopokea namba. Mgonjwa hajatumiwa SMS.",
        "patient_phone.sent": "Kumbukumbu ya ziara inamfikia mgonjwa.",
        "verify.locked": (
            "Namba zisizo sahihi ni nyingi: ombi hili limefungwa. Piga tena uchague 1 "
            "kutuma OTP mpya."
        ),
        "verify.already": "Idhini hii imeshathibitishwa.\nKumbukumbu ya ziara: {visit}",
        "verify.expired": "Muda wa namba umekwisha.\n1. Tuma namba mpya",
        "expired.invalid": "Chagua 1 kutuma namba mpya.",
        "resend.ok": (
            "OTP mpya imetumwa kwa {phone}.\nKumbukumbu: {reference}\n"
            "Mwombe mgonjwa namba mpya, kisha piga tena uchague 2."
        ),
        "limit.cooldown": (
            "Namba imetumwa kwa mgonjwa huyu punde. Subiri sekunde {seconds}, kisha "
            "jaribu tena. OTP haijatumwa."
        ),
        "limit.patient": (
            "Mgonjwa huyu amepata namba nyingi zinazoruhusiwa kwa sasa. Jaribu tena baada "
            "ya dakika {minutes}. OTP haijatumwa."
        ),
        "limit.worker": "Umefikia kikomo cha leo cha kutuma OTP. Jaribu tena kesho.",
        "limit.facility": "Kituo chako kimefikia kikomo cha leo cha kutuma OTP. Jaribu tena kesho.",
        "sms.worker.verified": (
            "Idhini ya SHA imethibitishwa kwa mgonjwa {cr_id}. Kumbukumbu ya ziara: {visit}."
        ),
        "sms.patient.verified": (
            "Asante. Idhini yako imethibitishwa na ziara yako imeanza. "
            "Kumbukumbu ya ziara: {visit}."
        ),
        "sms.patient.help": (
            "Kuthibitisha ziara yako, jibu kwa namba ya tarakimu 5 uliyotumiwa na SHA pekee."
        ),
        "sms.patient.none": (
            "Hakuna ombi la idhini linalosubiri simu hii. Mwombe mhudumu wako wa afya "
            "akutumie namba mpya."
        ),
        "sms.patient.ambiguous": (
            "Kuna maombi zaidi ya moja kwa simu hii. Tafadhali msomee mhudumu wako wa afya "
            "namba."
        ),
        "sms.patient.wrong": (
            "Namba si sahihi. Nafasi {left} zimebaki. Jibu kwa namba ya tarakimu 5."
        ),
        "sms.patient.expired": (
            "Muda wa namba umekwisha. Mwombe mhudumu wako wa afya akutumie mpya."
        ),
        "sms.patient.locked": (
            "Namba zisizo sahihi ni nyingi. Mwombe mhudumu wako wa afya aanze upya."
        ),
        "sms.patient.already": "Idhini yako imeshathibitishwa. Kumbukumbu ya ziara: {visit}.",
        "sms.patient.unavailable": (
            "Hatukuweza kufikia SHA. Tafadhali jibu na namba tena baada ya dakika chache."
        ),
    },
}


def text(language: str, key: str, **params: object) -> str:
    """The text for ``key`` in ``language``, falling back to English."""
    catalog = CATALOGS.get(language, CATALOGS[DEFAULT_LANGUAGE])

    return catalog[key].format(**params)
