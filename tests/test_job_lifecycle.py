"""Claiming, cancelling, retrying and sweeping jobs, against the real Redis broker."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from adaccounts.models import AdAccountStatus
from campaigns import services, sweeps
from campaigns.engine import claims, worker
from campaigns.engine.runner import _decrypted_credentials
from campaigns.models import CampaignJob, JobStatus
from platforms.base import PlatformType
from platforms.registry import PlatformNotSupported
from tests.broker import BrokerQueue, broker_down
from tests.factories import AdAccountFactory, CampaignJobFactory

pytestmark = pytest.mark.django_db


def test_a_job_delivered_many_times_is_claimed_once(transactional_db):
    job = CampaignJobFactory()
    results: list[CampaignJob | None] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        try:
            results.append(claims.job_claim(job_id=job.pk, worker=threading.current_thread().name))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.PROCESSING
    assert job.attempts == 1
    assert job.lease_expires_at > timezone.now()
    assert job.claimed_by == winners[0].claimed_by


def test_concurrent_claims_of_one_account_never_exceed_its_cap(transactional_db, settings):
    settings.JOB_MAX_CONCURRENT_PER_ACCOUNT = 3
    account = AdAccountFactory()
    jobs = [CampaignJobFactory(ad_account=account) for _ in range(10)]
    claimed: list[CampaignJob] = []
    busy: list[str] = []
    barrier = threading.Barrier(len(jobs))

    def claim(job: CampaignJob) -> None:
        barrier.wait()
        try:
            won = claims.job_claim(job_id=job.pk)
            if won is not None:
                claimed.append(won)
        except claims.AccountBusy:
            busy.append(str(job.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (len(claimed), len(busy)) == (3, 7)
    assert CampaignJob.objects.filter(status=JobStatus.PROCESSING).count() == 3
    assert CampaignJob.objects.filter(status=JobStatus.PENDING, attempts=0).count() == 7


def test_a_claim_hands_back_the_job_with_its_account_in_four_statements(sql_path):
    job = CampaignJobFactory()
    with CaptureQueriesContext(connection) as queries:
        claimed = claims.job_claim(job_id=str(job.pk), worker="w1")
        assert claimed is not None
        # Everything a run needs is loaded: no further query below. The credentials come
        # sealed; the run decrypts them.
        assert (claimed.ad_account.pk, _decrypted_credentials(claimed.ad_account)) == (
            job.ad_account.pk,
            job.ad_account.credentials,
        )
        assert (claimed.status, claimed.attempts, claimed.claimed_by) == (
            JobStatus.PROCESSING,
            1,
            "w1",
        )
    if sql_path == "postgresql":
        # BEGIN, the account's lock, UPDATE ... RETURNING, COMMIT.
        assert len(queries) == 4
    job.refresh_from_db()
    assert (job.status, job.attempts, job.claimed_by) == (JobStatus.PROCESSING, 1, "w1")
    assert job.started_at is not None and job.lease_expires_at > timezone.now()


def test_a_job_of_a_platform_without_adapter_stays_pending(sql_path, caplog):
    job = CampaignJobFactory(platform_type=PlatformType.TIKTOK_ADS)
    with pytest.raises(PlatformNotSupported):
        claims.job_claim(job_id=job.pk)
    worker.job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.PENDING, 0)
    assert "No adapter" in caplog.text


def test_a_message_for_a_job_that_no_longer_exists_is_dropped(sql_path):
    assert claims.job_claim(job_id=uuid.uuid4()) is None
    worker.job_execute(job_id=str(uuid.uuid4()))


def test_it_does_not_claim_a_job_before_its_next_attempt_time(sql_path):
    job = CampaignJobFactory(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert claims.job_claim(job_id=job.pk) is None
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.PENDING, 0)


@pytest.mark.parametrize("status", [AdAccountStatus.REQUIRES_REAUTH, AdAccountStatus.INACTIVE])
def test_jobs_of_an_account_that_is_not_active_wait_without_spending_attempts(status, sql_path):
    job = CampaignJobFactory(ad_account=AdAccountFactory(status=status))
    assert claims.job_claim(job_id=job.pk) is None
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.PENDING, 0)

    job.ad_account.status = AdAccountStatus.ACTIVE
    job.ad_account.save()
    assert claims.job_claim(job_id=job.pk) is not None


@pytest.mark.parametrize("status", [s for s in JobStatus if s != JobStatus.PENDING])
def test_only_pending_jobs_are_claimed(status, sql_path):
    job = CampaignJobFactory(status=status)
    assert claims.job_claim(job_id=job.pk) is None


def test_cancel_moves_a_pending_job_to_cancelled():
    job = services.job_cancel(job=CampaignJobFactory())
    assert job.status == JobStatus.CANCELLED
    assert job.finished_at is not None


@pytest.mark.parametrize("status", [s for s in JobStatus if s != JobStatus.PENDING])
def test_cancel_refuses_a_job_that_is_not_pending(status):
    job = CampaignJobFactory(status=status)
    with pytest.raises(services.JobStateConflict):
        services.job_cancel(job=job)
    job.refresh_from_db()
    assert job.status == status


def test_retry_returns_a_failed_job_to_pending_and_publishes_it_after_commit(
    broker_queue: BrokerQueue, django_capture_on_commit_callbacks
):
    job = CampaignJobFactory(status=JobStatus.FAILED, finished_at=timezone.now(), attempts=3)
    with django_capture_on_commit_callbacks(execute=True):
        services.job_retry(job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING
    assert job.finished_at is None
    assert broker_queue.job_ids() == [str(job.pk)]


def test_requeue_returns_a_job_whose_lease_expired_and_publishes_it(broker_queue: BrokerQueue):
    dead = CampaignJobFactory(
        status=JobStatus.PROCESSING,
        attempts=1,
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    alive = CampaignJobFactory(
        status=JobStatus.PROCESSING,
        attempts=1,
        lease_expires_at=timezone.now() + timedelta(minutes=1),
    )
    call_command("requeue_stuck_jobs")

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == JobStatus.PENDING
    assert alive.status == JobStatus.PROCESSING
    assert broker_queue.job_ids() == [str(dead.pk)]


def test_the_sweeper_publishes_a_job_the_broker_never_got(broker_queue: BrokerQueue):
    job = CampaignJobFactory()
    with broker_down():
        assert services.job_publish(job_id=job.pk) is False
        assert sweeps.jobs_publish_unclaimed() == []
    job.refresh_from_db()
    assert job.published_at is None
    assert broker_queue.job_ids() == []

    assert sweeps.jobs_publish_unclaimed() == [str(job.pk)]
    assert broker_queue.job_ids() == [str(job.pk)]
    # Published just now: the next sweep leaves it alone.
    assert sweeps.jobs_publish_unclaimed() == []


def test_the_sweeper_leaves_jobs_of_inactive_accounts_and_future_retries_alone(
    broker_queue: BrokerQueue,
):
    CampaignJobFactory(ad_account=AdAccountFactory(status=AdAccountStatus.REQUIRES_REAUTH))
    CampaignJobFactory(next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert sweeps.jobs_publish_unclaimed() == []
    assert broker_queue.job_ids() == []


def test_an_account_runs_no_more_jobs_at_once_than_its_cap(settings, sql_path):
    settings.JOB_MAX_CONCURRENT_PER_ACCOUNT = 2
    account = AdAccountFactory()
    jobs = [CampaignJobFactory(ad_account=account) for _ in range(3)]
    other = CampaignJobFactory()

    assert claims.job_claim(job_id=jobs[0].pk) is not None
    assert claims.job_claim(job_id=jobs[1].pk) is not None
    with pytest.raises(claims.AccountBusy):
        claims.job_claim(job_id=jobs[2].pk)
    # Other accounts are not held back.
    assert claims.job_claim(job_id=other.pk) is not None

    # A slot frees when a job ends (or its lease expires).
    CampaignJob.objects.filter(pk=jobs[0].pk).update(status=JobStatus.SUCCESS)
    assert claims.job_claim(job_id=jobs[2].pk) is not None


def test_a_busy_account_sends_the_job_back_to_the_queue_without_spending_an_attempt(
    settings, broker_queue: BrokerQueue
):
    settings.JOB_MAX_CONCURRENT_PER_ACCOUNT = 1
    account = AdAccountFactory()
    CampaignJobFactory(
        ad_account=account,
        status=JobStatus.PROCESSING,
        attempts=1,
        lease_expires_at=timezone.now() + timedelta(minutes=1),
    )
    waiting = CampaignJobFactory(ad_account=account)

    worker.job_execute(job_id=waiting.pk)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts) == (JobStatus.PENDING, 0)
    assert broker_queue.job_ids() == [str(waiting.pk)]


def test_jobs_waiting_on_an_account_are_published_as_soon_as_it_is_active_again(
    broker_queue: BrokerQueue, django_capture_on_commit_callbacks
):
    from adaccounts.services import ad_account_update

    account = AdAccountFactory(status=AdAccountStatus.REQUIRES_REAUTH)
    waiting = CampaignJobFactory(ad_account=account, published_at=timezone.now())
    CampaignJobFactory(ad_account=account, status=JobStatus.CANCELLED)

    with django_capture_on_commit_callbacks(execute=True):
        ad_account_update(account=account, credentials={"access_token": "fresh"})
    assert broker_queue.job_ids() == []  # still REQUIRES_REAUTH: nothing to run

    with django_capture_on_commit_callbacks(execute=True):
        ad_account_update(account=account, status=AdAccountStatus.ACTIVE)
    assert broker_queue.job_ids() == [str(waiting.pk)]


def test_a_job_refused_at_the_cap_goes_back_even_if_a_slot_frees_during_its_claim(
    settings, broker_queue: BrokerQueue
):
    settings.JOB_MAX_CONCURRENT_PER_ACCOUNT = 1
    account = AdAccountFactory()
    running = CampaignJobFactory(
        ad_account=account,
        status=JobStatus.PROCESSING,
        attempts=1,
        lease_expires_at=timezone.now() + timedelta(minutes=1),
    )
    waiting = CampaignJobFactory(ad_account=account)
    freed: list[bool] = []

    def slot_frees_after_the_claim_saw_the_account_full(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "attempts = attempts + 1" in sql and not freed:
            freed.append(True)
            CampaignJob.objects.filter(pk=running.pk).update(status=JobStatus.SUCCESS)
        return result

    with connection.execute_wrapper(slot_frees_after_the_claim_saw_the_account_full):
        worker.job_execute(job_id=waiting.pk)

    assert freed
    # Sent back to the queue at once, not left for the sweeper.
    assert broker_queue.job_ids() == [str(waiting.pk)]
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts) == (JobStatus.PENDING, 0)


def test_a_claim_holding_its_account_does_not_hold_up_submissions_of_that_account(
    transactional_db, settings
):
    settings.JOB_MAX_CONCURRENT_PER_ACCOUNT = 2
    account = AdAccountFactory()
    job = CampaignJobFactory(ad_account=account)
    params = {"job": job.pk, "token": "t", "now": timezone.now(), "lease": None, "cap": 2}
    with psycopg.connect(**connection.get_connection_params()) as claimer:
        # A claim of this account in progress: its lock on the account row is held.
        claimer.execute(claims._LOCK_ACCOUNT_SQL + claims.LOCK_ACCOUNT_FOR_CLAIM, params)
        assert claimer.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            # A submission inserts a job referencing the account (a FOR KEY SHARE lock).
            CampaignJobFactory(ad_account=account)
        claimer.rollback()
    assert CampaignJob.objects.filter(ad_account=account).count() == 2
