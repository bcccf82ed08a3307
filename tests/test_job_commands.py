"""Management commands of API.md's "Jobs": retry_jobs and requeue_stuck_jobs."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from campaigns.models import CampaignJob, JobStatus
from tests.broker import BrokerQueue, broker_down
from tests.factories import AdAccountFactory, CampaignJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a command as from the shell (publishing happens after commit) and return its stdout."""

    def run_command(*args: str) -> str:
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command(*args, stdout=out)
        return out.getvalue()

    return run_command


def status_of(job: CampaignJob) -> str:
    job.refresh_from_db()
    return job.status


def updated_at(job: CampaignJob, when) -> None:
    CampaignJob.objects.filter(pk=job.pk).update(updated_at=when)


# --- retry_jobs ---------------------------------------------------------------------------------


def test_retry_jobs_retries_the_named_jobs_only(run, broker_queue: BrokerQueue):
    named = CampaignJobFactory(status=JobStatus.FAILED)
    partial = CampaignJobFactory(status=JobStatus.PARTIAL_SUCCESS)
    untouched = CampaignJobFactory(status=JobStatus.FAILED)

    output = run("retry_jobs", str(named.pk), str(partial.pk))

    assert (status_of(named), status_of(partial)) == (JobStatus.PENDING, JobStatus.PENDING)
    assert status_of(untouched) == JobStatus.FAILED
    lines = output.strip().splitlines()
    assert sorted(lines[:-1]) == sorted([f"retrying {named.pk}", f"retrying {partial.pk}"])
    assert lines[-1] == "2 job(s) queued for retry."
    assert sorted(broker_queue.job_ids()) == sorted([str(named.pk), str(partial.pk)])


def test_retry_jobs_leaves_a_named_job_that_did_not_fail(run, broker_queue: BrokerQueue):
    succeeded = CampaignJobFactory(status=JobStatus.SUCCESS)
    processing = CampaignJobFactory(status=JobStatus.PROCESSING)

    output = run("retry_jobs", str(succeeded.pk), str(processing.pk))

    assert status_of(succeeded) == JobStatus.SUCCESS
    assert status_of(processing) == JobStatus.PROCESSING
    assert output.strip() == "0 job(s) queued for retry."
    assert broker_queue.job_ids() == []


def test_retry_jobs_status_failed_selects_failed_jobs_only(run, broker_queue: BrokerQueue):
    failed = [CampaignJobFactory(status=JobStatus.FAILED) for _ in range(2)]
    partial = CampaignJobFactory(status=JobStatus.PARTIAL_SUCCESS)
    cancelled = CampaignJobFactory(status=JobStatus.CANCELLED)

    output = run("retry_jobs", "--status", "FAILED")

    assert [status_of(job) for job in failed] == [JobStatus.PENDING, JobStatus.PENDING]
    assert status_of(partial) == JobStatus.PARTIAL_SUCCESS
    assert status_of(cancelled) == JobStatus.CANCELLED
    for job in failed:
        assert f"retrying {job.pk}" in output
    assert str(partial.pk) not in output
    assert output.strip().endswith("2 job(s) queued for retry.")
    assert sorted(broker_queue.job_ids()) == sorted(str(job.pk) for job in failed)


def test_retry_jobs_status_partial_success_selects_those_only(run):
    failed = CampaignJobFactory(status=JobStatus.FAILED)
    partial = CampaignJobFactory(status=JobStatus.PARTIAL_SUCCESS)

    output = run("retry_jobs", "--status", "PARTIAL_SUCCESS")

    assert status_of(partial) == JobStatus.PENDING
    assert status_of(failed) == JobStatus.FAILED
    assert output.strip().splitlines() == [f"retrying {partial.pk}", "1 job(s) queued for retry."]


def test_retry_jobs_since_selects_jobs_that_failed_at_or_after_that_time(run):
    old = CampaignJobFactory(status=JobStatus.FAILED)
    recent = CampaignJobFactory(status=JobStatus.PARTIAL_SUCCESS)
    now = timezone.now()
    updated_at(old, now - timedelta(days=3))
    updated_at(recent, now - timedelta(hours=1))
    since = (now - timedelta(days=1)).isoformat()

    output = run("retry_jobs", "--since", since)

    assert status_of(recent) == JobStatus.PENDING
    assert status_of(old) == JobStatus.FAILED
    assert output.strip().splitlines() == [f"retrying {recent.pk}", "1 job(s) queued for retry."]


