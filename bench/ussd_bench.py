"""Load-test the USSD gateway against a bare Flask + Redis baseline, on loopback.

Run from the repository root::

    .venv/bin/python bench/ussd_bench.py [--clients 16] [--sessions 600] [--seconds 20]

It writes sandbox data with enough patients that no session repeats one,
serves the SHA sandbox, the gateway and the baseline (bench/baseline.py) under
gunicorn, drives complete Send-OTP sessions at the gateway and as many requests
at the baseline, counts Redis round trips per hop in-process, and prints one
report. Everything it starts, writes or stores is removed on the way out.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402  (the repository root must be on sys.path first)
from config.settings import Settings  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SERVICE_CODE = "*384*12#"
NETWORK_CODE = "63902"
FACILITY = "FID-47-108521-3"
GUNICORN = Path(sys.executable).with_name("gunicorn")

# Every gateway reply but the last asks for more input; the last confirms the send.
GATEWAY_EXPECTED = ("CON", "CON", "CON", "END OTP sent")
BASELINE_EXPECTED = ("CON ok",) * 4
HOP_LABELS = ("''", "'1'", "'1*<CR digits>'", "'1*<CR digits>*1'")

# A hop that takes longer than Africa's Talking's 15 s deadline has failed anyway.
REQUEST_TIMEOUT = (2.0, 15.0)
STARTUP_SECONDS = 20.0
STOP_SECONDS = 10.0


@dataclass(frozen=True)
class Options:
    clients: int
    sessions: int
    seconds: float
    workers: int
    threads: int
    sandbox_workers: int
    health_workers: int
    patients: int


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent client threads")
    parser.add_argument("--sessions", type=int, default=600, help="sessions per run, at most")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per run, at most")
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn workers of the gateway and of the baseline")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--sandbox-workers", type=int, default=1,
                        help="SHA sandbox workers; more than 1 fails some sends (see README)")
    parser.add_argument("--health-workers", type=int, default=200)
    parser.add_argument("--patients", type=int, default=2000)
    options = Options(**vars(parser.parse_args(argv)))
    if min(options.clients, options.sessions, options.seconds, options.workers,
           options.threads, options.sandbox_workers, options.health_workers) <= 0:
        parser.error("every count and --seconds must be positive")

    # Each session, each warm-up session and the round-trip session gets a patient of its own.
    return replace(options, patients=max(options.patients,
                                         options.sessions + options.clients + 1))


# -- sandbox data -------------------------------------------------------------------------

@dataclass(frozen=True)
class Population:
    phones: list[str]
    cr_ids: list[str]

    def digits(self, patient: int) -> str:
        """The CR ID as a keypad types it: digits only."""
        return self.cr_ids[patient][2:].replace("-", "")


def make_population(health_workers: int, patients: int) -> Population:
    phones = [f"+2547110{n:05d}" for n in range(health_workers)]
    cr_ids = [f"CR{8_000_000_000_000 + n:013d}-{n % 10}" for n in range(patients)]

    return Population(phones, cr_ids)


def write_sandbox_data(path: Path, population: Population) -> None:
    """Sandbox data in config/sandbox_data.json's shape: two phones a patient, one default."""
    workers = [{"phone": phone, "name": f"Bench Worker {n}", "facility": FACILITY,
                "language": "en"} for n, phone in enumerate(population.phones)]
    patients = [{"cr_id": cr_id, "contacts": [
        {"id": f"C-{n}-1", "phone": f"+2547200{n:05d}", "default": True},
        {"id": f"C-{n}-2", "phone": f"+2547300{n:05d}"},
    ]} for n, cr_id in enumerate(population.cr_ids)]
    data = {"facilities": [{"fr_code": FACILITY, "name": "Bench Health Centre"}],
            "clients": [{"client_id": "sandbox-client", "client_secret": "sandbox-secret"}],
            "health_workers": workers, "patients": patients}

    path.write_text(json.dumps(data), encoding="utf-8")


