"""How a run ends: the job's final status, or when it runs again, decided from its failure.

Policy, for every platform (the failure's kind comes from the platform's taxonomy):
- token dead: the job ends FAILED and its account REQUIRES_REAUTH, if the account still holds
  the credentials this run used;
- rate-limited: the account is paused and the job deferred, its attempt refunded;
- transient (a crash of ours included): backoff with full jitter, until `JOB_MAX_ATTEMPTS`
  attempts have been spent, then FAILED with the last error; but while a create whose answer
  was lost is unresolved (its write-ahead mark set, its ID unknown), up to `LOOKUP_RUNS` more
  runs that only look it up (by the job's marker) and record what it made, so that nothing
  the job made stays on the platform with no row recording it;
- permanent: FAILED, or PARTIAL_SUCCESS when something already exists on the platform.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Model, OuterRef, Q
from django.utils import timezone

from adaccounts import services as account_services
from adaccounts.models import AdAccount
from campaigns import lifecycle
from campaigns.engine import pauses
from campaigns.engine.adapter import Failure, FailureKind
from campaigns.engine.checkpoints import held
from campaigns.models import (
    FINISHED_STATUSES,
    Ad,
    AdSet,
    Campaign,
    CampaignJob,
    Creative,
    JobStatus,
    MediaAsset,
)
from campaigns.services import job_publish

logger = logging.getLogger(__name__)

# Runs a job gets past JOB_MAX_ATTEMPTS only to look up creates whose answer was lost. Such a
# run sends nothing new (runner.JobRun), then ends the job as its last attempt left it; it
# runs again only when one of its lookups failed, so this bounds how many failed lookups a
# lost create outlasts (at one request in five failing, five leave about one in 3,000 unfound).
# What stays unresolved keeps its mark, and a retry looks for it before sending anything.
LOOKUP_RUNS = 5

# The rows whose create can be unresolved, each with what must exist for that create to have
# made anything: a create under a parent that was never made made nothing (API.md: a rejected
# parent leaves nothing below it), and could not be looked up under it either. An ad set is
# made under its campaign, an ad under its ad set with its creative, a creative for its ads
# (one not used by an ad yet, such as a creative an UPDATE swaps in, has no parent).
_PARENTS_MADE: tuple[tuple[type[Model], Q], ...] = (
    (MediaAsset, Q()),
    (Campaign, Q()),
    (AdSet, Q(campaign__platform_id__gt="")),
    (
        Creative,
        ~Exists(Ad.objects.filter(creative=OuterRef("pk")))
        | Exists(Ad.objects.filter(creative=OuterRef("pk"), ad_set__platform_id__gt="")),
    ),
    (Ad, Q(ad_set__platform_id__gt="", creative__platform_id__gt="")),
)


def job_has_unresolved_create(*, job_id: Any) -> bool:
    """A create of the job was sent (its write-ahead mark is set), its ID never came back,
    and what it needs exists: it may have made an object that no row records yet, which a
    lookup by the job's marker can find. Read from the rows as committed, so the runner (at
    the end of a run) and the sweeper (after a worker died) decide alike."""
    marked = Q(job_id=job_id, attempted_at__isnull=False) & (
        Q(platform_id__isnull=True) | Q(platform_id="")
    )
    return any(
        model.objects.filter(marked).filter(under).exists() for model, under in _PARENTS_MADE
    )


def attempts_spent(job: CampaignJob) -> int:
    return job.attempts - job.attempts_at_retry


def past_cap(job: CampaignJob) -> bool:
    """This run is past the job's attempts: a lookup run."""
    return attempts_spent(job) > settings.JOB_MAX_ATTEMPTS


def lookup_run_due(*, job_id: Any, spent: int) -> bool:
    """A job that has spent `spent` attempts (lookup runs included) and has none left runs
    again only as a lookup run: while it has one left and a create is unresolved. The
    rows are read only when a lookup run is left."""
    return spent < settings.JOB_MAX_ATTEMPTS + LOOKUP_RUNS and job_has_unresolved_create(
        job_id=job_id
    )


def release(job: CampaignJob, **changes: Any) -> bool:
    """Write the outcome of a run, only if this worker still holds the job.

    When the lease expired and the sweeper handed the job to someone else, this run's
    outcome is stale and is dropped (the other worker's run decides).
    """
    now = timezone.now()
    changes.setdefault("lease_expires_at", None)
    changes.setdefault("claimed_by", "")
    status = changes.get("status")
    with transaction.atomic():
        released = held(job).update(updated_at=now, **changes)
        if released and status in FINISHED_STATUSES:
            lifecycle.job_finished(
                job_id=job.pk,
                previous=JobStatus.PROCESSING,
                status=status,
                routine=lifecycle.is_routine(kind=job.kind, created_by_id=job.created_by_id),
            )
    if not released:
        logger.warning("Job %s was taken from this worker; its outcome is dropped", job.pk)
    return bool(released)


