"""Shared helpers for the benchmarks in bench/ (not part of the test run).

- machine facts for reports (`machine_info`),
- a throw-away PostgreSQL database (`PgDatabase`) and Redis database (`redis_client`,
  `redis_flush`),
- the environment a benchmarked process runs with (`service_env`), `manage.py` calls and an
  API fixture (user, team, ACTIVE Meta ad accounts),
- gunicorn in its own process group (`GunicornConfig`, `GunicornServer`), log tails,
- processes and CPU time from /proc (`proc_table`, `machine_busy_s`, `CpuMeter`), py-spy
  (`PySpy`),
- a bounded asyncio load generator on aiohttp that runs in a separate process (`Phase`,
  `LoadGenerator`): closed loop at a fixed concurrency, or open loop at a fixed arrival rate,
  always for a fixed time and only against 127.0.0.1,
- percentiles and table printing.

Every benchmark is run with the repository's interpreter: `.venv/bin/python bench/<name>.py`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = REPO_ROOT / "var"
# Benchmarks import request builders from the repository (tests/payloads.py, ...).
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_SERVER_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
LOOPBACK = "127.0.0.1"


# --- machine ----------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """CPU count and model, RAM, OS, Python and the date: the header of every report."""
    cpu_model = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    ram_gib = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "ram_gib": ram_gib,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


# --- databases --------------------------------------------------------------------------------


def _replace_path(url: str, path: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=path))


class PgDatabase:
    """A PostgreSQL database owned by one benchmark run: dropped and created again on `create`,
    dropped on `drop` (other sessions on it are terminated)."""

    def __init__(self, name: str, admin_url: str = PG_ADMIN_URL) -> None:
        if not name.replace("_", "").isalnum():
            raise ValueError(f"unsafe database name {name!r}")
        self.name = name
        self.admin_url = admin_url
        self.url = _replace_path(admin_url, f"/{name}")

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    def create(self) -> None:
        self.drop()
        self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        import psycopg

        with psycopg.connect(self.url, connect_timeout=5) as conn:
            row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
        return row[0] if row else None

    def server_version(self) -> str:
        return str(self.scalar("SHOW server_version"))


def redis_url(db: int) -> str:
    return f"{REDIS_SERVER_URL}/{db}"


def redis_client(db: int) -> Any:
    """A client of one database of the bench Redis server."""
    import redis

    return redis.Redis.from_url(redis_url(db), socket_connect_timeout=5)


def redis_flush(db: int) -> None:
    redis_client(db).flushdb()


def redis_llen(db: int, key: str) -> int:
    return int(redis_client(db).llen(key))


# --- the service's processes ----------------------------------------------------------------


def service_env(*, database_url: str, redis_db: int, **extra: str) -> dict[str, str]:
    """Environment for manage.py and gunicorn: production-like (DEBUG off, quiet logs), on the
    bench database and a bench Redis database (broker and cache both), bench-only secrets."""
    env = dict(os.environ)
    broker = redis_url(redis_db)
    env.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker,
        CACHE_URL=broker.replace("redis://", "rediscache://", 1),
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key",  # noqa: S106 - throw-away database, loopback only
        FERNET_KEYS="bench-only-fernet-key",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        # No worker runs and nothing may leave the machine: Meta is a closed port.
        META_GRAPH_URL="http://127.0.0.1:9",
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
        DJANGO_SETTINGS_MODULE="mojito.settings",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """Run `manage.py ARGS` with this interpreter; its stdout, or the whole output on failure."""
    proc = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
        )
    return proc.stdout


_FIXTURE_CODE = """
import json
from adaccounts.services import ad_account_create, api_user_create
user, team, token = api_user_create(username={username!r}, team_name={team!r})
accounts = []
for act_id, access_token, name in {accounts!r}:
    account = ad_account_create(
        team=team, platform_type="META", platform_account_id=act_id, name=name,
        credentials={{"access_token": access_token}},
    )
    accounts.append(str(account.id))
