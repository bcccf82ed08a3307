"""A worker that stalls mid-job (SIGSTOP: a long GC pause, a frozen VM, a swapped-out host)
long enough for its lease to expire: the sweeper hands the job to another worker, which
finishes it. When the stalled worker wakes up it must touch nothing: no checkpoint
overwritten, no object created on Meta. DESIGN.md: "it must never create a second copy of an
object on Meta".

Settings keep the lease longer than any single Meta call (mojito refuses less), so a run only
loses its lease by stalling, which is what happens here.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.e2e.harness import Harness, tree_ids, wait_until

LEASE = {
    "JOB_LEASE_SECONDS": "3",
    # The stalled worker may freeze inside a (short) transaction: PostgreSQL ends its session
    # so its row locks do not hold the other worker up.
    "DB_IDLE_IN_TRANSACTION_TIMEOUT": "1",
    "META_REQUEST_TIMEOUT": "1",
    "MEDIA_FETCH_TIMEOUT": "1",
    "META_EXECUTION_MODE": "batch",
}
KINDS = ("campaign", "adset", "adcreative", "ad")


@pytest.fixture(scope="module")
def worker(celery_procs):
    return celery_procs.ensure_worker(LEASE)


def test_a_stalled_worker_that_lost_its_lease_touches_nothing_when_it_wakes(
    e2e: Harness,
) -> None:
    stalled = e2e.procs.worker
    assert stalled is not None
    e2e.configure(latency_ms=300)
    body = e2e.body([(f"Set {i}", [e2e.ad(f"Ad {i}")]) for i in range(1, 6)])
    job_id = e2e.submit(body)

    def started() -> bool:
        return e2e.job(job_id)["status"] == "PROCESSING" and bool(e2e.sandbox_objects("campaign"))

    wait_until(started, timeout=15, message="job PROCESSING with a campaign on Meta", interval=0.02)
    stalled.pause()
    try:
        other = e2e.procs.start_worker(LEASE)
        job = e2e.wait_for_job(job_id, "SUCCESS", timeout=40)
        assert f"Job {job_id} lease expired; returned to PENDING" in other.log()
    finally:
        stalled.resume()

    # The stalled run wakes up, finds the job is no longer its own, and stops.
    wait_until(
        lambda: re.search(
            rf"Job {job_id}: lease lost mid-run|Job {job_id} was taken from this worker",
            stalled.log(),
        ),
        timeout=20,
        message="the stalled run to give up",
        interval=0.1,
    )
    stalled.stop()  # nothing of it may linger into other tests
    job = e2e.job(job_id)
    assert job["status"] == "SUCCESS"
    names = Counter(
        (kind, o["fields"]["name"]) for kind in KINDS for o in e2e.sandbox_objects(kind)
    )
    assert set(names.values()) == {1}, names
    ids = tree_ids(job)
    for kind in KINDS:
        assert sorted(ids[kind]) == sorted(o["id"] for o in e2e.sandbox_objects(kind)), kind
    assert job["platform_campaign_id"] == ids["campaign"][0]