def session_forms(population: Population, run: str, session: int, patient: int
                  ) -> list[dict[str, str]]:
    """The four form posts of one Send-OTP session, as Africa's Talking sends them."""
    digits = population.digits(patient)
    base = {"sessionId": f"ATUid_{run}_{session}", "serviceCode": SERVICE_CODE,
            "phoneNumber": population.phones[session % len(population.phones)],
            "networkCode": NETWORK_CODE}

    return [{**base, "text": text} for text in ("", "1", f"1*{digits}", f"1*{digits}*1")]


# -- servers ------------------------------------------------------------------------------

@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served(name: str, app: str, *, workers: int, threads: int, env: dict[str, str],
           log: Path, ready_path: str) -> Iterator[Server]:
    """A gunicorn serving ``app`` on a free loopback port, stopped on the way out."""
    port = free_port()
    command = [str(GUNICORN), "-w", str(workers), "--threads", str(threads),
               "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT), "--graceful-timeout", "5", app]
    with log.open("wb") as sink:
        # A session of its own, so a Ctrl-C reaches us alone and we stop it in order.
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(name, process, f"http://127.0.0.1:{port}", log)
    try:
        wait_ready(server, ready_path)
        yield server
    finally:
        stop(server)


def wait_ready(server: Server, path: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited at start:\n{tail(server.log)}")
        try:
            if requests.get(server.url + path, timeout=1.0).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)

    raise RuntimeError(f"{server.name} not ready in {STARTUP_SECONDS:g} s:\n{tail(server.log)}")


def stop(server: Server) -> None:
    if server.process.poll() is not None:
        return
    server.process.terminate()
    try:
        server.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=STOP_SECONDS)


def tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


# -- load ---------------------------------------------------------------------------------

