"""SYNC jobs: reading back what the platform says of live objects, on a schedule and on demand.

Beat looks every minute whose turn it is: every ACTIVE account with live campaigns is synced
once per its platform's interval, at its own moment of the interval (derived from its id),
so that a thousand accounts do not all ask the platform in the same minute. An account whose
last sync has not finished gets no second one. What a sync reads, and how few requests it
takes, is the platform's (`platforms.registry`: `sync_planner`); that it yields to the
account's other jobs is the claim's (`campaigns.engine.claims`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from adaccounts.models import AdAccount
from audit.models import AuditEvent
from audit.services import audit_job_created
from campaigns.lifecycle import is_routine
from campaigns.live import require_live
from campaigns.models import (
    FINAL_STATUSES,
    UNFINISHED_STATUSES,
    Campaign,
    CampaignJob,
    JobKind,
    ObjectType,
)
from campaigns.services import job_publish
from mojito.db import insert_rows
from notifications.targets import callback_url_clean
from platforms.registry import get_sync_planner, sync_intervals

logger = logging.getLogger(__name__)


def _sync_job(
    account: AdAccount, *, object_type: str, object_id: Any, **fields: Any
) -> CampaignJob:
    job = CampaignJob(
        team_id=account.team_id,
        ad_account=account,
        platform_type=account.platform_type,
        kind=JobKind.SYNC,
        object_type=object_type,
        object_id=object_id,
        payload={"scope": object_type},
        published_at=timezone.now(),
        **fields,
    )
    with transaction.atomic():
        rows = list(get_sync_planner(account.platform_type)(job=job))
        if not is_routine(kind=job.kind, created_by_id=job.created_by_id):
            rows.append((AuditEvent, [audit_job_created(job)]))
        insert_rows([(CampaignJob, [job]), *rows])
        transaction.on_commit(lambda: job_publish(job_id=job.id))
    return job


def sync_slot(account_id: Any, interval: float, now: datetime) -> datetime:
    """The latest moment at or before `now` when the account's sync is due: once per
    `interval`, offset within it by the account's id."""
    offset = account_id.int % max(1, int(interval))
    ticks = (now.timestamp() - offset) // interval
    return datetime.fromtimestamp(ticks * interval + offset, tz=now.tzinfo)


def sync_schedule(*, now: datetime | None = None) -> list[str]:
    """Beat: start a SYNC job for each ACTIVE account whose moment came since its last sync
    started. Returns the new jobs' ids."""
    now = now or timezone.now()
    intervals = sync_intervals()
    syncs = CampaignJob.objects.filter(
        ad_account=OuterRef("pk"), kind=JobKind.SYNC, object_type=ObjectType.AD_ACCOUNT
    )
    live_campaigns = (
        Campaign.objects.filter(ad_account=OuterRef("pk"))
        .exclude(platform_id=None)
        .exclude(status__in=FINAL_STATUSES)
    )
    accounts = (
        AdAccount.objects.active()
        .filter(platform_type__in=list(intervals))
        .filter(Exists(live_campaigns))
        .exclude(Exists(syncs.filter(status__in=UNFINISHED_STATUSES)))
        .annotate(
            last_sync=Max(
                "jobs__created_at",
                filter=Q(jobs__kind=JobKind.SYNC, jobs__object_type=ObjectType.AD_ACCOUNT),
            )
        )
        .defer("credentials")
    )
    started = []
    for account in accounts:
        interval = intervals[account.platform_type]
        slot = sync_slot(account.pk, interval, now)
        # Due once the last sync is older than half an interval before the slot: in the
        # steady state it happened at the slot before; after every account synced at once
        # (the first schedule after a deploy), those whose slot comes soon skip it, rather
        # than syncing twice in a few minutes, and the herd spreads out within an interval.
        if account.last_sync is not None and account.last_sync >= slot - timedelta(
            seconds=interval / 2
        ):
            continue
        job = _sync_job(account, object_type=ObjectType.AD_ACCOUNT, object_id=account.pk)
        started.append(str(job.pk))
    if started:
        logger.info("Sync started for %d ad accounts", len(started))
    return started


def campaign_sync_submit(
    *, user: AbstractBaseUser, campaign: Campaign, callback_url: Any = None
) -> CampaignJob:
    """Accept a SYNC job for one campaign now (API: `POST /campaigns/{id}/sync`). A sync of
    the campaign already waiting or running is answered instead of a second one. Raises
    `ValidationError` (a bad `callback_url`) or `campaigns.live.ObjectNotReady`."""
    callback_url = callback_url_clean(callback_url)
    require_live(ObjectType.CAMPAIGN, campaign)
    waiting = (
        CampaignJob.objects.filter(
            kind=JobKind.SYNC, object_id=campaign.pk, status__in=UNFINISHED_STATUSES
        )
        .order_by("created_at")
        .first()
    )
    if waiting is not None:
        return waiting
    job = _sync_job(
        campaign.ad_account,
        object_type=ObjectType.CAMPAIGN,
        object_id=campaign.pk,
        created_by=user if user.is_authenticated else None,
        platform_campaign_id=campaign.platform_id,
        callback_url=callback_url,
    )
    logger.info("Sync job %s accepted for campaign %s", job.pk, campaign.pk)
    return job
