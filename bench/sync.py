"""Benchmark a sync: Graph requests, time and SQL statements to read back an account with
`--campaigns` (50) campaigns x `--ads` (10) ads, against reading each object on its own (the
baseline, measured in the same run on the same sandbox).

    .venv/bin/python bench/sync.py                   # about a minute
    .venv/bin/python bench/sync.py --campaigns 10 --ads 5
    .venv/bin/python bench/sync.py --help

What it does (figures and their reading: docs/PERFORMANCE.md, "Sync"):

1. Set-up: PostgreSQL database `mojito_bench_sync` (`--db-name`, recreated and migrated),
   Redis database 12 (`--redis-db`, flushed) as broker and cache, the Meta sandbox in this
   process on a loopback port with `--latency-ms` (20) per request, one ACTIVE ad account.
2. The account's tree is built the real way: one CREATE job per campaign (1 ad set, `--ads`
   ads, every creative on one uploaded image), each run in this process through the engine and
   the Meta adapter (no Celery: the sync's own figures are what is measured).
3. Measured, `--repeat` (3) times each, the sandbox's request log counting every Graph call:
   - sync: one account SYNC job (its status lists, and one figures read per level);
   - baseline: what a sync without account-level lists would send for the statuses alone,
     one `GET /<id>` per object, through the same SDK session (figures read per object would
     add as many requests again).
4. The table: Graph requests, wall time and SQL statements of each, and the ratios.
   PASS when a sync takes at most `--max-requests` (10) requests.

Nothing leaves the machine: the sandbox listens on 127.0.0.1 and META_GRAPH_URL points at it.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import PgDatabase, format_table, redis_flush, redis_url

TOKEN = "bench-sync-token"  # noqa: S105 (the sandbox's, nothing real)
ACCOUNT = "act_300000000000001"
PAGE = "300000000000002"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--ads", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--max-requests", type=int, default=10)
    parser.add_argument("--db-name", default="mojito_bench_sync")
    parser.add_argument("--redis-db", type=int, default=12)
    return parser.parse_args()


def _setup_django(database: PgDatabase, redis_db: int) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mojito.settings",
        DATABASE_URL=database.url,
        CELERY_BROKER_URL=redis_url(redis_db),
        CACHE_URL=redis_url(redis_db).replace("redis://", "rediscache://", 1),
        SECRET_KEY="bench-sync-secret-key-not-for-production",  # noqa: S106
        FERNET_KEYS="bench-sync-fernet-key-not-for-production",
        LOG_LEVEL="WARNING",
        MEDIA_FETCH_ALLOW_PRIVATE="true",
        META_EXECUTION_MODE="batch",
        META_SYNC_INTERVAL_SECONDS="900",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


class Measured:
    def __init__(self, name: str) -> None:
        self.name = name
        self.requests: list[int] = []
        self.seconds: list[float] = []
        self.statements: list[int] = []

    def row(self) -> list[Any]:
        return [
            self.name,
            statistics.median(self.requests),
            f"{statistics.median(self.seconds) * 1000:.0f}",
            statistics.median(self.statements) if self.statements else "-",
        ]


def main() -> int:
    args = _arguments()
    database = PgDatabase(args.db_name)
    database.create()
    redis_flush(args.redis_db)
    _setup_django(database, args.redis_db)

    import requests
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from adaccounts.models import AdAccount, Team
    from campaigns.engine.claims import job_claim
    from campaigns.engine.runner import execute_job
    from campaigns.models import Ad, AdSet, Campaign, CampaignJob, JobStatus, ObjectType
    from campaigns.services import job_submit
    from campaigns.sync import sync_schedule
    from platforms.meta.adapter import MetaAdapter
    from platforms.meta.client import build_meta_client
    from platforms.meta.sandbox.server import SandboxServer
    from tests.images import make_png
    from tests.payloads import api_example

    sandbox = SandboxServer().start()
    try:
        base = sandbox.base_url
        requests.post(f"{base}/__sandbox__/reset", timeout=5).raise_for_status()
        requests.post(
            f"{base}/__sandbox__/accounts",
            json={"token": TOKEN, "account_id": ACCOUNT, "page_ids": [PAGE]},
            timeout=5,
        ).raise_for_status()
        settings.META_GRAPH_URL = base
        image = requests.post(
            f"{base}/v26.0/{ACCOUNT}/adimages",
            data={"access_token": TOKEN, "bytes": base64.b64encode(make_png(9, 9))},
            timeout=5,
        ).json()
        image_hash = next(iter(image["images"].values()))["hash"]

        team = Team.objects.create(name="bench")
        user = get_user_model().objects.create_user("bench")
        team.members.add(user)
        account = AdAccount.objects.create(
            team=team,
            platform_type="META",
            platform_account_id=ACCOUNT,
            name="Bench",
            credentials={"access_token": TOKEN},
        )

        started = time.monotonic()
        for n in range(args.campaigns):
            body = api_example(str(account.pk))
            body["campaign"]["name"] = f"Campaign {n}"
            ad_set = body["ad_sets"][0]
            template = ad_set["ads"][0]
            ad_set["ads"] = []
            for m in range(args.ads):
                ad = {**template, "name": f"Ad {n}.{m}"}
                creative = {**template["creative"], "name": f"Creative {n}.{m}", "page_id": PAGE}
                creative.pop("image_url", None)
                creative["image_hash"] = image_hash
                ad["creative"] = creative
                ad_set["ads"].append(ad)
            submission = job_submit(user=user, platform_type="META", data=body)
            job = job_claim(job_id=submission.job.pk)
            assert job is not None
            execute_job(job, MetaAdapter())
            job.refresh_from_db()
            assert job.status == JobStatus.SUCCESS, job.error
        print(
            f"Built {Campaign.objects.count()} campaigns, {AdSet.objects.count()} ad sets, "
            f"{Ad.objects.count()} ads in {time.monotonic() - started:.1f} s"
        )
        requests.post(
            f"{base}/__sandbox__/config", json={"latency_ms": args.latency_ms}, timeout=5
        ).raise_for_status()

        def graph_count() -> int:
            answer = requests.get(f"{base}/__sandbox__/requests", timeout=30).json()["data"]
            return len(answer)

        def sync_once(measured: Measured) -> None:
            CampaignJob.objects.filter(kind="SYNC").update(status=JobStatus.SUCCESS)
            CampaignJob.objects.filter(kind="SYNC").delete()
            (job_id,) = sync_schedule()
            before = graph_count()
            start = time.monotonic()
            with CaptureQueriesContext(connection) as queries:
                for _ in range(20):  # a deferred run is claimed again
                    job = job_claim(job_id=job_id)
                    if job is None:
                        CampaignJob.objects.filter(pk=job_id).update(next_attempt_at=None)
                        job = job_claim(job_id=job_id)
                    assert job is not None
                    execute_job(job, MetaAdapter())
                    job.refresh_from_db()
                    if job.status != JobStatus.PENDING:
                        break
            measured.seconds.append(time.monotonic() - start)
            measured.statements.append(len(queries))
            measured.requests.append(graph_count() - before)
            assert job.status == JobStatus.SUCCESS, job.error

        def baseline_once(measured: Measured) -> None:
            client = build_meta_client(account_id=ACCOUNT, credentials={"access_token": TOKEN})
            ids = [
                (t, str(pid))
                for t, model in (
                    (ObjectType.CAMPAIGN, Campaign),
                    (ObjectType.AD_SET, AdSet),
                    (ObjectType.AD, Ad),
                )
                for pid in model.objects.values_list("platform_id", flat=True)
            ]
            before = graph_count()
            start = time.monotonic()
            for object_type, platform_id in ids:
                fields = "id,status,effective_status,issues_info"
                if object_type == ObjectType.AD:
                    fields += ",ad_review_feedback"
                client.api.call("GET", (platform_id,), params={"fields": fields})
            measured.seconds.append(time.monotonic() - start)
            measured.requests.append(graph_count() - before)

        sync_measured = Measured("sync (statuses and figures)")
        baseline = Measured("baseline (per object)")
        for _ in range(args.repeat):
            sync_once(sync_measured)
            baseline_once(baseline)

        print()
        print(
            format_table(
                ["what", "Graph requests", "ms (median)", "SQL statements"],
                [sync_measured.row(), baseline.row()],
            )
        )
        sync_requests = statistics.median(sync_measured.requests)
        print()
        print(
            f"Requests: baseline / sync = "
            f"{statistics.median(baseline.requests) / sync_requests:.0f}x; time: baseline / sync = "
            f"{statistics.median(baseline.seconds) / statistics.median(sync_measured.seconds):.1f}x"
        )
        ok = sync_requests <= args.max_requests
        print(
            f"{'PASS' if ok else 'FAIL'}: a sync takes {sync_requests} Graph requests "
            f"(target: at most {args.max_requests})"
        )
        return 0 if ok else 1
    finally:
        sandbox.stop()
        database.drop()


if __name__ == "__main__":
    raise SystemExit(main())
