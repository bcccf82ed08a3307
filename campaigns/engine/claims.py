"""The claim: a PENDING job becomes this run's, with its attempt counted and its lease set.

Who may run a job is decided by conditional UPDATEs, so two workers can never both hold one;
an account never runs more than `JOB_MAX_CONCURRENT_PER_ACCOUNT` jobs at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from adaccounts.models import AdAccount, AdAccountStatus
from campaigns import sweeps
from campaigns.models import UNFINISHED_STATUSES, CampaignJob, JobKind, JobStatus, ObjectChange
from platforms.registry import get_adapter

logger = logging.getLogger(__name__)


def claim_token() -> str:
    """Who holds a claim: this host, process and thread, plus a nonce. Unique per claim, so a
    run that lost its lease can never pass for the run that took the job over, even in the
    same process (threads pool) or after a fork (prefork children share import-time state).
    """
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:12]}"


class AccountBusy(Exception):
    """The job's ad account already runs as many jobs as it may at once."""

    # The setting that says how soon the job is tried again.
    retry_setting = "JOB_ACCOUNT_BUSY_RETRY_SECONDS"


class SyncYields(AccountBusy):
    """A SYNC job waits for the account's creation and change jobs to be done: tried again
    later than a busy account's job, since those may take a while."""

    retry_setting = "JOB_SYNC_YIELD_SECONDS"


class ObjectBusy(AccountBusy):
    """An earlier job on the same live object has not finished: changes to one object run in
    the order they were accepted (API.md, "Live objects"). Retried like a busy account."""


def job_claim(*, job_id: Any, worker: str | None = None) -> CampaignJob | None:
    """Take a PENDING job for this worker: status, attempt and lease change in one UPDATE.

    Returns the job with its `ad_account`, or None when there is nothing to do: the job is
    gone, already taken or finished, not due yet, or its account is not ACTIVE (its jobs wait,
    without burning attempts). A message delivered twice therefore runs the job once. A job
    of a soft-deleted account ends CANCELLED. Raises AccountBusy when the account already
    runs `JOB_MAX_CONCURRENT_PER_ACCOUNT` jobs, and PlatformNotSupported when this worker
    has no adapter for the job's platform (the job stays PENDING, no attempt spent).
    """
    now = timezone.now()
    token = worker or claim_token()
    if connection.vendor == "postgresql":
        return _claim_postgresql(job_id, token, now)
    return _claim_portable(job_id, token, now)


