"""End-to-end harness: the real API (in this process), a real Celery worker and beat (separate
processes), real PostgreSQL and Redis, and the Meta sandbox on loopback.

- The Meta sandbox (`SandboxServer(seed=False)`) and a small image server run in threads of this
  process while this package runs (package scope: the rest of the suite never sees them, nor
  the worker); each test gets a reset sandbox with a fresh token, ad account
  and page, and a fresh API user whose team owns the matching ad account (made through the API).
- The worker runs `celery -A mojito worker -P threads -c 4` against pytest-django's test
  database (rows must be committed for it to see them: every test is `transactional_db`). It is
  started once per distinct configuration: a module that needs other settings (short lease,
  private addresses refused) overrides the module-scoped `worker` fixture, and the previous
  worker is stopped first, so no other worker can take its jobs.
- Beat runs while the package runs, with a 1 s sweep interval, so the sweeper is the real one.
- Broker and cache: the worker and this process's publisher use two Redis databases of their
  own on the tests' Redis server, claimed for this run (empty, marked with SET NX) and emptied
  at the end. Sharing db 0 / db 1 with the rest of the suite would let this worker consume the
  messages other test modules inspect in the `celery` queue (and flushing the cache would wipe
  theirs); sharing a fixed database with another engineer's e2e run at the same time would let
  each worker take the other's job messages and drop them (the job is not in its database).
- Logs of every worker and beat go to files under pytest's tmp dir; the part written during a
  failed test is attached to its report. The worker runs with `-l INFO` (E2E_WORKER_LOG_LEVEL
  to change it) and LOG_LEVEL=DEBUG.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management.base import CommandError
from django.db import OperationalError, connection
from django.test import TransactionTestCase

from campaigns.models import CampaignJob
from platforms.meta.sandbox import SandboxConfig, SandboxServer
from tests.broker import broker_write_url
from tests.e2e.harness import (
    CeleryProcesses,
    E2ERedis,
    Harness,
    ImageServer,
    MetaAccount,
    RecordingAPIClient,
    database_url,
    tail,
)
from tests.factories import make_caller

E2E_DIR = Path(__file__).resolve().parent

# The sandbox's state at the start of every test: videos are ready soon, no throttling.
SANDBOX_CONFIG = {"video_ready_after": 0.8, "throttle_score": 1_000_000}

# The worker's settings (all env-driven): short retries, pauses and polls so the suite is fast.
WORKER_ENV = {
    "MEDIA_FETCH_ALLOW_PRIVATE": "true",
    "JOB_RETRY_BASE_SECONDS": "0.2",
    "JOB_RETRY_MAX_SECONDS": "1",
    "META_USAGE_PAUSE_SECONDS": "1",
    "META_VIDEO_POLL_SECONDS": "0.3",
    "JOB_LEASE_SECONDS": "30",
    # The lease must outlast one Meta call plus one image download (settings refuse less).
    "META_REQUEST_TIMEOUT": "10",
    "MEDIA_FETCH_TIMEOUT": "5",
    "JOB_SWEEP_INTERVAL_SECONDS": "1",
    # A waiting job (its account back to ACTIVE) is published again by the sweeper once its
    # last publication is this old; the default (60 s) would make the token test a minute long.
    "JOB_REPUBLISH_AFTER_SECONDS": "2",
    "LOG_LEVEL": "DEBUG",
    "PYTHONUNBUFFERED": "1",
    # No periodic sync from the session's beat: its reads would land in the request logs that
    # other tests read. tests/e2e/test_sync.py runs a beat of its own that syncs.
    "META_SYNC_INTERVAL_SECONDS": "0",
}

PROCS_KEY = pytest.StashKey["CeleryProcesses"]()
OFFSETS_KEY = pytest.StashKey[dict]()


# --- markers and reports ------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "e2e: end-to-end tests (real Celery worker and beat, Redis, PostgreSQL, Meta sandbox)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not report.failed or report.when not in ("setup", "call"):
        return
    procs = item.stash.get(PROCS_KEY, None)
    if procs is None:
        return
    offsets = item.stash.get(OFFSETS_KEY, {})
    for path in procs.log_paths():
        if not path.exists():
            continue
        text = path.read_text(errors="replace")[offsets.get(path, 0) :]
        if text.strip():
            report.sections.append((f"celery log {path.name}", tail(text, 150)))


# --- package: sandbox, images, Redis, worker and beat ---------------------------------------------


@pytest.fixture(scope="package", autouse=True)
def _flush_survives_a_deadlock() -> Iterator[None]:
    """The truncation that ends a test runs while beat's sweeps still run in the worker: a
    sweep holding a row of one table and waiting for another can deadlock with TRUNCATE, which
    locks table after table. PostgreSQL then aborts one of the two; when it is the TRUNCATE,
    it is simply run again: the sweep, no longer blocked, finishes and lets go of its rows."""
    flush = TransactionTestCase._fixture_teardown

    def teardown(case: TransactionTestCase) -> None:
        for attempt in range(3):
            try:
                return flush(case)
            except CommandError as exc:
                deadlock = isinstance(exc.__cause__, OperationalError) and (
                    "deadlock" in str(exc.__cause__)
                )
                if not deadlock or attempt == 2:
                    raise

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TransactionTestCase, "_fixture_teardown", teardown)
        yield


@pytest.fixture(scope="package")
def sandbox_server() -> Iterator[SandboxServer]:
    server = SandboxServer(seed=False).start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def image_server() -> Iterator[ImageServer]:
    server = ImageServer()
    yield server
    server.close()


@pytest.fixture(scope="package")
def e2e_redis() -> Iterator[E2ERedis]:
    server = django_settings.CELERY_BROKER_URL.rsplit("/", 1)[0]
    redis_ = E2ERedis.claim(server)
    # This process publishes job ids (after each submission's commit) to the worker's broker,
    # for the e2e package only: the rest of the suite keeps its own broker.
    try:
        with broker_write_url(redis_.broker_url):
            redis_.clean()
            yield redis_
    finally:
        redis_.release()


@pytest.fixture(scope="package")
def celery_procs(
    django_db_setup: None,
    tmp_path_factory: pytest.TempPathFactory,
    sandbox_server: SandboxServer,
    e2e_redis: E2ERedis,
) -> Iterator[CeleryProcesses]:
    log_dir = tmp_path_factory.mktemp("celery-logs")
    env = dict(os.environ)
    env.update(WORKER_ENV)
    env.update(
        # pytest-django's test database (NAME is the test name once django_db_setup ran).
        DATABASE_URL=database_url(connection.settings_dict),
        CELERY_BROKER_URL=e2e_redis.broker_url,
        CACHE_URL=e2e_redis.cache_url,
        META_GRAPH_URL=sandbox_server.base_url,
        DJANGO_SETTINGS_MODULE="mojito.settings",
    )
    procs = CeleryProcesses(env, log_dir)
    try:
        procs.start_beat(log_dir / "beat-schedule")
        yield procs
    finally:
        procs.stop_all()


@pytest.fixture(scope="module")
def worker(celery_procs: CeleryProcesses):
    """The worker with the default e2e settings (modules override this for other settings)."""
    return celery_procs.ensure_worker({"META_EXECUTION_MODE": "batch"})


# --- per test ------------------------------------------------------------------------------


def _settle(timeout: float = 30.0) -> None:
    """Wait until no job is PROCESSING, then cancel what is still PENDING, so the table
    truncation that ends the test never pulls rows from under the worker."""
    deadline = time.monotonic() + timeout
    while CampaignJob.objects.filter(status="PROCESSING").exists():
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    CampaignJob.objects.filter(status__in=["PENDING", "PROCESSING"]).update(status="CANCELLED")


def _reset_sandbox(server: SandboxServer) -> None:
    state = server.state
    with state.lock:
        state.config = SandboxConfig(**SANDBOX_CONFIG)
        state.reset(accounts=True)


def new_meta_account(
    server: SandboxServer, token: str | None = None, **register: object
) -> MetaAccount:
    """A fresh token with access to a fresh ad account and page on the sandbox."""
    digits = str(uuid.uuid4().int)
    account = MetaAccount(
        token=token or f"e2e-token-{uuid.uuid4().hex}",
        act_id=f"act_{3 + int(digits[:1]) % 6}{digits[1:15]}",
        page_id=f"5{digits[15:29]}",
    )
    server.state.register(
        account.token,
        account.act_id,
        page_ids=[account.page_id],
        **register,  # type: ignore[arg-type]
    )
    return account


def create_ad_account(client: RecordingAPIClient, account: MetaAccount, name: str) -> str:
    response = client.post(
        "/api/v1/ad_accounts",
        {
            "platform_account_id": account.act_id,
            "name": name,
            "platform_type": "META",
            "credentials": {"access_token": account.token},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    account.id = response.json()["id"]
    return account.id


@pytest.fixture
def e2e(
    request: pytest.FixtureRequest,
    worker,
    celery_procs: CeleryProcesses,
    transactional_db: None,
    sandbox_server: SandboxServer,
    image_server: ImageServer,
    e2e_redis: E2ERedis,
    settings,
) -> Iterator[Harness]:
    # Verify runs in this process (the API's view): it must reach the sandbox too.
    settings.META_GRAPH_URL = sandbox_server.base_url
    _reset_sandbox(sandbox_server)
    e2e_redis.clean()
    image_server.requests.clear()
    offsets = {p: p.stat().st_size for p in celery_procs.log_paths() if p.exists()}
    request.node.stash[PROCS_KEY] = celery_procs
    request.node.stash[OFFSETS_KEY] = offsets

    account = new_meta_account(sandbox_server)
    client = make_caller(client_class=RecordingAPIClient).client
    create_ad_account(client, account, "E2E account")
    harness = Harness(
        client=client,
        sandbox=sandbox_server,
        images=image_server,
        procs=celery_procs,
        redis=e2e_redis,
        account=account,
        log_offsets=offsets,
    )
    yield harness
    _settle()
