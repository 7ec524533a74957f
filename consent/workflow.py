"""The Send OTP workflow: find the patient's phones, ask SHA to text a code,
keep the consent reference.

It knows nothing of USSD or HTTP forms: the menu calls it with a health worker
and a CR ID, and it answers with contacts, a record, or an exception.
"""

from __future__ import annotations

from collections.abc import Sequence

from consent.records import ConsentRecord, ConsentRecords
from consent.registry import HealthWorker
from upstream.errors import NotFound
from upstream.sha import Contact, ShaClient


class ConsentError(Exception):
    """The workflow cannot go on for this patient; ``reason`` names the screen."""

    reason = "consent.error"


class PatientNotFound(ConsentError):
    reason = "patient.not_found"


class NoUsableContact(ConsentError):
    reason = "patient.no_contact"


class SendOtpWorkflow:
    def __init__(self, sha: ShaClient, records: ConsentRecords,
                 intervention_codes: Sequence[str]) -> None:
        self.sha = sha
        self.records = records
        self.intervention_codes = list(intervention_codes)

    def contacts(self, worker: HealthWorker, cr_id: str) -> list[Contact]:
        """The patient's usable phones, default first; raises when there are none."""
        try:
            contacts = self.sha.contacts(cr_id, worker.facility)
        except NotFound:
            raise PatientNotFound(cr_id) from None
        if not contacts:
            raise NoUsableContact(cr_id)

        return contacts

    def send(self, worker: HealthWorker, cr_id: str, contact: Contact) -> ConsentRecord:
        """Ask SHA to text the OTP, then keep the consent record it refers to."""
        try:
            dispatch = self.sha.send_otp(cr_id, contact.id, worker.facility,
                                         self.intervention_codes)
        except NotFound:
            raise PatientNotFound(cr_id) from None

        record = self.records.new(reference=dispatch.reference,
                                  sha_reference=dispatch.sha_reference, cr_id=cr_id,
                                  contact_id=contact.id, masked_phone=contact.masked,
                                  worker=worker.phone, facility=worker.facility)
        self.records.save(record)

        return record
