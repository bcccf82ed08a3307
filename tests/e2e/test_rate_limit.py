"""Meta's usage headers past 80%: the account pauses, the job waits and still succeeds."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime

from tests.e2e.harness import Harness, graph_writes, tree_ids, wait_until

# The sandbox's ad-account score: a write costs 3, batch operations count one by one. The job
# below (default batch mode) spends 3 (image) + 12 (first batch: campaign, set A, its creative
# and ad) = 15 points, i.e. 88% of 17, before anything else; the rest (set B, its creative and
# ad: 9 points) comes in a second batch. Usage decays over a 1.5 s window, shorter than the
# pause mojito takes at 88% (META_USAGE_PAUSE_SECONDS=1 x (1 + 3 x (usage - 80) / 20), about
# 2.2 s), so the account never reaches 100%.
THROTTLE = {"throttle_score": 17, "throttle_window_seconds": 1.5, "throttle_block_seconds": 60}


def test_usage_past_80_percent_pauses_the_account_and_the_job_still_succeeds(
    e2e: Harness,
) -> None:
    e2e.configure(**THROTTLE)
    body = e2e.body([("Set A", [e2e.ad("Ad A")]), ("Set B", [e2e.ad("Ad B")])])
    job_id = e2e.submit(body)
    job = e2e.wait_for_job(job_id, "SUCCESS", timeout=20)

    # Waiting for Meta's allowance is no failed attempt.
    assert job["attempts"] == 1
    assert job["error"] is None
    assert all(tree_ids(job)["ad"])

    log = e2e.sandbox_requests()
    account_path = f"/{e2e.account.act_id}/"
    calls = [e for e in log if account_path in e["path"] or e.get("operations") is not None]
    # Meta never had to refuse a call: mojito slowed down first.
    assert not [w for w in graph_writes(log) if (w.get("error") or {}).get("code") == 80004]
    assert all(e["status"] == 200 for e in calls), calls

    # A pause: no call for the account while it lasted, then the rest of the job.
    times = [e["time"] for e in calls]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    longest = max(gaps)
    worker_log = e2e.worker_log_since_start()
    paused = re.search(r"Pausing account \S+ for ([\d.]+) s: usage at (\d+)%", worker_log)
    assert paused, worker_log
    assert int(paused.group(2)) >= 80
    assert longest >= 1.5 and longest >= float(paused.group(1)) - 0.5, gaps
    before = gaps.index(longest) + 1
    writes_before = graph_writes(calls[:before])
    assert len(writes_before) == 5, writes_before  # image, campaign, set A, its creative, ad A
    # Set B's creative waits for set B (a refused ad set would leave no creative behind).
    after = [w["params"].get("name") for w in graph_writes(calls[before:])]
    assert after == ["Set B", "Ad B cr", "Ad B"]

    assert f"Job {job_id} deferred" in worker_log


def test_meta_rate_limit_error_parks_the_job_without_spending_attempts(e2e: Harness) -> None:
    # Meta answers 80004 and blocks the account; its usage headers say access returns in a
    # minute (estimated_time_to_regain_access is in minutes), so the job waits that long.
    job_id = e2e.submit(e2e.body([("[sandbox:throttle] Set", [e2e.ad("Ad")])]))

    def parked() -> dict | None:
        job = e2e.job(job_id)
        due = job["next_attempt_at"]
        if job["status"] != "PENDING" or not due:
            return None
        wait = datetime.fromisoformat(due.replace("Z", "+00:00")) - datetime.now(UTC)
        return job if wait.total_seconds() > 30 else None

    job = wait_until(parked, timeout=10, message="job waiting for Meta's rate limit")
    assert job["attempts"] == 0  # waiting for Meta's allowance spends no attempt
    assert job["error"]["code"] == 80004
    assert job["error"]["transient"] is True
    assert "Pausing account" in e2e.worker_log_since_start()

    # While the account is paused nothing more is sent to Meta, sweeps notwithstanding.
    calls = len(e2e.sandbox_requests())
    beat = e2e.procs.beat
    sweeps = beat.log().count("Sending due task jobs-sweep")
    wait_until(
        lambda: beat.log().count("Sending due task jobs-sweep") >= sweeps + 2, 10, "two sweeps"
    )
    wait_until(lambda: e2e.redis.queue_length() == 0, 10, "sweeps consumed")
    assert len(e2e.sandbox_requests()) == calls
    assert e2e.job(job_id)["status"] == "PENDING"

    cancelled = e2e.client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "CANCELLED"