print(json.dumps({{"token": token.key, "accounts": accounts}}))
"""


def create_api_fixture(
    env: dict[str, str],
    *,
    username: str = "bench",
    team: str = "bench",
    accounts: Sequence[tuple[str, str, str]] = (("act_100200300", "bench-token", "Bench account"),),
) -> dict[str, Any]:
    """An API user in a team with ACTIVE Meta ad accounts, one per (act_id, access token,
    name): {token, accounts: [the ad accounts' ids, in that order]}."""
    code = _FIXTURE_CODE.format(username=username, team=team, accounts=list(accounts))
    out = manage(env, "shell", "--no-imports", "-c", code)
    return json.loads(out.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log file ("" when it cannot be read)."""
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def stop_process_group(proc: subprocess.Popen | None, timeout: float = 10) -> None:
    """TERM a process started in its own group (and its children); KILL after `timeout`."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


@dataclass(frozen=True)
class GunicornConfig:
    workers: int
    threads: int = 1
    worker_class: str = "gthread"

    @property
    def label(self) -> str:
        if self.worker_class == "sync":
            return f"sync w={self.workers}"
        return f"{self.worker_class} w={self.workers} t={self.threads}"

    @property
    def slots(self) -> int:
        """Requests the server works on at once."""
        return self.workers * (self.threads if self.worker_class == "gthread" else 1)

    def args(self) -> list[str]:
        args = ["--workers", str(self.workers), "--worker-class", self.worker_class]
        if self.worker_class == "gthread":
            args += ["--threads", str(self.threads)]
        return args

    @classmethod
    def parse(cls, text: str) -> GunicornConfig:
        """Parse "gthread:4x4" (workers x threads) or "sync:4"."""
        kind, _, size = text.partition(":")
        if kind == "sync":
            return cls(workers=int(size), worker_class="sync")
        workers, _, threads = size.partition("x")
        return cls(workers=int(workers), threads=int(threads or 1), worker_class=kind)


class GunicornServer:
    """`gunicorn mojito.wsgi` on 127.0.0.1 in its own process group; a context manager.

    Output goes to `log_path`; its tail is shown when the server does not come up.
    """

    def __init__(
        self,
        config: GunicornConfig,
        env: dict[str, str],
        *,
        port: int | None = None,
        log_path: Path | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.config = config
        self.env = env
        self.port = port or free_port()
        self.log_path = log_path or VAR_DIR / "bench-gunicorn.log"
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 60) -> GunicornServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "mojito.wsgi",
            "--bind",
            f"{LOOPBACK}:{self.port}",
            *self.config.args(),
            "--log-level",
            "warning",
            "--graceful-timeout",
            "5",
            "--no-control-socket",
            *self.extra_args,
        ]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter
                command,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us, not gunicorn: we stop it ourselves
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as resp:  # noqa: S310
                    if resp.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"gunicorn ({self.config.label}) did not come up; last lines of {self.log_path}:\n"
            + log_tail(self.log_path, 30)
        )

    def pids(self) -> list[int]:
        """The arbiter and its workers (its process group), e.g. for profilers."""
        if self.proc is None:
            return []
        return [p.pid for p in proc_table() if p.pgrp == self.proc.pid]

    def stop(self, timeout: float = 10) -> None:
        proc, self.proc = self.proc, None
        stop_process_group(proc, timeout)

    def __enter__(self) -> GunicornServer:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- CPU accounting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    pgrp: int
    cmdline: str  # arguments joined by spaces, stripped
    cpu_s: float  # user + system of the process itself, seconds
    children_cpu_s: float  # user + system of its children that ended and were reaped
    system_s: float  # system (kernel) time of the process itself


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_table() -> list[ProcInfo]:
    """Every process readable in /proc, with its process group, its own CPU time and that of
    its reaped children (Linux)."""
    table = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table.append(
            ProcInfo(
                pid=int(entry),
                pgrp=int(fields[2]),
                cmdline=cmdline.decode(errors="replace").strip(),
                cpu_s=(int(fields[11]) + int(fields[12])) / _CLOCK_TICKS,
                children_cpu_s=(int(fields[13]) + int(fields[14])) / _CLOCK_TICKS,
                system_s=int(fields[12]) / _CLOCK_TICKS,
            )
        )
    return table


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores, /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / _CLOCK_TICKS


class CpuMeter:
    """CPU seconds spent by the benchmark's parts between two snapshots.

    Parts: `gunicorn` (the server's process group), `postgres` (backends connected to the
    bench database), `loadgen` (the load generator) and `machine` (every core, everything).
    `other` = machine - the parts: PostgreSQL's and Redis' background work, the kernel, and
    anything else running on the machine (which makes a run noisy when it is large).
    """

    def __init__(self, *, server_pgrp: int, database: str, loadgen_pids: Sequence[int]) -> None:
        self.server_pgrp = server_pgrp
        self.database = database
        self.loadgen_pids = set(loadgen_pids)

    def snapshot(self) -> dict[str, Any]:
        """CPU seconds so far of each process of each part, and of the whole machine."""
        parts: dict[str, dict[int, float]] = {"gunicorn": {}, "postgres": {}, "loadgen": {}}
        for proc in proc_table():
            if proc.pgrp == self.server_pgrp:
                parts["gunicorn"][proc.pid] = proc.cpu_s
            elif proc.pid in self.loadgen_pids:
                parts["loadgen"][proc.pid] = proc.cpu_s
            elif proc.cmdline.startswith("postgres:") and f" {self.database} " in proc.cmdline:
                parts["postgres"][proc.pid] = proc.cpu_s
        return {"parts": parts, "machine": machine_busy_s(), "at": time.monotonic()}

    @staticmethod
    def usage(before: dict[str, Any], after: dict[str, Any], requests: int) -> dict[str, Any]:
        """CPU per request (ms) by part, and how busy the machine was (cores).

        Per process: one that started in between counts from zero; one that ended in between
        (a database connection closed) is lost, so a part may be slightly under-counted.
        """
        spent: dict[str, float] = {}
        for part, pids in after["parts"].items():
            earlier = before["parts"].get(part, {})
            spent[part] = sum(max(0.0, cpu - earlier.get(pid, 0.0)) for pid, cpu in pids.items())
        spent["machine"] = max(0.0, after["machine"] - before["machine"])
        spent["other"] = max(
            0.0, spent["machine"] - spent["gunicorn"] - spent["postgres"] - spent["loadgen"]
        )
        seconds = max(1e-9, after["at"] - before["at"])
        per_request = {
            k: round(v * 1000 / requests, 2) if requests else None for k, v in spent.items()
        }
        return {
            "cpu_ms_per_request": per_request,
            "machine_busy_cores": round(spent["machine"] / seconds, 2),
            "other_cores": round(spent["other"] / seconds, 2),
        }


# --- py-spy -----------------------------------------------------------------------------------


def find_py_spy() -> str | None:
    """py-spy next to this interpreter (the venv), else on PATH."""
    import shutil

    return shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")


class PySpy:
    """`py-spy record` attached to one process (and with `subprocesses`, its descendants) for a
    bounded time, raw (collapsed) output; in its own process group."""

    def __init__(
        self,
        pid: int,
        output: Path,
        *,
        seconds: int,
        rate: int = 100,
        gil: bool = True,
        subprocesses: bool = False,
    ) -> None:
        exe = find_py_spy()
        if exe is None:
            raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
        self.output = output
        command = [
            exe, "record", "--pid", str(pid), "--rate", str(rate), "--duration", str(seconds),
            "--format", "raw", "--output", str(output), "--nonblocking",
        ]  # fmt: skip
        if gil:
            command.append("--gil")
        if subprocesses:
            command.append("--subprocesses")
        output.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(  # noqa: S603 - py-spy from the venv
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.seconds = seconds

    def stop(self) -> None:
        """Stop py-spy if it still runs (its process group)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(5)

    def finish(self) -> None:
        """Wait for py-spy to write its output; RuntimeError if it failed."""
        try:
            _, err = self.proc.communicate(timeout=self.seconds + 30)
        finally:
            self.stop()
        if self.proc.returncode != 0 or not self.output.exists():
            raise RuntimeError(
                f"py-spy failed ({self.proc.returncode}): {(err or '').strip()[-500:]}"
            )


# --- statistics -------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) of already sorted values, interpolated linearly."""
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return sorted_values[0]
    rank = (len(sorted_values) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


# --- load generation --------------------------------------------------------------------------


@dataclass
class Phase:
    """One measured run against one URL: closed loop (`concurrency`) or open loop (`rate`).

    Requests go out for `warmup + duration` seconds; only those sent after the warm-up are
    measured. Every response is counted by status, warm-up included, so the caller can check
    that the server stored exactly what it acknowledged.
    """

    name: str
    url: str
    body: bytes
    headers: dict[str, str]
    expect: tuple[int, ...]
    duration: float = 10.0
    warmup: float = 2.0
    concurrency: int | None = None
    rate: float | None = None
    # A fresh Idempotency-Key header on every request.
    idempotency_keys: bool = False
    # Open loop: requests in flight at most; past it a request is not sent and counted dropped.
    max_in_flight: int = 512
    timeout: float = 10.0

    def __post_init__(self) -> None:
        host = urllib.parse.urlsplit(self.url).hostname
        if host != LOOPBACK:
            raise ValueError(f"load is only ever sent to {LOOPBACK}, not {host}")
        if (self.concurrency is None) == (self.rate is None):
            raise ValueError("give either concurrency (closed loop) or rate (open loop)")

    @property
    def mode(self) -> str:
        return "closed" if self.concurrency is not None else "open"


@dataclass
class PhaseResult:
    name: str
    mode: str
    concurrency: int | None
    target_rate: float | None
    duration: float
    measured: int  # responses to requests sent inside the measured window
    rps: float  # measured responses per second of the window
    latencies_ms: list[float] = field(repr=False)
    statuses: dict[int, int]  # every response, warm-up included; 0 = no response
    errors: dict[str, int]  # exception names of requests that got no response
    dropped: int = 0  # open loop: not sent because max_in_flight was reached
    max_send_lag_ms: float = 0.0  # open loop: worst delay of a send after its scheduled time
    samples: dict[int, str] = field(default_factory=dict)  # first body seen per status
    cpu: dict[str, Any] = field(default_factory=dict)  # CpuMeter.usage over the window

    def summary(self) -> dict[str, Any]:
        values = sorted(self.latencies_ms)

        def ms(q: float) -> float | None:
            value = percentile(values, q)
            return None if value is None else round(value, 2)

        data = asdict(self)
        del data["latencies_ms"]
        data.update(
            rps=round(self.rps, 1),
            max_send_lag_ms=round(self.max_send_lag_ms, 2),
            p50_ms=ms(50),
            p95_ms=ms(95),
            p99_ms=ms(99),
            max_ms=round(values[-1], 2) if values else None,
            mean_ms=round(sum(values) / len(values), 2) if values else None,
        )
        return data

    def unexpected(self, expect: Sequence[int]) -> dict[str, int]:
        bad = {str(code): n for code, n in self.statuses.items() if code not in expect}
        bad.update(self.errors)
        if self.dropped:
            bad["dropped"] = self.dropped
        return bad


async def _send(session: Any, phase: Phase) -> tuple[int, bytes | str]:
    headers = phase.headers
    if phase.idempotency_keys:
        headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    async with session.post(phase.url, data=phase.body, headers=headers) as resp:
        return resp.status, await resp.read()


async def _run_phase(phase: Phase) -> PhaseResult:
    import aiohttp

    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    samples: dict[int, str] = {}
    latencies: list[float] = []
    loop_start = time.perf_counter() + 0.05
    window_start = loop_start + phase.warmup
    window_end = window_start + phase.duration

    async def timed(session: Any, scheduled: float) -> None:
        try:
            status, body = await _send(session, phase)
        except Exception as exc:
            errors[type(exc).__name__] += 1
            status, body = 0, ""
        done = time.perf_counter()
        statuses[status] += 1
        if status and status not in samples:
            samples[status] = body[:500].decode(errors="replace") if body else ""
        if status and window_start <= scheduled < window_end:
            latencies.append((done - scheduled) * 1000)

    limit = phase.concurrency or phase.max_in_flight
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit)
    timeout = aiohttp.ClientTimeout(total=phase.timeout)
    dropped = 0
    max_lag = 0.0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        if phase.concurrency is not None:

            async def user() -> None:
                while (start := time.perf_counter()) < window_end:
                    await timed(session, start)

            await asyncio.sleep(max(0.0, loop_start - time.perf_counter()))
            await asyncio.gather(*(user() for _ in range(phase.concurrency)))
        else:
            assert phase.rate is not None
            interval = 1.0 / phase.rate
            total = int((phase.warmup + phase.duration) * phase.rate)
            in_flight: set[asyncio.Task[None]] = set()
            for i in range(total):
                scheduled = loop_start + i * interval
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    max_lag = max(max_lag, -delay * 1000)
                if len(in_flight) >= phase.max_in_flight:
                    dropped += 1
                    continue
                # Latency counts from the scheduled time, so a late send is not hidden
                # (no coordinated omission).
                task = asyncio.create_task(timed(session, scheduled))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            if in_flight:
                await asyncio.wait(in_flight, timeout=phase.timeout + 1)
    return PhaseResult(
        name=phase.name,
        mode=phase.mode,
        concurrency=phase.concurrency,
        target_rate=phase.rate,
        duration=phase.duration,
        measured=len(latencies),
        # Requests sent in the window per second of it (closed loop: its throughput).
        rps=len(latencies) / phase.duration,
        latencies_ms=latencies,
        statuses=dict(statuses),
        errors=dict(errors),
        dropped=dropped,
        max_send_lag_ms=max_lag,
        samples=samples,
    )


def run_phase_in_process(phase: Phase) -> PhaseResult:
    """Entry point of the load-generator process."""
    with contextlib.suppress(ImportError):
        import uvloop  # type: ignore[import-not-found]

        return uvloop.run(_run_phase(phase))
    return asyncio.run(_run_phase(phase))


class LoadGenerator:
    """One separate process (spawned, so it shares no state with the caller) that runs phases
    one after the other. Each phase is bounded in time: warm-up + duration + request timeout."""

    def __init__(self) -> None:
        self.pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn")
        )

    def pids(self) -> list[int]:
        return list(getattr(self.pool, "_processes", None) or {})

    def run(self, phase: Phase, meter: CpuMeter | None = None) -> PhaseResult:
        """Run one phase; with `meter`, also measure CPU use over the measured window."""
        bound = phase.warmup + phase.duration + phase.timeout + 30
        if meter is not None and not self.pids():
            self.pool.submit(int).result()  # start the process, so its pid is known
        future = self.pool.submit(run_phase_in_process, phase)
        usage: dict[str, Any] = {}
        if meter is not None:
            meter.loadgen_pids = set(self.pids())
            thread = threading.Thread(
                target=self._meter_window, args=(phase, meter, usage), daemon=True
            )
            thread.start()
        result = future.result(timeout=bound)
        if meter is not None:
            thread.join(phase.warmup + phase.duration + 5)
            if "before" in usage and "after" in usage:
                result.cpu = CpuMeter.usage(usage["before"], usage["after"], result.measured)
        return result

    @staticmethod
    def _meter_window(phase: Phase, meter: CpuMeter, out: dict[str, Any]) -> None:
        # The child starts its clock ~0.05 s after it gets the phase; close enough.
        time.sleep(0.05 + phase.warmup)
        out["before"] = meter.snapshot()
        time.sleep(phase.duration)
        out["after"] = meter.snapshot()

    def close(self) -> None:
        # A child still running a phase (Ctrl-C, timeout) is stopped here, by its own pid.
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            if proc.is_alive():
                proc.terminate()
                proc.join(5)

    def __enter__(self) -> LoadGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- reporting --------------------------------------------------------------------------------


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table, numbers right-aligned."""
    cells = [[("-" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str], raw: Sequence[Any] | None = None) -> str:
        out = []
        for i, value in enumerate(values):
            numeric = raw is not None and isinstance(raw[i], int | float)
            out.append(value.rjust(widths[i]) if numeric else value.ljust(widths[i]))
        return "  ".join(out).rstrip()

    lines = [line(headers), line(["-" * w for w in widths])]
    lines += [line(c, r) for c, r in zip(cells, rows, strict=True)]
    return "\n".join(lines)


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so `finally:` blocks clean up either way."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
