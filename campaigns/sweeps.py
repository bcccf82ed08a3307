"""The sweeper's work (beat, every `JOB_SWEEP_INTERVAL_SECONDS`), and jobs an account event
makes runnable or hopeless: return jobs whose worker died, publish jobs nobody took, cancel
the jobs of deleted accounts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from adaccounts.models import AdAccount
from campaigns import lifecycle
from campaigns.engine.adapter import job_error
from campaigns.engine.outcome import lookup_run_due
from campaigns.models import Ad, AdSet, Campaign, CampaignJob, Creative, JobStatus
from campaigns.services import job_publish

logger = logging.getLogger(__name__)


def _created_so_far(job_id: Any) -> tuple[str | None, bool]:
    """The job's campaign ID on the platform, and whether any object it made exists there
    (a job that adds to a live campaign, or changes one, made none of the campaign)."""
    campaign_id = (
        Campaign.objects.filter(job_id=job_id).values_list("platform_id", flat=True).first()
    )
    created = bool(campaign_id) or any(
        rows.exists()
        for rows in (
            AdSet.objects.filter(job_id=job_id, platform_id__isnull=False),
            Creative.objects.filter(job_id=job_id, is_existing=False, platform_id__isnull=False),
            Ad.objects.filter(job_id=job_id, platform_id__isnull=False),
        )
    )
    if not campaign_id:
        campaign_id = (
            CampaignJob.objects.filter(pk=job_id)
            .values_list("platform_campaign_id", flat=True)
            .get()
        )
    return campaign_id or None, created


def _worker_lost_message(spent: int, holder: str) -> str:
    cap = settings.JOB_MAX_ATTEMPTS
    if spent > cap:
        # Runs past the cap only look up lost creates: clients are not shown them as attempts
        # (CampaignJob.attempts_shown), so neither does the message count them.
        when = f"during a lookup run, after its {cap} attempt{'s' if cap > 1 else ''}"
    else:
        when = f"on attempt {spent} of {cap}"
    return (
        f"The worker running this job stopped answering {when} (its lease expired; last "
        f"held by {holder}); no attempt is left. Retry the job to try again."
    )


def jobs_requeue_stuck(*, now: datetime | None = None) -> list[str]:
    """Return PROCESSING jobs whose lease expired (their worker died) to PENDING and publish,
    or end them FAILED once they have spent `JOB_MAX_ATTEMPTS`: a job whose run kills its
    worker (out of memory, a crash of the interpreter) must not be run again forever. A job
    with a create left unresolved gets its lookup runs first (outcome.LOOKUP_RUNS), which send
    nothing new: what the dead worker made is recorded before the job ends.

    The conditional UPDATE only touches jobs still expired at that instant, so a worker that
    renews its lease concurrently keeps its job.
    """
    now = now or timezone.now()
    stuck = list(
        CampaignJob.objects.filter(
            status=JobStatus.PROCESSING, lease_expires_at__lt=now
        ).values_list("pk", "attempts", "attempts_at_retry", "claimed_by", "kind", "created_by_id")
    )
    requeued = []
    for job_id, attempts, at_retry, holder, kind, created_by_id in stuck:
        expired = CampaignJob.objects.filter(
            pk=job_id, status=JobStatus.PROCESSING, lease_expires_at__lt=now
        )
        spent = attempts - at_retry
        # Past the cap, only a create left unresolved earns another run (a lookup run).
        if spent >= settings.JOB_MAX_ATTEMPTS and not lookup_run_due(job_id=job_id, spent=spent):
            message = _worker_lost_message(spent, holder)
            campaign_id, created = _created_so_far(job_id)
            status = JobStatus.PARTIAL_SUCCESS if created else JobStatus.FAILED
            with transaction.atomic():
                ended = expired.update(
                    status=status,
                    error=job_error(message, step="worker"),
                    platform_campaign_id=campaign_id,
                    lease_expires_at=None,
                    claimed_by="",
                    next_attempt_at=None,
                    finished_at=now,
                    updated_at=now,
                )
                if ended:
                    lifecycle.job_finished(
                        job_id=job_id,
                        previous=JobStatus.PROCESSING,
                        status=status,
                        routine=lifecycle.is_routine(kind=kind, created_by_id=created_by_id),
                    )
            if ended:
                logger.warning("Job %s lease expired with no attempt left; ended", job_id)
            continue
        changed = expired.update(
            status=JobStatus.PENDING,
            lease_expires_at=None,
            claimed_by="",
            published_at=now,
            updated_at=now,
        )
        if changed:
            logger.warning("Job %s lease expired; returned to PENDING", job_id)
            job_publish(job_id=job_id)
            requeued.append(str(job_id))
    return requeued


def jobs_publish_unclaimed(
    *, now: datetime | None = None, ad_account_id: Any = None, stale_after: float | None = None
) -> list[str]:
    """Publish PENDING jobs that nobody took: never published (broker down at commit), or
    published longer ago than `JOB_REPUBLISH_AFTER_SECONDS`, or whose retry time has come.

    Jobs of accounts that are not ACTIVE are left alone: they wait for new credentials.
    """
    now = now or timezone.now()
    if stale_after is None:
        stale_after = settings.JOB_REPUBLISH_AFTER_SECONDS
    stale = now - timedelta(seconds=stale_after)
    jobs = CampaignJob.objects.filter(status=JobStatus.PENDING)
    if ad_account_id is not None:
        jobs = jobs.filter(ad_account_id=ad_account_id)
    due = (
        jobs.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(published_at__isnull=True) | Q(published_at__lt=stale))
        .filter(ad_account__in=AdAccount.objects.active())
        .order_by("created_at")
        .values_list("pk", flat=True)[: settings.JOB_SWEEP_BATCH_SIZE]
    )
    published = []
    for job_id in due:
        if not job_publish(job_id=job_id):
            break  # broker still down: try again next sweep
        published.append(str(job_id))
    if published:
        CampaignJob.objects.filter(pk__in=published).update(published_at=now)
    return published


def jobs_publish_for_reactivated_account(*, ad_account_id: Any) -> list[str]:
    """An account is ACTIVE again: publish its waiting jobs now rather than at the next sweep."""
    published = jobs_publish_unclaimed(ad_account_id=ad_account_id, stale_after=0)
    if published:
        logger.info(
            "Account %s active again: published %d waiting job(s)", ad_account_id, len(published)
        )
    return published


def jobs_cancel_of_deleted_account(*, ad_account_id: Any = None, job_id: Any = None) -> list[str]:
    """End CANCELLED the PENDING jobs of soft-deleted accounts (of one account, or one job):
    they could never run, and nobody would otherwise tell their clients."""
    jobs = CampaignJob.objects.filter(
        status=JobStatus.PENDING, ad_account__deleted_at__isnull=False
    )
    if ad_account_id is not None:
        jobs = jobs.filter(ad_account_id=ad_account_id)
    if job_id is not None:
        jobs = jobs.filter(pk=job_id)
    now = timezone.now()
    cancelled = [str(pk) for pk in jobs.values_list("pk", flat=True)]
    if cancelled:
        CampaignJob.objects.filter(pk__in=cancelled, status=JobStatus.PENDING).update(
            status=JobStatus.CANCELLED,
            error=job_error("Cancelled: the job's ad account was deleted.", step="ad_account"),
            next_attempt_at=None,
            lease_expires_at=None,
            finished_at=now,
            updated_at=now,
        )
        logger.info("Cancelled %d job(s) of deleted ad accounts", len(cancelled))
    return cancelled
