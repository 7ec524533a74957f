"""The consent workflow: send an OTP, resend it within limits, verify it and
start the visit.

It knows nothing of USSD or HTTP forms: the menu and the SMS handler call it
with a health worker, a CR ID or a consent record, and it answers with records,
a :class:`VerifyResult`, or a :class:`ConsentError` naming the screen to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from consent import audit
from consent.audit import AuditTrail
from consent.clock import Clock
from consent.identifiers import mask_cr_id
from consent.limits import LimitStoreDown, Refusal, Reservation, SendLimiter
from consent.notify import Notifier
from consent.records import (
    EXPIRED,
    FAILED,
    LOCKED,
    OTP_SENT,
    VERIFIED,
    ConsentRecord,
    ConsentRecords,
    RecordBusy,
)
from consent.registry import HealthWorker, Registry
from consent.screens import plain
from observability.metrics import count_otp
from upstream.errors import (
    NotFound,
    OutcomeUnknown,
    Rejected,
    Throttled,
    Unavailable,
    UpstreamError,
)
from upstream.sha import Contact, OtpDispatch, ShaClient

# SHA's start-visit errors, by its short error code, then by words in its
# free-text message: SHA publishes neither list, so both are matched.
_OTP_ERROR_CODES = {
    "invalid_otp": "wrong", "otp_invalid": "wrong", "wrong_otp": "wrong",
    "otp_expired": "expired", "expired_otp": "expired",
    "otp_locked": "locked", "too_many_attempts": "locked",
}
_OTP_ERROR_WORDS = (("expired", "expired"), ("attempts", "locked"), ("invalid", "wrong"),
                    ("incorrect", "wrong"))


class ConsentError(Exception):
    """The workflow cannot go on; ``reason`` is the catalog key of what to show."""

    reason = "consent.error"

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
    reason = "service.busy"


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


class ConsentWorkflow:
    def __init__(self, sha: ShaClient, records: ConsentRecords, limiter: SendLimiter,
                 trail: AuditTrail, notifier: Notifier, registry: Registry, clock: Clock,
                 policy: Policy) -> None:
        self.sha = sha
        self.records = records
        self.limiter = limiter
        self.trail = trail
        self.notifier = notifier
        self.registry = registry
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
        """Ask SHA to text the OTP, then keep the consent record it refers to."""
        dispatch = self._dispatch(worker, cr_id, contact.id, reference="")
        record = self.records.new(reference=dispatch.reference,
                                  sha_reference=dispatch.sha_reference, cr_id=cr_id,
                                  contact_id=contact.id, masked_phone=contact.masked,
                                  worker=worker.phone, facility=worker.facility)
        self.records.save(record, [self._event(audit.SENT, record)])

        return record

    def resend(self, worker: HealthWorker, record: ConsentRecord) -> ConsentRecord:
        """A new code for a pending request; its wrong-code count is kept."""
        status = record.effective_status(self.clock.now())
        if status == VERIFIED:
            raise RequestClosed(reason="verify.already", visit=record.visit_reference)
        if status in (LOCKED, FAILED):
            raise RequestClosed(reason="verify.locked")

        dispatch = self._dispatch(worker, record.cr_id, record.contact_id,
                                  reference=record.reference)
        now = self.clock.now()

        return self.records.update(
            record, [self._event(audit.RESENT, record, detail=f"send {record.send_count + 1}")],
            status=OTP_SENT, sha_reference=dispatch.sha_reference or record.sha_reference,
            send_count=record.send_count + 1, last_sent_at=now,
            expires_at=now + self.policy.otp_lifetime)

    def verify(self, reference: str, otp: str, *, channel: str,
               patient_phone: str | None = None) -> VerifyResult:
        """Check the code with SHA's start-visit call; on success the visit is open."""
        try:
            with self.records.verifying(reference):
                record = self.records.get(reference)
                if record is None:
                    raise ServiceBusy(reference)
                result = self._verify(record, otp, channel)
        except RecordBusy:
            raise ServiceBusy(reference) from None
        if result.outcome == "verified":
            result.notified = self._notify_verified(result.record, patient_phone)

        return result

    def pending(self, worker: HealthWorker) -> list[ConsentRecord]:
        return self.records.pending_for_worker(worker.phone)

    def _verify(self, record: ConsentRecord, otp: str, channel: str) -> VerifyResult:
        status = record.effective_status(self.clock.now())
        if status == VERIFIED:
            return VerifyResult("already", record)
        if status in (LOCKED, FAILED):
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
        except Rejected as error:
            return self._otp_refused(record, error, channel)

        self.records.update(record, [self._event(audit.VERIFIED, record, channel=channel)],
                            status=VERIFIED, verified_at=self.clock.now(),
                            verified_channel=channel, visit_reference=visit.visit_id,
                            consent_token=visit.consent_token)

        return VerifyResult("verified", record)

    def _otp_refused(self, record: ConsentRecord, error: Rejected,
                     channel: str) -> VerifyResult:
        kind = _OTP_ERROR_CODES.get(error.code) or next(
            (kind for word, kind in _OTP_ERROR_WORDS if word in error.detail.lower()), None)
        if kind == "expired":
            return self._close(record, EXPIRED, "expired", channel)
        if kind == "locked":
            return self._close(record, LOCKED, "locked", channel)
        if kind != "wrong":
            # SHA refused for a reason no new code would change.
            self.records.update(record, [self._event(audit.FAILED, record, channel=channel,
                                                     detail=plain(error.detail, 80))],
                                status=FAILED)
            raise error

        wrong = record.wrong_codes + 1
        if wrong >= self.policy.max_attempts:
            record.wrong_codes = wrong
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
            count_otp("sent")
            return dispatch
        except UpstreamError as error:
            count_otp("failed:" + type(error).__name__)
            if _nothing_sent(error):
                self.limiter.release(reservation)
            self.trail.append(self.trail.event(
                audit.FAILED, reference=reference, worker=worker.phone,
                facility=worker.facility, cr_id=cr_id, outcome=type(error).__name__))
            if isinstance(error, NotFound):
                raise PatientNotFound(cr_id) from None
            raise

    def _reserve(self, worker: HealthWorker, cr_id: str, reference: str) -> Reservation:
        try:
            verdict = self.limiter.reserve(cr_id, worker.phone, worker.facility)
        except LimitStoreDown:
            count_otp("refused:store_down")
            raise ServiceBusy(cr_id) from None
        if isinstance(verdict, Refusal):
            count_otp("refused:" + verdict.reason)
            self.trail.append(self.trail.event(
                audit.REFUSED, reference=reference, worker=worker.phone,
                facility=worker.facility, cr_id=cr_id, outcome=verdict.reason))
            raise SendRefused(reason=f"limit.{verdict.reason}",
                              minutes=max(1, -(-verdict.retry_after // 60)),
                              seconds=verdict.retry_after)

        return verdict

    def _notify_verified(self, record: ConsentRecord, patient_phone: str | None) -> list[str]:
        """Text the outcome to the health worker, and to the patient when we know
        their number: only when they replied by SMS, since SHA shows integrators
        masked numbers. A patient whose code was entered over USSD is not texted
        by us until SHA hands integrators the contact's number or texts the
        visit confirmation itself."""
        worker = self.registry.get(record.worker)
        language = worker.language if worker else "en"
        queued = []
        for to, key in ((record.worker, "sms.worker.verified"),
                        (patient_phone, "sms.patient.verified")):
            if to:
                self.notifier.send_later(to, key, language, reference=record.reference,
                                         worker=record.worker, cr_id=mask_cr_id(record.cr_id),
                                         visit=record.visit_reference)
                queued.append(key)

        return queued

    def _event(self, event: str, record: ConsentRecord, *, channel: str = "ussd",
               detail: str = "") -> dict[str, str]:
        return self.trail.event(event, reference=record.reference, worker=record.worker,
                                facility=record.facility, cr_id=record.cr_id,
                                channel=channel, detail=detail)


def _nothing_sent(error: UpstreamError) -> bool:
    """SHA certainly sent no OTP: it refused, throttled us, or was never reached."""
    if isinstance(error, OutcomeUnknown):
        return False

    return isinstance(error, Rejected | Throttled) or (isinstance(error, Unavailable)
                                                      and error.retry_safe)
