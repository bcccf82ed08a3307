"""Celery entry points. Thin: they receive ids only and call services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="campaigns.tasks.job_run", ignore_result=True)
def job_run(job_id: str) -> None:
    from campaigns.engine.worker import job_execute

    job_execute(job_id=job_id)


@shared_task(name="campaigns.tasks.jobs_sweep", ignore_result=True)
def jobs_sweep() -> None:
    """Beat: return jobs whose worker died (failing those out of attempts), re-publish
    PENDING jobs nobody claimed, cancel those of deleted accounts."""
    from campaigns.sweeps import (
        jobs_cancel_of_deleted_account,
        jobs_publish_unclaimed,
        jobs_requeue_stuck,
    )

    jobs_requeue_stuck()
    jobs_publish_unclaimed()
    jobs_cancel_of_deleted_account()


@shared_task(name="campaigns.tasks.sync_schedule", ignore_result=True)
def sync_schedule() -> None:
    """Beat: start the SYNC jobs of the accounts whose turn came."""
    from campaigns.sync import sync_schedule as schedule

    schedule()
