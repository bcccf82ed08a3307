"""A worker slower than its lease: while it waits on Meta, the sweeper hands the job to another
run. DESIGN.md: "A job can be delivered twice, run after a crash, or retried by hand: it must
never create a second copy of an object on Meta"; the executor's LeaseLost says a run that
lost its lease must "stop touching it".

Here Meta answers in 3 s and the lease is 1 s (JOB_LEASE_SECONDS=1, a worker of its own), so
every run that calls Meta outlives its lease: the first run's batch is still on its way when a
second run starts from the same plan.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.e2e.harness import JPEG, Harness, tree_ids, wait_until

KINDS = ("campaign", "adset", "ad")


@pytest.fixture(scope="module")
def worker(celery_procs):
    return celery_procs.ensure_worker({"JOB_LEASE_SECONDS": "1", "META_EXECUTION_MODE": "batch"})


def test_a_run_that_outlived_its_lease_creates_nothing_twice(e2e: Harness) -> None:
    creative_id = e2e.existing_creative("Existing creative", e2e.upload_image(JPEG))
    e2e.configure(latency_ms=3000)
    body = e2e.body([("Slow set", [e2e.ad("Slow ad", creative_id=creative_id)])])
    job_id = e2e.submit(body)
    job = e2e.wait_for_job(job_id, "SUCCESS", timeout=40)

    # Wait until every run but the one that succeeded has stopped (lease lost or outcome
    # dropped), so that nothing is still on its way to Meta.
    def stale_runs_ended() -> bool:
        log = e2e.worker_log_since_start()
        ended = len(re.findall(rf"Job {job_id}: lease lost mid-run", log)) + len(
            re.findall(rf"Job {job_id} was taken from this worker", log)
        )
        return ended >= e2e.job(job_id)["attempts"] - 1

    wait_until(stale_runs_ended, timeout=40, message="stale runs ended", interval=0.2)
    job = e2e.job(job_id)

    names = Counter(
        (kind, o["fields"]["name"]) for kind in KINDS for o in e2e.sandbox_objects(kind)
    )
    assert names == Counter(
        {("campaign", "E2E campaign"): 1, ("adset", "Slow set"): 1, ("ad", "Slow ad"): 1}
    ), names
    ids = tree_ids(job)
    for kind in KINDS:
        assert sorted(ids[kind]) == sorted(o["id"] for o in e2e.sandbox_objects(kind)), kind
    assert job["platform_campaign_id"] == ids["campaign"][0]
