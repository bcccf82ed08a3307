"""The worker's entry point: claim a job, then run it through its platform's adapter."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from campaigns.engine.claims import AccountBusy, job_claim
from campaigns.engine.runner import execute_job
from campaigns.models import CampaignJob, JobStatus
from campaigns.services import job_publish
from platforms.registry import PlatformNotSupported, get_adapter

logger = logging.getLogger(__name__)


def job_execute(*, job_id: Any) -> None:
    """Claim the job and realise its plan; every outcome is written on the job."""
    try:
        job = job_claim(job_id=job_id)
    except PlatformNotSupported:
        # Left PENDING (no attempt spent) until a worker that can run it exists.
        logger.warning("No adapter for job %s's platform yet; it stays PENDING", job_id)
        return
    except AccountBusy as busy:
        # Not a failure: come back shortly (the sweeper would, later, if this is lost).
        delay = getattr(settings, busy.retry_setting)
        CampaignJob.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
            published_at=timezone.now() + timedelta(seconds=delay)
        )
        job_publish(job_id=job_id, countdown=delay)
        return
    if job is None:
        logger.info(
            "Job %s not claimable (gone, taken, finished, not due or account inactive)", job_id
        )
        return
    execute_job(job, get_adapter(job.platform_type))