class Claims:
    """Hands out session numbers until the count or the time runs out."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.deadline = time.monotonic() + seconds
        self._numbers = itertools.count()
        self._lock = threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            number = next(self._numbers)
        if number >= self.limit or time.monotonic() >= self.deadline:
            return None

        return number


@dataclass
class Tally:
    latencies: list[list[float]] = field(default_factory=lambda: [[], [], [], []])
    sessions: int = 0
    failures: int = 0
    reasons: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def fail(self, reason: str) -> None:
        self.failures += 1
        if len(self.reasons) < 5:
            self.reasons.append(reason)

    def absorb(self, other: Tally) -> None:
        for mine, theirs in zip(self.latencies, other.latencies, strict=True):
            mine.extend(theirs)
        self.sessions += other.sessions
        self.failures += other.failures
        self.reasons.extend(other.reasons[:5 - len(self.reasons)])

    @property
    def all_latencies(self) -> list[float]:
        return [value for hop in self.latencies for value in hop]


Forms = Callable[[int], list[dict[str, str]]]


def run_load(url: str, forms: Forms, expected: tuple[str, ...], *, clients: int,
             sessions: int, seconds: float) -> Tally:
    """Drive ``sessions`` sessions (or ``seconds`` of them) from ``clients`` threads."""
    claims = Claims(sessions, seconds)
    tallies = [Tally() for _ in range(clients)]
    threads = [threading.Thread(target=drive, args=(url + "/ussd", forms, expected, claims, t),
                                daemon=True) for t in tallies]

    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        # A session is four requests, each bounded by REQUEST_TIMEOUT.
        thread.join(timeout=seconds + 4 * sum(REQUEST_TIMEOUT))
    total = Tally(elapsed=time.perf_counter() - started)
    for tally in tallies:
        total.absorb(tally)

    return total


def drive(url: str, forms: Forms, expected: tuple[str, ...], claims: Claims,
          tally: Tally) -> None:
    """One client thread: one HTTP connection, one session after another."""
    with requests.Session() as http:
        while (number := claims.take()) is not None:
            play_session(http, url, forms(number), expected, tally)


def play_session(http: requests.Session, url: str, forms: list[dict[str, str]],
                 expected: tuple[str, ...], tally: Tally) -> None:
    for hop, (form, prefix) in enumerate(zip(forms, expected, strict=True)):
        started = time.perf_counter()
        try:
            response = http.post(url, data=form, timeout=REQUEST_TIMEOUT)
        except requests.RequestException as error:
            tally.fail(f"hop {hop + 1}: {type(error).__name__}")
            return
        tally.latencies[hop].append(time.perf_counter() - started)
        if response.status_code != 200 or not response.text.startswith(prefix):
            tally.fail(f"hop {hop + 1}: HTTP {response.status_code} {response.text[:60]!r}")
            return

    tally.sessions += 1


# -- Redis round trips --------------------------------------------------------------------

class CountingConnection(redis.Connection):
    """Counts what it sends: one send per command or per pipeline, so one per round trip."""

    round_trips = 0

    def send_packed_command(self, command: object, check_health: bool = True) -> None:
        CountingConnection.round_trips += 1
        super().send_packed_command(command, check_health)


def counting_client() -> redis.Redis:
    pool = redis.ConnectionPool.from_url(REDIS_URL, connection_class=CountingConnection,
                                         decode_responses=True)
    client = redis.Redis(connection_pool=pool)
    # Connect now, so the connection's own handshake is not charged to the first hop.
    client.ping()

    return client


def measure_round_trips(settings: Settings, forms: list[dict[str, str]]
                        ) -> list[tuple[int, str]]:
    """Round trips and reply of each hop of one session, through the Flask test client."""
    hops = []

    with counting_client() as client:
        http = create_app(settings, redis_client=client).test_client()
        for form in forms:
            CountingConnection.round_trips = 0
            reply = http.post("/ussd", data=form).get_data(as_text=True)
            hops.append((CountingConnection.round_trips, reply))

    return hops


def delete_keys(prefix: str) -> int:
    """Remove everything the run stored; SCAN, so Redis is never blocked."""
    deleted = 0
    with redis.Redis.from_url(REDIS_URL) as client:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(keys), 500):
            deleted += client.delete(*keys[start:start + 500])

    return deleted


# -- report -------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, math.ceil(share * len(ordered)) - 1)

    return ordered[rank] * 1000


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


def figures(tally: Tally) -> dict[str, float]:
    latencies = tally.all_latencies
    seconds = tally.elapsed or float("nan")

    return {"sessions": tally.sessions, "hops": len(latencies), "failures": tally.failures,
            "seconds": tally.elapsed, "hops_s": len(latencies) / seconds,
            "sessions_s": tally.sessions / seconds, "p50": percentile(latencies, 0.50),
            "p99": percentile(latencies, 0.99),
            "max": max(latencies) * 1000 if latencies else float("nan")}


def results_table(gateway: Tally, baseline: Tally) -> list[str]:
    header = (f"  {'':10}{'sessions':>9}{'hops':>7}{'fail':>6}{'secs':>7}{'hops/s':>9}"
              f"{'sess/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}")
    rows = [header]
    for name, tally in (("gateway", gateway), ("baseline", baseline)):
        f = figures(tally)
        rows.append(f"  {name:10}{f['sessions']:>9}{f['hops']:>7}{f['failures']:>6}"
                    f"{f['seconds']:>7.1f}{f['hops_s']:>9.1f}{f['sessions_s']:>8.1f}"
                    f"{f['p50']:>8.1f}{f['p99']:>8.1f}{f['max']:>8.1f}")
    g, b = figures(gateway), figures(baseline)
    rows.append(f"  gateway/baseline: throughput {ratio(g['hops_s'], b['hops_s']):.2f}x, "
                f"p50 latency {ratio(g['p50'], b['p50']):.2f}x")

    return rows


def per_hop_lines(gateway: Tally, round_trips: list[tuple[int, str]]) -> list[str]:
    lines = [f"  {'hop':4}{'text':20}{'p50 ms':>8}{'p99 ms':>8}{'Redis RTs':>11}  reply"]
    for hop, (label, latencies) in enumerate(zip(HOP_LABELS, gateway.latencies, strict=True)):
        count, reply = round_trips[hop]
        lines.append(f"  {hop + 1:<4}{label:20}{percentile(latencies, 0.5):>8.1f}"
                     f"{percentile(latencies, 0.99):>8.1f}{count:>11}  "
                     f"{reply.splitlines()[0][:40]}")
    # sessions/store.py promises one round trip to read a hop and one to write it.
    plain = [count for count, _ in round_trips[:2]]
    verdict = "as designed" if plain == [2, 2] else "NOT the 2 sessions/store.py promises"
    lines.append(f"  hops 1-2 call no upstream: {plain} round trips, {verdict}")
    lines.append("  hops 3-4 each make one SHA call: contacts, then send OTP")

    return lines


def machine_lines(options: Options) -> list[str]:
    with redis.Redis.from_url(REDIS_URL) as client:
        info = client.info("server")

    return [
        f"  machine:  nproc={len(os.sched_getaffinity(0))}, {platform.system()} "
        f"{platform.machine()}, Python {platform.python_version()}, "
        f"Redis {info['redis_version']} at {REDIS_URL}",
        f"  clients:  {options.clients} threads in this process (they share its CPUs); "
        f"each run stops at {options.sessions} sessions or {options.seconds:g} s",
        f"  gunicorn: gateway and baseline -w {options.workers} --threads {options.threads}; "
        f"SHA sandbox -w {options.sandbox_workers} --threads 8",
        f"  data:     {options.health_workers} health workers, {options.patients} patients "
        "(2 phones each); no patient is used twice",
    ]


def failure_lines(gateway: Tally, baseline: Tally, log_summary: str) -> list[str]:
    lines = [f"  gateway log: {log_summary}"]
    for name, tally in (("gateway", gateway), ("baseline", baseline)):
        if not tally.failures:
            lines.append(f"  {name}: no failures")
            continue
        lines.append(f"  {name}: {tally.failures} failed sessions; first reasons:")
        lines.extend(f"    {reason}" for reason in tally.reasons)

    return lines


def summarise_log(path: Path) -> str:
    """Request lines and anything at WARNING or above in the gateway's JSON log."""
    requests_logged, troubles = 0, []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        requests_logged += entry.get("event") == "request"
        if entry.get("level") in ("WARNING", "ERROR", "CRITICAL"):
            troubles.append(f"{entry['level']} {entry.get('event', '')[:80]}")
    first = f"; first: {troubles[0]}" if troubles else ""

    return f"{requests_logged} request lines, {len(troubles)} at WARNING or above{first}"


