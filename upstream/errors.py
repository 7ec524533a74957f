"""What can go wrong when we call SHA, told apart by what the caller may do next.

    UpstreamError              retry_safe says whether calling again is harmless
    +-- Unavailable            could not reach SHA, or SHA failed (5xx, garbage)
    |   +-- OutcomeUnknown     the request may have been acted on (read timeout
    |                          on a send): never retry it blindly
    +-- Throttled              SHA asked us to slow down (429)
    +-- Rejected               SHA understood and said no (4xx)
        +-- NotFound           the patient or record does not exist (404)
        +-- Unauthorized       our credentials were refused: needs an operator

Only :func:`upstream.sha.map_failure` creates these from HTTP outcomes.
"""

from __future__ import annotations


class UpstreamError(Exception):
    """A call to SHA did not give a usable answer."""

    retry_safe = False

    def __init__(self, call: str, detail: str, *, status: int | None = None,
                 retry_safe: bool | None = None, trace_id: str | None = None,
                 code: str = "") -> None:
        super().__init__(f"{call}: {detail}")
        self.call = call
        self.detail = detail
        self.status = status
        self.trace_id = trace_id
        self.code = code  # SHA's short ``error`` field, when it sent one
        # The call the caller made: differs from ``call`` when fetching the
        # token for it failed.
        self.purpose = call
        if retry_safe is not None:
            self.retry_safe = retry_safe


class Unavailable(UpstreamError):
    retry_safe = True


class OutcomeUnknown(Unavailable):
    retry_safe = False


class Throttled(UpstreamError):
    retry_safe = True


class Rejected(UpstreamError):
    """SHA's own message, in ``detail``, is free text: show it only after cleaning."""


class NotFound(Rejected):
    pass


class Unauthorized(Rejected):
    pass