def _still_due(job_id: Any, now: datetime) -> bool:
    return (
        CampaignJob.objects.filter(pk=job_id, status=JobStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exists()
    )


def _earlier_job_unfinished(job_id: Any) -> bool:
    """An earlier job on the same object, or changing one of the objects this job changes (a
    cascade changes a campaign's whole tree), has not finished."""
    job = CampaignJob.objects.filter(pk=job_id).values("object_id", "created_at", "pk").first()
    if job is None or job["object_id"] is None:
        return False
    changed = ObjectChange.objects.filter(job_id=job_id).values("object_id")
    return (
        CampaignJob.objects.filter(status__in=UNFINISHED_STATUSES)
        .exclude(kind=JobKind.SYNC)
        .filter(
            Q(created_at__lt=job["created_at"]) | Q(created_at=job["created_at"], pk__lt=job["pk"])
        )
        .filter(Q(object_id=job["object_id"]) | Q(changes__object_id__in=changed))
        .exists()
    )


def _sync_must_yield(job_id: Any, now: datetime) -> bool:
    """A SYNC job waits while another job of its account runs or is due: a sync only reads,
    and must not spend the account's rate-limit budget while creations and changes need it."""
    job = CampaignJob.objects.filter(pk=job_id).values("kind", "ad_account_id").first()
    if job is None or job["kind"] != JobKind.SYNC:
        return False
    return (
        CampaignJob.objects.filter(ad_account_id=job["ad_account_id"])
        .exclude(kind=JobKind.SYNC)
        .filter(
            Q(status=JobStatus.PROCESSING, lease_expires_at__gt=now)
            | Q(status=JobStatus.PENDING)
            & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        )
        .exists()
    )


def _account_is_busy(account_id: Any, now: datetime) -> bool:
    cap = settings.JOB_MAX_CONCURRENT_PER_ACCOUNT
    running = CampaignJob.objects.filter(
        ad_account_id=account_id, status=JobStatus.PROCESSING, lease_expires_at__gt=now
    )
    return bool(cap) and running.count() >= cap


# The claim on PostgreSQL: 4 statements (BEGIN, lock, UPDATE ... RETURNING, COMMIT) where the
# ORM needs 8; the claim is a third of a small job's database work. The account's row is
# locked first, so claims of one account queue there; the UPDATE then starts after the
# previous claimer committed, and its own snapshot counts that claimer's job (READ COMMITTED
# takes a snapshot per statement, which is why the count cannot live in the locking SELECT).
# FOR NO KEY UPDATE, not FOR UPDATE: a submission's INSERT takes FOR KEY SHARE on the account
# it references, which only FOR UPDATE blocks; claims still queue on each other.
# The credentials come sealed, as stored: decrypting them is the run's first step, where a
# key FERNET_KEYS no longer lists fails the run (counted, named) instead of every claim.
_ACCOUNT_COLUMNS = ", ".join(
    f"a.{field.column}" for field in AdAccount._meta.concrete_fields if field.name != "credentials"
)
_LOCK_ACCOUNT_SQL = f"""
    SELECT {_ACCOUNT_COLUMNS}, a.credentials AS sealed_credentials,
        j.platform_type AS job_platform_type
    FROM ad_accounts a JOIN campaign_jobs j ON j.ad_account_id = a.id
    WHERE j.id = %(job)s AND j.status = 'PENDING'
"""  # noqa: S608 (column names from the model's metadata; every value is a parameter)
LOCK_ACCOUNT_FOR_CLAIM = " FOR NO KEY UPDATE OF a"
_CLAIM_SQL = """
    UPDATE campaign_jobs SET
        status = 'PROCESSING',
        attempts = attempts + 1,
        lease_expires_at = %(lease)s,
        claimed_by = %(token)s,
        started_at = COALESCE(started_at, %(now)s),
        updated_at = %(now)s
    WHERE id = %(job)s
        AND status = 'PENDING'
        AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s)
        AND EXISTS (
            SELECT 1 FROM ad_accounts a WHERE a.id = campaign_jobs.ad_account_id
            AND a.status = 'ACTIVE' AND a.deleted_at IS NULL
        )
        AND (object_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM campaign_jobs e WHERE e.status IN ('PENDING', 'PROCESSING')
            AND e.kind <> 'SYNC'
            AND (e.created_at, e.id) < (campaign_jobs.created_at, campaign_jobs.id)
            AND (e.object_id = campaign_jobs.object_id OR e.id IN (
                SELECT theirs.job_id FROM object_changes theirs
                JOIN object_changes ours ON ours.object_id = theirs.object_id
                WHERE ours.job_id = campaign_jobs.id
            ))
        ))
        AND (kind <> 'SYNC' OR NOT EXISTS (
            SELECT 1 FROM campaign_jobs o WHERE o.ad_account_id = campaign_jobs.ad_account_id
            AND o.kind <> 'SYNC' AND (
                (o.status = 'PROCESSING' AND o.lease_expires_at > %(now)s)
                OR (o.status = 'PENDING'
                    AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= %(now)s))
            )
        ))
        AND (%(cap)s = 0 OR (
            SELECT count(*) FROM campaign_jobs r WHERE r.ad_account_id = campaign_jobs.ad_account_id
            AND r.status = 'PROCESSING' AND r.lease_expires_at > %(now)s
        ) < %(cap)s)
    RETURNING *
"""


def _claim_postgresql(job_id: Any, token: str, now: datetime) -> CampaignJob | None:
    cap = settings.JOB_MAX_CONCURRENT_PER_ACCOUNT
    params = {
        "job": CampaignJob._meta.pk.to_python(job_id),
        "token": token,
        "now": now,
        "lease": now + timedelta(seconds=settings.JOB_LEASE_SECONDS),
        "cap": cap,
    }
    lock = LOCK_ACCOUNT_FOR_CLAIM if cap else ""
    with transaction.atomic():
        account = next(iter(AdAccount.objects.raw(_LOCK_ACCOUNT_SQL + lock, params)), None)
        if account is None:
            return None
        if account.deleted_at is not None:
            sweeps.jobs_cancel_of_deleted_account(ad_account_id=account.pk, job_id=job_id)
            return None
        get_adapter(account.job_platform_type)  # raises PlatformNotSupported
        job = next(iter(CampaignJob.objects.raw(_CLAIM_SQL, params)), None)
        if job is None:
            # Either another claimer took the job, an earlier job on its object is unfinished,
            # or the account was full. Asking whether it is full in a later statement could
            # see a slot freed meanwhile and drop the job until the sweeper; asking whether
            # the job is still PENDING cannot mislead.
            if account.status == AdAccountStatus.ACTIVE and _still_due(job_id, now):
                if _earlier_job_unfinished(job_id):
                    raise ObjectBusy()
                if _sync_must_yield(job_id, now):
                    raise SyncYields()
                if cap:
                    raise AccountBusy()
            return None
    job.ad_account = account
    return job


def _claim_portable(job_id: Any, token: str, now: datetime) -> CampaignJob | None:
    """The claim with the ORM, for databases other than PostgreSQL (SQLite by default)."""
    with transaction.atomic():
        found = (
            CampaignJob.objects.filter(pk=job_id, status=JobStatus.PENDING)
            .values_list("ad_account_id", "platform_type")
            .first()
        )
        if found is None:
            return None
        account_id, platform_type = found
        if AdAccount.objects.filter(pk=account_id, deleted_at__isnull=False).exists():
            sweeps.jobs_cancel_of_deleted_account(ad_account_id=account_id, job_id=job_id)
            return None
        get_adapter(platform_type)  # raises PlatformNotSupported
        if settings.JOB_MAX_CONCURRENT_PER_ACCOUNT:
            # Lock the account's row: claims of one account queue here, so counting its
            # running jobs and claiming one more cannot interleave across workers.
            list(
                AdAccount.objects.select_for_update(no_key=True)
                .filter(pk=account_id)
                .values_list("pk")
            )
            if _account_is_busy(account_id, now):
                raise AccountBusy()
        if _earlier_job_unfinished(job_id):
            raise ObjectBusy()
        if _sync_must_yield(job_id, now):
            raise SyncYields()
        claimed = (
            CampaignJob.objects.filter(pk=job_id, status=JobStatus.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            # EXISTS, not a join: with a join Django writes `WHERE id IN (SELECT ...)`, and
            # PostgreSQL's re-check of a concurrently updated row skips the subquery's
            # `status = PENDING`, letting every concurrent claimer win.
            .filter(Exists(AdAccount.objects.active().filter(pk=OuterRef("ad_account_id"))))
            .update(
                status=JobStatus.PROCESSING,
                attempts=F("attempts") + 1,
                lease_expires_at=now + timedelta(seconds=settings.JOB_LEASE_SECONDS),
                claimed_by=token,
                started_at=Coalesce(F("started_at"), now),
                updated_at=now,
            )
        )
    if claimed != 1:
        return None
    return (
        CampaignJob.objects.select_related("ad_account")
        .defer("ad_account__credentials")
        .get(pk=job_id)
    )