def print_report(options: Options, gateway: Tally, baseline: Tally,
                 round_trips: list[tuple[int, str]], log_summary: str) -> None:
    sections = [
        ["USSD gateway benchmark (loopback)", *machine_lines(options)],
        ["Throughput and latency per hop (complete Send-OTP sessions, 4 hops each)",
         *results_table(gateway, baseline)],
        ["Gateway per hop (latency under load; Redis round trips of one in-process session)",
         *per_hop_lines(gateway, round_trips)],
        ["Failures", *failure_lines(gateway, baseline, log_summary)],
    ]
    print("\n\n".join("\n".join(section) for section in sections))


# -- the run ------------------------------------------------------------------------------

def gateway_env(prefix: str, sandbox_url: str, data: Path) -> dict[str, str]:
    # No CALLBACK_KEY: the bench posts as Africa's Talking would, without ``?key=``.
    # Its health workers share one facility, whose daily send cap would end the
    # run after 1,000 sessions: the caps are lifted, their check still runs.
    return {"GATEWAY_MODE": "sandbox", "REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix,
            "HIE_BASE_URL": sandbox_url, "SANDBOX_DATA": str(data), "LOG_FORMAT": "json",
            "CALLBACK_KEY": "", "WORKER_SENDS_PER_DAY": "100000",
            "FACILITY_SENDS_PER_DAY": "10000000"}