def _campaign_id(platform_campaign_id: str | None) -> dict[str, Any]:
    # A job without a root step (a change to a live object) keeps the campaign id it was
    # given when it was accepted.
    return {"platform_campaign_id": platform_campaign_id} if platform_campaign_id else {}


def job_succeed(*, job: CampaignJob, platform_campaign_id: str | None) -> bool:
    ok = release(
        job,
        status=JobStatus.SUCCESS,
        **_campaign_id(platform_campaign_id),
        error=None,
        next_attempt_at=None,
        finished_at=timezone.now(),
    )
    if ok:
        logger.info("Job %s succeeded (campaign %s)", job.pk, platform_campaign_id)
    return ok


def job_fail(
    *, job: CampaignJob, error: dict[str, Any], partial: bool, platform_campaign_id: str | None
) -> bool:
    """End the job: PARTIAL_SUCCESS when something exists on the platform, else FAILED."""
    status = JobStatus.PARTIAL_SUCCESS if partial else JobStatus.FAILED
    ok = release(
        job,
        status=status,
        error=error,
        **_campaign_id(platform_campaign_id),
        next_attempt_at=None,
        finished_at=timezone.now(),
    )
    if ok:
        logger.warning(
            "Job %s ended %s at %s: %s", job.pk, status, error.get("step"), error.get("message")
        )
    return ok


def job_reschedule(
    *,
    job: CampaignJob,
    delay: float,
    error: dict[str, Any] | None,
    count_attempt: bool = True,
    platform_campaign_id: str | None = None,
) -> bool:
    """Back to PENDING, due in `delay` seconds; published then (or by the sweeper).

    `count_attempt=False` refunds the attempt the claim took: waiting for a rate-limit pause
    or a video to finish processing is not a failure.
    """
    now = timezone.now()
    due = now + timedelta(seconds=delay)
    changes: dict[str, Any] = {
        "status": JobStatus.PENDING,
        "next_attempt_at": due,
        "error": error,
        # Counted from when the job becomes due, so the sweeper's "stale" clock starts then.
        "published_at": due,
    }
    if platform_campaign_id:
        changes["platform_campaign_id"] = platform_campaign_id
    if not count_attempt:
        changes["attempts"] = F("attempts") - 1
    if not release(job, **changes):
        return False
    if delay <= settings.JOB_MAX_COUNTDOWN_SECONDS:
        job_publish(job_id=job.pk, countdown=delay)
    logger.info("Job %s rescheduled in %.1f s", job.pk, delay)
    return True


def backoff(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter, never sooner than the platform asked."""
    ceiling = min(
        settings.JOB_RETRY_MAX_SECONDS, settings.JOB_RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1)
    )
    delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not crypto)
    return max(delay, retry_after or 0)


def job_settle(
    *,
    job: CampaignJob,
    account: AdAccount,
    failure: Failure,
    partial: bool,
    platform_campaign_id: str | None,
    credentials_version: int | None,
) -> None:
    """Apply the policy above to a run that ended with `failure`."""
    error = failure.error
    if failure.kind is FailureKind.TOKEN:
        # No other job of this account can succeed until new credentials are set. A run that
        # started before they were replaced says nothing about the new ones: it runs again
        # with them, the attempt counted.
        if credentials_version is not None and not account_services.ad_account_require_reauth(
            account_id=account.pk, credentials_version=credentials_version
        ):
            replaced = AdAccount.objects.filter(pk=account.pk).exclude(
                credentials_version=credentials_version
            )
            if replaced.exists() and job.attempts_left > 0:
                job_reschedule(
                    job=job,
                    delay=backoff(job.attempts - job.attempts_at_retry, None),
                    error=error,
                    platform_campaign_id=platform_campaign_id,
                )
                return
        # API.md: the job whose call gets the dead-token answer ends FAILED (a retry resumes).
        job_fail(job=job, error=error, partial=False, platform_campaign_id=platform_campaign_id)
        return
    if failure.kind is FailureKind.RATE_LIMITED:
        pause = failure.retry_after or settings.JOB_RETRY_BASE_SECONDS
        pauses.pause_account(account.pk, pause, reason=f"{failure.step}: {failure.message}")
        job_reschedule(
            job=job,
            delay=pause,
            error=error,
            count_attempt=False,
            platform_campaign_id=platform_campaign_id,
        )
        return
    if failure.kind is FailureKind.TRANSIENT and (
        job.attempts_left > 0 or lookup_run_due(job_id=job.pk, spent=attempts_spent(job))
    ):
        job_reschedule(
            job=job,
            delay=backoff(job.attempts - job.attempts_at_retry, failure.retry_after),
            error=error,
            platform_campaign_id=platform_campaign_id,
        )
        return
    job_fail(job=job, error=error, partial=partial, platform_campaign_id=platform_campaign_id)
