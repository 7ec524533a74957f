"""The consent workflow: send an OTP, resend it within limits, verify it and
start the visit.

It knows nothing of USSD or HTTP forms: the menu and the SMS handler call it
with a health worker, a CR ID or a consent reference, and it answers with
records, a :class:`VerifyResult`, or a :class:`ConsentError` naming the screen.
A code is checked, and a new one sent, only while holding the request, so USSD,
SMS and resends never race on one request.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from consent import audit
from consent.audit import AuditTrail
from consent.clock import Clock
from consent.identifiers import mask_cr_id, masked_matches
from consent.limits import LimitStoreDown, Refusal, Reservation, SendLimiter
from consent.notify import Notifier
from consent.records import (
    EXPIRED,
    FAILED,
    LOCKED,
    OTP_SENT,
    PENDING,
    SUPERSEDED,
    VERIFIED,
    ConsentRecord,
    ConsentRecords,
    RecordBusy,
)
from consent.registry import HealthWorker
from consent.screens import plain
from observability.metrics import count_otp
from upstream.errors import (
    NotFound,
    OutcomeUnknown,
    Rejected,
    Throttled,
    Unauthorized,
    Unavailable,
    UpstreamError,
)
from upstream.sha import Contact, OtpDispatch, ShaClient, mint_reference

# SHA's start-visit errors, by its short error code, then by words in the
# free-text message of a 400: SHA publishes neither list, so both are matched.
_OTP_ERROR_CODES = {
    "invalid_otp": "wrong", "otp_invalid": "wrong", "wrong_otp": "wrong",
    "otp_expired": "expired", "expired_otp": "expired",
    "otp_locked": "locked", "too_many_attempts": "locked",
}
_OTP_ERROR_WORDS = (("expired", "expired"), ("attempts", "locked"), ("invalid", "wrong"),
                    ("incorrect", "wrong"))


class ConsentError(Exception):
    """The workflow cannot go on; ``reason`` is the catalog key of what to show."""

    reason = "service.busy"

    def __init__(self, detail: str = "", *, reason: str | None = None,
                 **params: object) -> None:
        super().__init__(detail)
        self.params = params
        if reason:
            self.reason = reason


class PatientNotFound(ConsentError):
    reason = "patient.not_found"


class NoUsableContact(ConsentError):
    reason = "patient.no_contact"


class ServiceBusy(ConsentError):
    """Redis could not be read or written, or another request holds this one."""


class SendRefused(ConsentError):
    """A send limit said no; ``params`` say when the next send may go."""


class RequestClosed(ConsentError):
    """The request is verified, locked or failed: a resend makes no sense."""


@dataclass
class VerifyResult:
    outcome: str                # verified | wrong | expired | locked | already
    record: ConsentRecord
    attempts_left: int = 0
    notified: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Policy:
    intervention_codes: Sequence[str]
    service_type: str
    otp_lifetime: int
    max_attempts: int
    otp_digits: int


class ConsentWorkflow:
    def __init__(self, sha: ShaClient, records: ConsentRecords, limiter: SendLimiter,
                 trail: AuditTrail, notifier: Notifier, clock: Clock, policy: Policy) -> None:
        self.sha = sha
        self.records = records
        self.limiter = limiter
        self.trail = trail
        self.notifier = notifier
        self.clock = clock
        self.policy = policy

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
        """Ask SHA to text the OTP, then keep the consent record it refers to.

        When SHA's answer is lost the OTP may still have gone out, so the
        request is kept under a reference of ours: if the code reached the
        patient, option 2 can still take it.
        """
        earlier = self.records.latest_for_patient(worker.phone, cr_id)
        try:
            dispatch = self._dispatch(worker, cr_id, contact.id, reference="")
        except OutcomeUnknown:
            dispatch = OtpDispatch(reference=mint_reference(), sha_reference=None)
            self._keep(worker, cr_id, contact, dispatch, earlier, outcome="OutcomeUnknown")
            raise

        return self._keep(worker, cr_id, contact, dispatch, earlier)

    def resend(self, worker: HealthWorker, reference: str) -> ConsentRecord:
        """A new code for a pending request; its wrong-code count is kept."""
        with self._holding(reference):
            record = self._get(reference)
            status = record.effective_status(self.clock.now())
            if status == VERIFIED:
                raise RequestClosed(reason="verify.already", visit=record.visit_reference)
            if status not in PENDING:
                raise RequestClosed(reason="verify.locked")

            dispatch = self._dispatch(worker, record.cr_id, record.contact_id,
                                      reference=record.reference)
            now = self.clock.now()
            event = self._event(audit.RESENT, record, detail=f"send {record.send_count + 1}")

            return self.records.update(
                record, [event], status=OTP_SENT, send_count=record.send_count + 1,
                sha_reference=dispatch.sha_reference or record.sha_reference,
                last_sent_at=now, expires_at=now + self.policy.otp_lifetime)

    def verify(self, reference: str, otp: str, *, channel: str, language: str,
               patient_phone: str | None = None) -> VerifyResult:
        """Check the code with SHA's start-visit call; on success the visit is open
        and the outcome is texted, in ``language``."""
        with self._holding(reference):
            result = self._verify(self._get(reference), otp, channel)
        if result.outcome == "verified":
            result.notified = self._notify_verified(result.record, patient_phone, language)

        return result

    def text_patient(self, reference: str, phone: str, language: str) -> bool:
        """Text a verified request's visit reference to ``phone``, if it is the
        number the code went to (SHA's masked number must match it)."""
        record = self._get(reference)
        if record.status != VERIFIED or not masked_matches(record.masked_phone, phone):
            return False
        self.notifier.send_later(phone, "sms.patient.verified", language,
                                 reference=record.reference, worker=record.worker,
                                 visit=record.visit_reference)

        return True

    def pending(self, worker: HealthWorker) -> list[ConsentRecord]:
        return self.records.pending_for_worker(worker.phone)

    def _keep(self, worker: HealthWorker, cr_id: str, contact: Contact, dispatch: OtpDispatch,
              earlier: ConsentRecord | None, outcome: str = "ok") -> ConsentRecord:
        """Save a new request; an earlier pending one for the patient is superseded,
        so a patient's reply by SMS is matched to the newest code only."""
        record = self.records.new(reference=dispatch.reference,
                                  sha_reference=dispatch.sha_reference, cr_id=cr_id,
                                  contact_id=contact.id, masked_phone=contact.masked,
                                  worker=worker.phone, facility=worker.facility)
        if earlier is not None and earlier.status in PENDING:
            self.records.update(earlier, [self._event(audit.SUPERSEDED, earlier,
                                                      detail=record.reference)],
                                status=SUPERSEDED)
        self.records.save(record, [self._event(audit.SENT, record, outcome=outcome)])

        return record

    def _verify(self, record: ConsentRecord, otp: str, channel: str) -> VerifyResult:
        status = record.effective_status(self.clock.now())
        if status == VERIFIED:
            return VerifyResult("already", record)
        if status not in PENDING:
            return VerifyResult("locked", record)
        if status == EXPIRED:
            return self._close(record, EXPIRED, "expired", channel)

        # Known gap: when SHA starts the visit but its answer is lost (a read
        # timeout), a second try with the same code is refused as used and
        # counted as wrong. It closes when SHA offers a lookup of the visit by
        # consent request, to be asked before trying again.
        try:
            visit = self.sha.start_visit(
                record.cr_id, otp, record.facility, service_type=self.policy.service_type,
                intervention_codes=list(self.policy.intervention_codes),
                consent_request_id=record.sha_reference)
        except NotFound:
            raise PatientNotFound(record.cr_id) from None
        except Unauthorized:
            raise
        except Rejected as error:
            return self._otp_refused(record, error, channel)

        self.records.update(record, [self._event(audit.VERIFIED, record, channel=channel)],
                            status=VERIFIED, verified_at=self.clock.now(),
                            verified_channel=channel, visit_reference=plain(visit.visit_id, 24),
                            consent_token=visit.consent_token)

        return VerifyResult("verified", record)

    def _otp_refused(self, record: ConsentRecord, error: Rejected,
                     channel: str) -> VerifyResult:
        kind = _otp_error_kind(error)
        if kind == "expired":
            return self._close(record, EXPIRED, "expired", channel)
        if kind == "locked":
            return self._close(record, LOCKED, "locked", channel)
        if kind is None:
            # SHA refused for a reason no new code would change.
            self.records.update(record, [self._event(audit.FAILED, record, channel=channel,
                                                     detail=plain(error.detail, 80))],
                                status=FAILED)
            raise error

        wrong = record.wrong_codes + 1
        if wrong >= self.policy.max_attempts:
            return self._close(record, LOCKED, "locked", channel, wrong_codes=wrong)
        self.records.update(record, [self._event(audit.WRONG_CODE, record, channel=channel,
                                                 detail=f"wrong {wrong}")], wrong_codes=wrong)

        return VerifyResult("wrong", record, attempts_left=self.policy.max_attempts - wrong)

    def _close(self, record: ConsentRecord, status: str, outcome: str, channel: str,
               **changes: object) -> VerifyResult:
        event = {EXPIRED: audit.EXPIRED, LOCKED: audit.LOCKED}[status]
        if record.status != status:
            self.records.update(record, [self._event(event, record, channel=channel)],
                                status=status, **changes)

        return VerifyResult(outcome, record)

    def _dispatch(self, worker: HealthWorker, cr_id: str, contact_id: str, *,
                  reference: str) -> OtpDispatch:
        """Reserve a send under the limits, then ask SHA to send the OTP."""
        reservation = self._reserve(worker, cr_id, reference)
        try:
            dispatch = self.sha.send_otp(cr_id, contact_id, worker.facility,
                                         list(self.policy.intervention_codes))
        except UpstreamError as error:
            count_otp("failed:" + type(error).__name__)
            if _nothing_sent(error):
                self.limiter.release(reservation)
            if not isinstance(error, OutcomeUnknown):
                self.trail.append(self._attempt(audit.FAILED, worker, cr_id, reference,
                                                type(error).__name__))
            if isinstance(error, NotFound):
                raise PatientNotFound(cr_id) from None
            raise
        count_otp("sent")

        return dispatch

    def _reserve(self, worker: HealthWorker, cr_id: str, reference: str) -> Reservation:
        try:
            verdict = self.limiter.reserve(cr_id, worker.phone, worker.facility)
        except LimitStoreDown:
            count_otp("refused:store_down")
            raise ServiceBusy(cr_id) from None
        if isinstance(verdict, Refusal):
            count_otp("refused:" + verdict.reason)
            self.trail.append(self._attempt(audit.REFUSED, worker, cr_id, reference,
                                            verdict.reason))
            raise SendRefused(reason=f"limit.{verdict.reason}",
                              minutes=max(1, -(-verdict.retry_after // 60)),
                              seconds=verdict.retry_after)

        return verdict

    def _notify_verified(self, record: ConsentRecord, patient_phone: str | None,
                         language: str) -> list[str]:
        """Text the outcome to the health worker, and to the patient when we know
        their number: when they replied by SMS. SHA shows integrators masked
        numbers only, so over USSD the health worker may type it
        (:meth:`text_patient`); that step goes once SHA hands integrators the
        contact's number or texts the visit confirmation itself."""
        queued = []
        for to, key in ((record.worker, "sms.worker.verified"),
                        (patient_phone, "sms.patient.verified")):
            if to:
                self.notifier.send_later(to, key, language, reference=record.reference,
                                         worker=record.worker, cr_id=mask_cr_id(record.cr_id),
                                         visit=record.visit_reference)
                queued.append(key)

        return queued

    @contextmanager
    def _holding(self, reference: str) -> Iterator[None]:
        try:
            with self.records.holding(reference):
                yield
        except RecordBusy:
            raise ServiceBusy(reference) from None

    def _get(self, reference: str) -> ConsentRecord:
        record = self.records.get(reference)
        if record is None:
            raise RequestClosed(reason="pending.none")

        return record

    def _event(self, event: str, record: ConsentRecord, *, channel: str = "ussd",
               outcome: str = "ok", detail: str = "") -> dict[str, str]:
        return self.trail.event(event, reference=record.reference, worker=record.worker,
                                facility=record.facility, cr_id=record.cr_id,
                                channel=channel, outcome=outcome, detail=detail)

    def _attempt(self, event: str, worker: HealthWorker, cr_id: str, reference: str,
                 outcome: str) -> dict[str, str]:
        """An event for a send that made no record (refused, or failed at SHA)."""
        return self.trail.event(event, reference=reference, worker=worker.phone,
                                facility=worker.facility, cr_id=cr_id, outcome=outcome)


def _otp_error_kind(error: Rejected) -> str | None:
    """What SHA's refusal says of the code: wrong, expired, locked, or None (not the code)."""
    kind = _OTP_ERROR_CODES.get(error.code)
    if kind is None and error.status == 400:
        message = error.detail.lower()
        kind = next((kind for word, kind in _OTP_ERROR_WORDS if word in message), None)

    return kind


def _nothing_sent(error: UpstreamError) -> bool:
    """SHA certainly sent no OTP: it refused, throttled us, or was never reached."""
    if isinstance(error, OutcomeUnknown):
        return False

    return isinstance(error, Rejected | Throttled) or (isinstance(error, Unavailable)
                                                      and error.retry_safe)