def benchmark(options: Options, prefix: str, workdir: Path) -> None:
    population = make_population(options.health_workers, options.patients)
    data = workdir / "sandbox_data.json"
    write_sandbox_data(data, population)
    pool = {"workers": options.workers, "threads": options.threads}

    with ExitStack() as servers:
        sandbox = servers.enter_context(served(
            "SHA sandbox", "sandbox:create_app()", workers=options.sandbox_workers, threads=8,
            env={"SANDBOX_DATA": str(data)}, log=workdir / "sandbox.log",
            ready_path="/sandbox/calls"))
        gateway = servers.enter_context(served(
            "gateway", "app:create_app()", **pool, env=gateway_env(prefix, sandbox.url, data),
            log=workdir / "gateway.log", ready_path="/healthz"))
        baseline = servers.enter_context(served(
            "baseline", "bench.baseline:create_app()", **pool,
            env={"REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix + "baseline:"},
            log=workdir / "baseline.log", ready_path="/healthz"))

        gateway_run, baseline_run = drive_both(options, population, gateway.url, baseline.url)
        settings = Settings(mode="sandbox", redis_url=REDIS_URL, redis_prefix=prefix + "rt:",
                            hie_base_url=sandbox.url, sandbox_data=data,
                            service_codes=(SERVICE_CODE,), log_format="json")
        patient = options.sessions + options.clients
        round_trips = measure_round_trips(settings, session_forms(population, "rt", 0, patient))

    print_report(options, gateway_run, baseline_run, round_trips,
                 summarise_log(workdir / "gateway.log"))


def drive_both(options: Options, population: Population, gateway_url: str,
               baseline_url: str) -> tuple[Tally, Tally]:
    """Warm both up, then load the gateway, then the baseline with as many requests."""
    first_spare = options.sessions
    warm = {"clients": options.clients, "sessions": options.clients, "seconds": 10.0}
    run_load(gateway_url, lambda n: session_forms(population, "warm", n, first_spare + n),
             GATEWAY_EXPECTED, **warm)
    run_load(baseline_url, lambda n: session_forms(population, "warm", n, n),
             BASELINE_EXPECTED, **warm)

    gateway = run_load(gateway_url, lambda n: session_forms(population, "gw", n, n),
                       GATEWAY_EXPECTED, clients=options.clients, sessions=options.sessions,
                       seconds=options.seconds)
    baseline = run_load(baseline_url, lambda n: session_forms(population, "base", n, n),
                        BASELINE_EXPECTED, clients=options.clients,
                        sessions=gateway.sessions + gateway.failures, seconds=options.seconds)

    return gateway, baseline


def quiet_in_process_logging(path: Path) -> None:
    """Send the in-process app's log lines to a file; create_app then leaves logging alone."""
    logging.getLogger().handlers[:] = [logging.FileHandler(path)]


def exit_on_sigterm(signum: int, frame: object) -> None:
    # As for Ctrl-C: unwind through the finally blocks that stop servers and delete keys.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    prefix = f"bench:{secrets.token_hex(4)}:"
    with tempfile.TemporaryDirectory(prefix="ussd-bench-") as tmp:
        quiet_in_process_logging(Path(tmp) / "in-process.log")
        try:
            benchmark(options, prefix, Path(tmp))
        except KeyboardInterrupt:
            print("interrupted; servers stopped", file=sys.stderr)
            return 130
        finally:
            deleted = delete_keys(prefix)
            print(f"\ncleanup: servers stopped, {deleted} Redis keys under {prefix!r} deleted, "
                  "temporary files removed")

    return 0


if __name__ == "__main__":
    sys.exit(main())
