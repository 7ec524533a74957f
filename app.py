"""The consent gateway: Africa's Talking USSD in, SHA consent OTPs out.

``create_app`` reads and validates settings once, builds the Redis client and
the SHA client once, keeps them in ``app.extensions["gateway"]`` and registers
one blueprint per channel. ``python app.py`` runs the whole thing on one
machine with no setup: sandbox mode, the bundled sandbox data, an in-process
store and the SHA sandbox on the next port.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from flask import Flask
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from commands import audit_cli, registry_cli
from config.settings import ConfigError, Settings, from_env
from consent.audit import AuditTrail
from consent.clock import Clock
from consent.deliveries import DeliveryReports
from consent.limits import Limits, SendLimiter
from consent.notify import Notifier
from consent.records import ConsentRecords
from consent.registry import Registry, parse_worker
from consent.replies import PatientReplies
from consent.ussd import UssdService
from consent.workflow import ConsentWorkflow, Policy
from handlers import (
    errors,
    events,
    health,
    metrics,
    openapi,
    requestlog,
    sandbox,
    sms,
    ussd,
)
from handlers.schemas import UssdHopSchema, UssdSessionEndSchema
from observability.readiness import Readiness, redis_ping
from observability.session_ends import SessionEnds
from ops_commands import sessions_cli
from sessions.keys import Keys
from sessions.store import SessionStore
from upstream.sha import ShaClient
from upstream.sms import SmsSender

log = logging.getLogger("gateway")


@dataclass
class Gateway:
    """The long-lived parts every request uses, built once per process."""

    settings: Settings
    redis: redis.Redis
    keys: Keys
    clock: Clock
    sha: ShaClient
    registry: Registry
    records: ConsentRecords
    trail: AuditTrail
    notifier: Notifier
    workflow: ConsentWorkflow
    replies: PatientReplies
    deliveries: DeliveryReports
    ussd: UssdService
    hop_schema: UssdHopSchema


def create_app(config: Settings | None = None, *,
               redis_client: redis.Redis | None = None) -> Flask:
    """The gateway app. ``redis_client`` replaces the one REDIS_URL would give
    (tests and benchmarks pass one that counts its round trips)."""
    settings = config or _settings_or_exit()
    if not logging.getLogger().handlers:
        requestlog.configure_logging(settings.log_format)

    app = Flask(__name__)
    app.config["GATEWAY_SETTINGS"] = settings
    # Each callback has its own, smaller cap (handlers/security.py); this is the
    # ceiling for every other request.
    app.config["MAX_CONTENT_LENGTH"] = 32 * 1024
    gateway = build_gateway(settings, redis_client)
    app.extensions["gateway"] = gateway
    app.extensions["operations"] = build_operations(gateway)
    if settings.sandbox:
        load_sandbox_workers(gateway)

    requestlog.install(app)
    errors.register_errors(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(ussd.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(sms.bp)
    if settings.sandbox:
        app.register_blueprint(sandbox.bp)
    register_commands(app)

    return app


def _settings_or_exit() -> Settings:
    """Settings from the environment; a bad one stops the process with one line
    naming the variable (under gunicorn as under ``python app.py``)."""
    try:
        return from_env()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        # 3 is gunicorn's "worker failed to boot": the master stops rather
        # than respawning workers that would fail the same way.
        raise SystemExit(3) from None


def build_gateway(settings: Settings, client: redis.Redis | None = None) -> Gateway:
    client = client or connect_redis(settings)
    keys = Keys(settings.redis_prefix, session_ttl=settings.session_ttl,
                consent_ttl=settings.consent_ttl, secret=settings.state_secret)
    clock = Clock()
    observe = requestlog.add_upstream_time
    sha = ShaClient(settings.hie_base_url, settings.hie_client_id, settings.hie_client_secret,
                    connect_timeout=settings.hie_connect_timeout,
                    read_timeout=settings.hie_read_timeout, observe=observe)
    sender = SmsSender(settings.at_username, settings.at_api_key,
                       base_url=settings.sms_base_url, sender_id=settings.at_sender_id,
                       timeout=settings.at_timeout, observe=observe)
    registry = Registry(client, keys)
    records = ConsentRecords(client, keys, clock, otp_lifetime=settings.otp_lifetime)
    trail = AuditTrail(client, keys, clock)
    notifier = Notifier(sender, client, keys, clock)
    workflow = ConsentWorkflow(
        sha, records, SendLimiter(client, keys, clock, limits_from(settings)), trail,
        notifier, clock,
        Policy(intervention_codes=settings.intervention_codes,
               service_type=settings.service_type, otp_lifetime=settings.otp_lifetime,
               max_attempts=settings.verify_max_attempts, otp_digits=settings.otp_digits))

    return Gateway(settings=settings, redis=client, keys=keys, clock=clock, sha=sha,
                   registry=registry, records=records, trail=trail, notifier=notifier,
                   workflow=workflow,
                   replies=PatientReplies(workflow, records, registry, notifier, client, keys),
                   deliveries=DeliveryReports(client, keys, records, trail),
                   ussd=UssdService(SessionStore(client, keys), workflow),
                   hop_schema=UssdHopSchema(settings.service_codes))


def limits_from(settings: Settings) -> Limits:
    return Limits(cooldown=settings.send_cooldown, per_window=settings.patient_sends_per_window,
                  window=settings.patient_send_window,
                  worker_per_day=settings.worker_sends_per_day,
                  facility_per_day=settings.facility_sends_per_day)


def connect_redis(settings: Settings) -> redis.Redis:
    """The real Redis at REDIS_URL; in sandbox mode without one, an in-process store."""
    if settings.redis_url:
        # Short timeouts and one quick retry: a hop must answer within AT's
        # 15 s even when Redis is sick, and session state fails closed.
        return redis.Redis.from_url(settings.redis_url, decode_responses=True,
                                    socket_connect_timeout=1.0, socket_timeout=1.0,
                                    retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
                                    health_check_interval=30)
    import fakeredis

    return fakeredis.FakeRedis(decode_responses=True)


@dataclass
class Operations:
    """What the operator's endpoints and the session-end callback use, built once."""

    readiness: Readiness
    session_ends: SessionEnds
    end_schema: UssdSessionEndSchema
    openapi: dict[str, Any]


