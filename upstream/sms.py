"""SMS we send ourselves, through Africa's Talking's SDK.

A 2xx from AT can still be a failure: each recipient carries its own
``statusCode`` (100 Processed, 101 Sent, 102 Queued; 401-409 rejections such as
403 InvalidPhoneNumber or 406 UserInBlacklist; 500-502 gateway errors, worth a
retry later), and an invalid sender ID comes back as a 2xx with no recipients.
In sandbox mode the SDK's base URL is switched to our sandbox, so the same code
path runs up to the transport.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
from africastalking.Service import AfricasTalkingException
from africastalking.SMS import SMSService

from upstream.sha import CallObserver

ACCEPTED = {100: "Processed", 101: "Sent", 102: "Queued"}
RETRYABLE = {500, 501, 502}


@dataclass(frozen=True)
class SmsResult:
    message_id: str
    status: str       # AT's status word: Sent, Queued, InvalidPhoneNumber, ...
    accepted: bool
    retryable: bool


class SmsSender:
    def __init__(self, username: str, api_key: str, *, base_url: str = "",
                 sender_id: str | None = None, timeout: tuple[float, float] = (2.0, 5.0),
                 observe: CallObserver | None = None) -> None:
        self._service = SMSService(username, api_key)
        if base_url:
            # The SDK offers no setting for this; its services keep the base
            # in one attribute, to which each call appends its path.
            self._service._baseUrl = base_url.rstrip("/") + "/version1"
        self._sender_id = sender_id
        self._timeout = timeout
        self._observe = observe or (lambda call, seconds, outcome: None)

    def send(self, to: str, message: str) -> SmsResult:
        """Send one SMS; never raises for AT's or the network's failures."""
        started = time.monotonic()
        try:
            body = self._service.send(message, [to], sender_id=self._sender_id,
                                      timeout=self._timeout)
            result = _recipient_result(body)
        except requests.ReadTimeout:
            # AT may have taken the message: sending it again could text twice.
            result = SmsResult("", "ReadTimeout", accepted=False, retryable=False)
        except (requests.RequestException, AfricasTalkingException) as error:
            result = SmsResult("", type(error).__name__, accepted=False, retryable=True)
        except ValueError:
            # The SDK's own check of the number, before anything is sent.
            result = SmsResult("", "InvalidPhoneNumber", accepted=False, retryable=False)
        self._observe("sms", time.monotonic() - started,
                      "ok" if result.accepted else result.status)

        return result


def _recipient_result(body: Any) -> SmsResult:
    recipients = []
    if isinstance(body, dict):
        recipients = (body.get("SMSMessageData") or {}).get("Recipients") or []
    if not recipients:
        return SmsResult("", "NoRecipients", accepted=False, retryable=False)
    first = recipients[0]
    code = int(first.get("statusCode", 0))
    message_id = str(first.get("messageId") or "")

    # AT names no message with the string "None" when it refused the recipient.
    return SmsResult(message_id="" if message_id == "None" else message_id,
                     status=str(first.get("status") or code),
                     accepted=code in ACCEPTED, retryable=code in RETRYABLE)
