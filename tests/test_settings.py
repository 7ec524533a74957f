"""Settings come from the environment; a bad value names its variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import ConfigError, from_env

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {"GATEWAY_MODE": "production", "REDIS_URL": "redis://127.0.0.1:6379/0",
              "HIE_BASE_URL": "https://hie.example.test", "HIE_CLIENT_ID": "id",
              "HIE_CLIENT_SECRET": "secret", "CALLBACK_KEY": "a" * 32,
              "AT_USERNAME": "consentgw", "AT_API_KEY": "atsk_0123456789"}


def test_nothing_set_means_sandbox_mode_with_bundled_data() -> None:
    settings = from_env({})

    assert settings.sandbox
    assert settings.redis_url is None
    assert settings.sandbox_data.is_file()
    assert settings.service_codes == ("*384*12#",)


def test_production_settings_are_read() -> None:
    settings = from_env({**PRODUCTION, "USSD_SERVICE_CODES": "*384*12#, *483*7#",
                         "HIE_READ_TIMEOUT": "4.5"})

    assert not settings.sandbox
    assert settings.service_codes == ("*384*12#", "*483*7#")
    assert settings.hie_read_timeout == 4.5


@pytest.mark.parametrize(("change", "variable"), [
    ({"GATEWAY_MODE": "staging"}, "GATEWAY_MODE"),
    ({"CALLBACK_KEY": ""}, "CALLBACK_KEY"),
    ({"CALLBACK_KEY": "short"}, "CALLBACK_KEY"),
    ({"REDIS_URL": ""}, "REDIS_URL"),
    ({"HIE_CLIENT_SECRET": ""}, "HIE_CLIENT_SECRET"),
    ({"HIE_BASE_URL": "ftp://x"}, "HIE_BASE_URL"),
    ({"HIE_READ_TIMEOUT": "soon"}, "HIE_READ_TIMEOUT"),
    ({"HIE_CONNECT_TIMEOUT": "3", "HIE_READ_TIMEOUT": "6"}, "HIE_READ_TIMEOUT"),
    ({"USSD_SERVICE_CODES": "384*12"}, "USSD_SERVICE_CODES"),
    ({"SHA_INTERVENTION_CODES": "OPD"}, "SHA_INTERVENTION_CODES"),
    ({"SESSION_TTL_SECONDS": "60"}, "SESSION_TTL_SECONDS"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
])
def test_a_bad_value_names_its_variable(change: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        from_env({**PRODUCTION, **change})


def test_missing_sandbox_data_file_is_named() -> None:
    with pytest.raises(ConfigError, match="SANDBOX_DATA"):
        from_env({"SANDBOX_DATA": "/nonexistent/data.json"})


def test_the_service_refuses_to_start_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, capture_output=True,
                            text=True, timeout=30,
                            env={"PATH": "/usr/bin:/bin", "GATEWAY_MODE": "production"})

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: HIE_CLIENT_ID is required when GATEWAY_MODE=production"
    ]


def test_the_phone_outbox_exists_only_in_sandbox_mode(settings) -> None:
    from app import create_app

    production = settings.with_overrides(mode="production", callback_key="k" * 32)
    sandboxed = create_app(settings).test_client()
    real = create_app(production).test_client()

    assert sandboxed.get("/sandbox/messages?to=%2B254714123898").status_code == 200
    assert real.get("/sandbox/messages?to=%2B254714123898").status_code == 404


def test_gunicorn_stops_on_a_bad_setting_with_one_line_naming_it() -> None:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run([str(gunicorn), "-w", "1", "-b", "127.0.0.1:0", "app:create_app()"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "GATEWAY_MODE": "production"})

    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "configuration error" in line]
    assert errors == ["configuration error: HIE_CLIENT_ID is required when "
                      "GATEWAY_MODE=production"]
    assert "Traceback" not in result.stderr