def build_operations(gateway: Gateway) -> Operations:
    settings = gateway.settings
    end_schema = UssdSessionEndSchema(settings.service_codes)

    return Operations(readiness=Readiness(readiness_ping(gateway), settings.hie_base_url),
                      session_ends=SessionEnds(gateway.redis, gateway.keys),
                      end_schema=end_schema,
                      openapi=openapi.build_spec(gateway.hop_schema, end_schema))


def readiness_ping(gateway: Gateway) -> Callable[[], object]:
    """PING Redis for /readyz: the store itself in sandbox mode, else a client of
    its own that never retries, so a dead Redis costs a probe one timeout."""
    if not gateway.settings.redis_url:
        return gateway.redis.ping

    return redis_ping(gateway.settings.redis_url)


def load_sandbox_workers(gateway: Gateway) -> None:
    """Register the sandbox data's health workers, keeping changes made since."""
    data = json.loads(gateway.settings.sandbox_data.read_text(encoding="utf-8"))
    workers = [parse_worker(row) for row in data.get("health_workers", [])]
    gateway.registry.load(workers, replace=False)


def register_commands(app: Flask) -> None:
    app.cli.add_command(registry_cli)
    app.cli.add_command(sessions_cli)
    app.cli.add_command(audit_cli)


def _serve_embedded(port: int) -> None:
    """Serve the SHA sandbox on ``port`` in this process, for the demo run."""
    from werkzeug.serving import make_server

    from sandbox import create_app as create_sandbox

    server = make_server("127.0.0.1", port, create_sandbox(), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True, name="sandbox").start()


def main(argv: list[str] | None = None) -> int:
    port = int(os.environ.get("PORT", "8000"))
    env: dict[str, Any] = dict(os.environ)
    embedded = env.get("GATEWAY_MODE", "sandbox") == "sandbox" and not env.get("HIE_BASE_URL")
    if embedded:
        env["HIE_BASE_URL"] = f"http://127.0.0.1:{port + 1}"
    try:
        settings = from_env(env)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2

    if embedded:
        _serve_embedded(port + 1)
    # The development server's access log prints query strings, and with
    # them the callback key: our own request log replaces it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app(settings)
    print(_banner(settings, port), file=sys.stderr)
    app.run(host="127.0.0.1", port=port, threaded=True)

    return 0


def _banner(settings: Settings, port: int) -> str:
    code = settings.service_codes[0]
    store = settings.redis_url or "in-process store (set REDIS_URL for Redis)"

    return (
        f"Consent gateway ({settings.mode} mode) on http://127.0.0.1:{port}\n"
        f"  store: {store}\n  SHA:   {settings.hie_base_url}\n"
        "Try a session (a registered health worker, then option 1):\n"
        f"  curl -s localhost:{port}/ussd -d sessionId=demo1 --data-urlencode "
        f"'serviceCode={code}' --data-urlencode phoneNumber=+254711000002 -d text=\n"
        f"  curl -s localhost:{port}/ussd -d sessionId=demo1 --data-urlencode "
        f"'serviceCode={code}' --data-urlencode phoneNumber=+254711000002 "
        "-d 'text=1*97955152869925*1'\n"
        f"  curl -s 'localhost:{port}/sandbox/messages?to=%2B254714123898'\n"
        "Then verify in a new session (sessionId=demo2) with text=2*<the 5-digit code>,\n"
        f"or as the patient: curl -s localhost:{port}/sms/inbound --data-urlencode "
        "from=+254714123898 -d to=22384 -d id=demo-sms-1 -d text=<the code>"
    )


if __name__ == "__main__":
    sys.exit(main())