def test_retry_jobs_since_accepts_a_utc_z_time_and_combines_with_status(run):
    recent_failed = CampaignJobFactory(status=JobStatus.FAILED)
    recent_partial = CampaignJobFactory(status=JobStatus.PARTIAL_SUCCESS)
    old_failed = CampaignJobFactory(status=JobStatus.FAILED)
    updated_at(old_failed, timezone.now() - timedelta(days=30))
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    output = run("retry_jobs", "--status", "FAILED", "--since", since)

    assert status_of(recent_failed) == JobStatus.PENDING
    assert status_of(recent_partial) == JobStatus.PARTIAL_SUCCESS
    assert status_of(old_failed) == JobStatus.FAILED
    assert output.strip().splitlines()[-1] == "1 job(s) queued for retry."


def test_retry_jobs_without_a_selection_is_an_error_and_retries_nothing(run):
    failed = CampaignJobFactory(status=JobStatus.FAILED)

    with pytest.raises(CommandError, match="JOB_ID"):
        run("retry_jobs")

    assert status_of(failed) == JobStatus.FAILED


@pytest.mark.parametrize(
    "args",
    [
        ("--since", "yesterday"),
        ("--status", "SUCCESS"),
        ("--status", "PENDING"),
        ("not-a-uuid",),
    ],
    ids=["since not ISO", "status not retryable", "status pending", "job id not a uuid"],
)
def test_retry_jobs_refuses_bad_arguments(run, args):
    failed = CampaignJobFactory(status=JobStatus.FAILED)

    with pytest.raises(CommandError):
        run("retry_jobs", *args)

    assert status_of(failed) == JobStatus.FAILED


# --- requeue_stuck_jobs -------------------------------------------------------------------------


def test_requeue_stuck_jobs_reports_what_it_returned_and_published(run, broker_queue: BrokerQueue):
    stuck = CampaignJobFactory(
        status=JobStatus.PROCESSING,
        attempts=1,
        lease_expires_at=timezone.now() - timedelta(minutes=1),
    )
    alive = CampaignJobFactory(
        status=JobStatus.PROCESSING,
        attempts=1,
        lease_expires_at=timezone.now() + timedelta(minutes=5),
    )
    never_published = CampaignJobFactory()

    output = run("requeue_stuck_jobs")

    assert output.strip().splitlines() == [
        f"requeued {stuck.pk}",
        "1 stuck job(s) returned to PENDING; 1 pending job(s) published.",
    ]
    assert status_of(stuck) == JobStatus.PENDING
    assert status_of(alive) == JobStatus.PROCESSING
    assert sorted(broker_queue.job_ids()) == sorted([str(stuck.pk), str(never_published.pk)])


def test_requeue_stuck_jobs_with_nothing_to_do_says_so(run, broker_queue: BrokerQueue):
    CampaignJobFactory(status=JobStatus.SUCCESS)
    CampaignJobFactory(
        status=JobStatus.PROCESSING, lease_expires_at=timezone.now() + timedelta(minutes=5)
    )
    CampaignJobFactory(ad_account=AdAccountFactory(status="REQUIRES_REAUTH"))

    output = run("requeue_stuck_jobs")

    assert output.strip() == "0 stuck job(s) returned to PENDING; 0 pending job(s) published."
    assert broker_queue.job_ids() == []


def test_requeue_stuck_jobs_while_the_broker_is_down_returns_jobs_for_a_later_sweep(
    run, broker_queue: BrokerQueue
):
    stuck = CampaignJobFactory(
        status=JobStatus.PROCESSING, lease_expires_at=timezone.now() - timedelta(minutes=1)
    )

    with broker_down():
        output = run("requeue_stuck_jobs")

    assert output.strip().splitlines()[-1] == (
        "1 stuck job(s) returned to PENDING; 0 pending job(s) published."
    )
    assert status_of(stuck) == JobStatus.PENDING
    assert broker_queue.job_ids() == []
    # Broker back: the next run publishes it.
    assert run("requeue_stuck_jobs").strip() == (
        "0 stuck job(s) returned to PENDING; 1 pending job(s) published."
    )
    assert broker_queue.job_ids() == [str(stuck.pk)]
