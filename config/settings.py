"""Settings, read once from the environment and validated before anything starts.

A bad value raises :class:`ConfigError` whose message is one line naming the
variable, so an operator sees exactly what to fix.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

BUNDLED_SANDBOX_DATA = Path(__file__).with_name("sandbox_data.json")

# Africa's Talking waits 15 s for a hop. All the SHA calls of a hop share a
# 12 s deadline (consent/ussd.py); one call's connect + read is capped so that
# a token refresh and the call it was for fit in that deadline together.
AT_HOP_DEADLINE_SECONDS = 15.0
MAX_UPSTREAM_CALL_SECONDS = 7.0

# 128 bits of secret, as base64 or hex, is at least 22 characters.
MIN_CALLBACK_KEY_LENGTH = 22

_SERVICE_CODE = re.compile(r"^\*[0-9]{1,4}(\*[0-9]{1,4})*#\Z")
_HTTP_URL = re.compile(r"^https?://[^\s/]+")
_INTERVENTION_CODE = re.compile(r"^SHA-[0-9]{2}-[0-9]{3}\Z")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    mode: str = "sandbox"
    redis_url: str | None = None
    redis_prefix: str = "cg:"
    hie_base_url: str = "http://127.0.0.1:8001"
    hie_client_id: str = "sandbox-client"
    hie_client_secret: str = "sandbox-secret"
    hie_connect_timeout: float = 2.0
    hie_read_timeout: float = 5.0
    callback_key: str | None = None
    sandbox_data: Path = BUNDLED_SANDBOX_DATA
    service_codes: tuple[str, ...] = ("*384*12#",)
    intervention_codes: tuple[str, ...] = ("SHA-01-001",)
    service_type: str = "OUTPATIENT"
    session_ttl: int = 300
    consent_ttl: int = 86400
    log_format: str = "auto"
    # Africa's Talking, for the SMS we send ourselves. An empty base URL means
    # the SDK's own (production, or AT's sandbox for username "sandbox").
    at_username: str = "sandbox"
    at_api_key: str = "sandbox-key"
    at_base_url: str = ""
    at_sender_id: str | None = None
    at_timeout: tuple[float, float] = (2.0, 5.0)
    # Consent limits. Numbers and their sources: ../docs in the README.
    otp_lifetime: int = 600          # NIST SP 800-63B: an OTP lives at most 10 min
    otp_digits: int = 5              # what SHA's codes have had in the field
    verify_max_attempts: int = 5     # Twilio Verify's default
    send_cooldown: int = 60          # FirebaseUI's wait before a resend
    patient_sends_per_window: int = 3
    patient_send_window: int = 600
    worker_sends_per_day: int = 100
    facility_sends_per_day: int = 1000

    @property
    def sandbox(self) -> bool:
        return self.mode == "sandbox"

    @property
    def state_secret(self) -> bytes:
        """Keys the digests of what health workers type (see sessions.keys);
        derived from the callback key, so every worker process agrees."""
        seed = self.callback_key or "sandbox mode: no callback key"
        return hashlib.sha256(b"ussd-state:" + seed.encode()).digest()

    @property
    def sms_base_url(self) -> str:
        """Where SMS are sent: in sandbox mode, the sandbox that stands in for SHA."""
        if self.at_base_url:
            return self.at_base_url

        return self.hie_base_url if self.sandbox else ""

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields changed, validated again."""
        updated = replace(self, **changes)
        updated.validate()

        return updated

    def validate(self) -> None:
        """Raise :class:`ConfigError`, naming the variable, at the first bad value."""
        if self.mode not in ("sandbox", "production"):
            raise ConfigError(f"GATEWAY_MODE must be 'sandbox' or 'production', got {self.mode!r}")
        self._check_production()
        self._check_upstream()
        self._check_codes()
        if self.session_ttl < 200:
            raise ConfigError("SESSION_TTL_SECONDS must outlive a 180 s USSD session (>= 200)")
        if self.log_format not in ("auto", "json", "text"):
            raise ConfigError(f"LOG_FORMAT must be auto, json or text, got {self.log_format!r}")
        if self.sandbox and not self.sandbox_data.is_file():
            raise ConfigError(f"SANDBOX_DATA names no readable file: {self.sandbox_data}")

    def _check_production(self) -> None:
        if not self.sandbox and not self.redis_url:
            raise ConfigError("REDIS_URL is required when GATEWAY_MODE=production")
        if not self.sandbox and not self.callback_key:
            raise ConfigError("CALLBACK_KEY is required when GATEWAY_MODE=production")
        if self.callback_key is not None and len(self.callback_key) < MIN_CALLBACK_KEY_LENGTH:
            raise ConfigError(f"CALLBACK_KEY must be at least {MIN_CALLBACK_KEY_LENGTH} "
                              "characters (128 bits of randomness)")

    def _check_upstream(self) -> None:
        if not _HTTP_URL.match(self.hie_base_url):
            raise ConfigError(f"HIE_BASE_URL must be an http(s) URL, got {self.hie_base_url!r}")
        if self.at_base_url and not _HTTP_URL.match(self.at_base_url):
            raise ConfigError(f"AT_BASE_URL must be an http(s) URL, got {self.at_base_url!r}")
        if self.hie_connect_timeout + self.hie_read_timeout > MAX_UPSTREAM_CALL_SECONDS:
            raise ConfigError(
                "HIE_CONNECT_TIMEOUT + HIE_READ_TIMEOUT must not exceed "
                f"{MAX_UPSTREAM_CALL_SECONDS:g} s, so a hop answers within Africa's "
                f"Talking's {AT_HOP_DEADLINE_SECONDS:g} s"
            )

    def _check_codes(self) -> None:
        for code in self.service_codes:
            if not _SERVICE_CODE.match(code):
                raise ConfigError(f"USSD_SERVICE_CODES has a malformed code {code!r}")
        for code in self.intervention_codes:
            if not _INTERVENTION_CODE.match(code):
                raise ConfigError(f"SHA_INTERVENTION_CODES has a malformed code {code!r}")


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")

    return value


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if not raw:
        return default

    return tuple(part.strip() for part in raw.split(",") if part.strip())


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Build and validate settings from environment variables."""
    env = os.environ if env is None else env
    defaults = {f.name: f.default for f in fields(Settings)}
    mode = env.get("GATEWAY_MODE", "sandbox")

    settings = Settings(
        mode=mode,
        redis_url=env.get("REDIS_URL") or None,
        redis_prefix=env.get("REDIS_PREFIX", defaults["redis_prefix"]),
        hie_base_url=(env.get("HIE_BASE_URL") or defaults["hie_base_url"]).rstrip("/"),
        hie_client_id=_secret(env, "HIE_CLIENT_ID", mode, defaults["hie_client_id"]),
        hie_client_secret=_secret(env, "HIE_CLIENT_SECRET", mode, defaults["hie_client_secret"]),
        hie_connect_timeout=_number(env, "HIE_CONNECT_TIMEOUT", 2.0, 0.1, 6.0),
        hie_read_timeout=_number(env, "HIE_READ_TIMEOUT", 5.0, 0.1, 6.9),
        callback_key=env.get("CALLBACK_KEY") or None,
        sandbox_data=Path(env.get("SANDBOX_DATA") or BUNDLED_SANDBOX_DATA),
        service_codes=_list(env, "USSD_SERVICE_CODES", defaults["service_codes"]),
        intervention_codes=_list(env, "SHA_INTERVENTION_CODES", defaults["intervention_codes"]),
        service_type=env.get("SHA_SERVICE_TYPE", defaults["service_type"]),
        session_ttl=int(_number(env, "SESSION_TTL_SECONDS", 300, 200, 3600)),
        consent_ttl=int(_number(env, "CONSENT_TTL_SECONDS", 86400, 900, 30 * 86400)),
        log_format=env.get("LOG_FORMAT", "auto"),
        at_username=_secret(env, "AT_USERNAME", mode, defaults["at_username"]),
        at_api_key=_secret(env, "AT_API_KEY", mode, defaults["at_api_key"]),
        at_base_url=env.get("AT_BASE_URL", "").rstrip("/"),
        at_sender_id=env.get("AT_SENDER_ID") or None,
        otp_digits=int(_number(env, "OTP_DIGITS", 5, 4, 8)),
        send_cooldown=int(_number(env, "SEND_COOLDOWN_SECONDS", 60, 0, 3600)),
        patient_sends_per_window=int(_number(env, "PATIENT_SENDS_PER_10_MIN", 3, 1, 20)),
        worker_sends_per_day=int(_number(env, "WORKER_SENDS_PER_DAY", 100, 1, 100000)),
        facility_sends_per_day=int(_number(env, "FACILITY_SENDS_PER_DAY", 1000, 1, 10**7)),
    )
    settings.validate()

    return settings


def _secret(env: Mapping[str, str], name: str, mode: str, sandbox_default: str) -> str:
    value = env.get(name)
    if value:
        return value
    if mode == "sandbox":
        return sandbox_default

    raise ConfigError(f"{name} is required when GATEWAY_MODE=production")
