"""A worker killed mid-job (SIGKILL: no shutdown, no ack, no outcome written): once its lease
expires the beat sweeper returns the job to PENDING, a fresh worker resumes it, and every
object exists exactly once on Meta.

A worker of its own runs here (JOB_LEASE_SECONDS=3), so no other worker can take the job.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.harness import EXECUTION_MODES, Harness, tree_ids, wait_until

LEASE = {"JOB_LEASE_SECONDS": "3", "META_REQUEST_TIMEOUT": "1", "MEDIA_FETCH_TIMEOUT": "1"}
KINDS = ("campaign", "adset", "adcreative", "ad")


@pytest.fixture(scope="module", params=EXECUTION_MODES)
def worker(request, celery_procs):
    return celery_procs.ensure_worker({**LEASE, "META_EXECUTION_MODE": request.param})


def test_killed_worker_job_is_requeued_and_finished_without_duplicates(e2e: Harness) -> None:
    killed = e2e.procs.worker
    assert killed is not None
    mode = killed.overrides["META_EXECUTION_MODE"]
    e2e.configure(latency_ms=300)
    if mode == "sequential":  # one request per object: 13 requests
        body = e2e.body([("Set 1", [e2e.ad(f"Ad {i}") for i in range(1, 6)])])
    else:  # one batch per ad set: 6 requests
        body = e2e.body([(f"Set {i}", [e2e.ad(f"Ad {i}")]) for i in range(1, 6)])
    job_id = e2e.submit(body)

    def started() -> bool:
        return e2e.job(job_id)["status"] == "PROCESSING" and bool(e2e.sandbox_objects("campaign"))

    wait_until(started, timeout=15, message="job PROCESSING with a campaign on Meta", interval=0.02)
    killed.kill()
    at_kill = {(kind, o["id"]) for kind in KINDS for o in e2e.sandbox_objects(kind)}
    assert e2e.job(job_id)["status"] == "PROCESSING"

    fresh = e2e.procs.start_worker(killed.overrides)
    job = e2e.wait_for_job(job_id, "SUCCESS", timeout=40)

    assert job["attempts"] == 2
    assert job["error"] is None
    assert f"Job {job_id} lease expired; returned to PENDING" in fresh.log()
    names = Counter(
        (kind, o["fields"]["name"]) for kind in KINDS for o in e2e.sandbox_objects(kind)
    )
    assert set(names.values()) == {1}, names
    assert len(names) == {"sequential": 12, "batch": 16}[mode]
    ids = tree_ids(job)
    for kind in KINDS:
        assert sorted(ids[kind]) == sorted(o["id"] for o in e2e.sandbox_objects(kind)), kind
    assert at_kill <= {(kind, o["id"]) for kind in KINDS for o in e2e.sandbox_objects(kind)}
    assert job["platform_campaign_id"] == ids["campaign"][0]
