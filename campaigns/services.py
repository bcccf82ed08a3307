"""Job lifecycle: submit, publish, claim, cancel, retry, sweep.

Who may change a job's status, and when, is decided here with conditional UPDATEs, so two
workers (or a worker and an operator) can never both act on one job.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework import serializers

from adaccounts.models import AdAccount, AdAccountStatus
from adaccounts.selectors import ad_account_list_for_user, team_list_for_user
from campaigns.models import RETRYABLE_STATUSES, CampaignJob, JobStatus
from mojito.db import insert_rows
from platforms.registry import (
    PlatformNotSupported,
    get_account_spec,
    get_executor,
    get_planner,
    get_request_validator,
)

logger = logging.getLogger(__name__)


def claim_token() -> str:
    """Who holds a claim: this host, process and thread, plus a nonce. Unique per claim, so a
    run that lost its lease can never pass for the run that took the job over, even in the
    same process (threads pool) or after a fork (prefork children share import-time state).
    """
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:12]}"


class IdempotencyKeyReused(Exception):
    """The key was used before, by this team, with a different request body."""


class JobStateConflict(Exception):
    """The job is not in a state that allows the requested transition."""


@dataclass(frozen=True)
class Submission:
    job: CampaignJob
    # False when an Idempotency-Key replayed an earlier submission.
    created: bool


def request_fingerprint(data: Any) -> str:
    """SHA-256 of the body with keys sorted: the same JSON, however formatted, matches."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _named_account(
    accounts: QuerySet[AdAccount], *, platform_type: str, value: Any
) -> QuerySet[AdAccount] | None:
    """`accounts` narrowed to the one a request names, by our UUID or the platform's account
    ID (e.g. `act_123` or bare digits for Meta); None when `value` names nothing at all."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    value = value.strip()
    try:
        return accounts.filter(pk=uuid.UUID(value))
    except ValueError:
        pass
    try:
        account_id = get_account_spec(platform_type).normalize_account_id(value)
    except serializers.ValidationError:
        return None
    return accounts.filter(platform_account_id=account_id)


def _resolve_ad_account(*, user: AbstractBaseUser, platform_type: str, value: Any) -> AdAccount:
    """The caller's live ACTIVE account named by our UUID or the platform's account ID.

    One message for every failure, so that an account of another team is indistinguishable
    from one that does not exist. Only `id`, `team_id` and `additional_config` (the account's
    defaults, which validation reads) are loaded; other fields are read on first access.
    """
    accounts = ad_account_list_for_user(user=user).filter(
        platform_type=platform_type, status=AdAccountStatus.ACTIVE
    )
    match = _named_account(accounts, platform_type=platform_type, value=value)
    # A submission needs only the keys: loading the whole row would decrypt the credentials on
    # every request. At most one row matches (a UUID, or the live platform ID, which is
    # unique), so no ORDER BY either.
    account = (
        next(iter(match.only("id", "team_id", "additional_config")[:1]), None)
        if match is not None
        else None
    )
    if account is None:
        raise serializers.ValidationError(
            "No active ad account with this ID is available to you.", code="invalid"
        )
    return account


def _null_character_errors(data: Any, path: str = "") -> dict[str, str]:
    """Paths of strings (keys included) holding U+0000, which PostgreSQL cannot store."""
    message = "Null characters are not allowed."
    errors: dict[str, str] = {}
    if isinstance(data, str):
        if "\x00" in data:
            errors[path or "non_field_errors"] = message
    elif isinstance(data, dict):
        for key, value in data.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                errors[child.replace("\x00", "")] = message
            else:
                errors.update(_null_character_errors(value, child))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            errors.update(_null_character_errors(value, f"{path}.{index}" if path else str(index)))
    return errors


def _team_of_requested_account(
    *, user: AbstractBaseUser, platform_type: str, data: Any
) -> QuerySet[AdAccount] | None:
    """The team (a one-value subquery) of the account a request names, whatever the account's
    state now: a replay must answer as the first time even if the account was deactivated
    since. None when the request names no account at all."""
    accounts = AdAccount.objects.filter(platform_type=platform_type)
    if not getattr(user, "is_superuser", False):
        accounts = accounts.filter(team__in=team_list_for_user(user=user))
    value = data.get("ad_account_id") if isinstance(data, dict) else None
    match = _named_account(accounts, platform_type=platform_type, value=value)
    if match is None:
        return None
    # The live account first (the one a new submission would use), on every database:
    # PostgreSQL sorts NULLs last by default, SQLite first.
    return match.order_by(F("deleted_at").asc(nulls_first=True)).values("team_id")[:1]


def _find_replay(
    *,
    user: AbstractBaseUser,
    platform_type: str,
    data: Any,
    idempotency_key: str,
    fingerprint: str,
) -> CampaignJob | None:
    """The earlier job of this key in the team of the requested account, if any."""
    team = _team_of_requested_account(user=user, platform_type=platform_type, data=data)
    if team is None:
        return None
    # One query: when no account matches, the subquery is NULL and no job matches either.
    job = (
        CampaignJob.objects.filter(idempotency_key=idempotency_key, team_id=Subquery(team))
        .order_by("created_at")
        .first()
    )
    if job is not None and job.request_hash != fingerprint:
        raise IdempotencyKeyReused
    return job


def job_submit(
    *,
    user: AbstractBaseUser,
    platform_type: str,
    data: Any,
    idempotency_key: str | None = None,
    validate_only: bool = False,
) -> Submission | None:
    """Validate a create-ads request and store it as a PENDING job with its plan.

    Everything is written in one transaction, and the job id reaches the broker only after
    commit: a rolled-back request leaves no row and no message. With `validate_only` nothing
    is stored and None is returned. Raises `ValidationError` (every bad field at once) or
    `IdempotencyKeyReused`.
    """
    # Only a keyed request is ever compared with a later one.
    fingerprint = request_fingerprint(data) if idempotency_key else ""
    if idempotency_key and not validate_only:
        replay = _find_replay(
            user=user,
            platform_type=platform_type,
            data=data,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
        if replay is not None:
            return Submission(job=replay, created=False)

    errors: dict[str, Any] = {}
    null_characters = _null_character_errors(data)
    if null_characters:
        raise serializers.ValidationError(null_characters)
    account = None
    if isinstance(data, dict):
        try:
            account = _resolve_ad_account(
                user=user, platform_type=platform_type, value=data.get("ad_account_id")
            )
        except serializers.ValidationError as exc:
            errors["ad_account_id"] = exc.detail
    request: dict[str, Any] = {}
    try:
        # The account's defaults (e.g. Meta's DSA payor) fill what the request leaves out;
        # with no account known, the rules that need them are skipped.
        request = get_request_validator(platform_type)(
            data, account_config=account.additional_config if account else None
        )
    except serializers.ValidationError as exc:
        errors.update(
            exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        )
    if errors:
        raise serializers.ValidationError(errors)
    if validate_only:
        return None
    assert account is not None

    job = CampaignJob(
        team_id=account.team_id,
        ad_account=account,
        platform_type=platform_type,
        created_by=user,
        payload=data,
        idempotency_key=idempotency_key or None,
        request_hash=fingerprint,
        # Set now rather than by an UPDATE after publishing: one statement less per request.
        # A failed publish clears it, so the sweeper picks the job up at once.
        published_at=timezone.now(),
    )
    plan = get_planner(platform_type)(job=job, request=request)
    try:
        with transaction.atomic():
            # The job and its whole plan: one statement on PostgreSQL.
            insert_rows([(CampaignJob, [job]), *plan])
            transaction.on_commit(lambda: job_publish(job_id=job.id))
    except IntegrityError:
        if not idempotency_key:
            raise
        # A concurrent request with the same key committed first: answer as its replay.
        replay = _find_replay(
            user=user,
            platform_type=platform_type,
            data=data,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
        if replay is None:
            raise
        return Submission(job=replay, created=False)
    logger.info("Job %s submitted for account %s", job.id, account.id)
    return Submission(job=job, created=True)


def job_publish(*, job_id: Any, countdown: float | None = None) -> bool:
    """Hand the job id (only the id) to the broker; False when the broker is unreachable.

    Callers set `published_at` in the write that makes the job PENDING (one statement, not a
    second one here). A job that could not be published stays PENDING with no
    `published_at`, and the sweeper publishes it once the broker is back.
    """
    from campaigns.tasks import job_run

    try:
        # retry=False: fail within the broker connection timeout instead of blocking the request.
        job_run.apply_async(args=[str(job_id)], retry=False, countdown=countdown)
    except Exception:
        logger.warning("Could not publish job %s; the sweeper will retry", job_id, exc_info=True)
        CampaignJob.objects.filter(pk=job_id, status=JobStatus.PENDING).update(published_at=None)
        return False
    return True


class AccountBusy(Exception):
    """The job's ad account already runs as many jobs as it may at once."""


def job_claim(*, job_id: Any, worker: str | None = None) -> CampaignJob | None:
    """Take a PENDING job for this worker: status, attempt and lease change in one UPDATE.

    Returns the job with its `ad_account`, or None when there is nothing to do: the job is
    gone, already taken or finished, not due yet, or its account is not ACTIVE (its jobs wait,
    without burning attempts). A message delivered twice therefore runs the job once. Raises
    AccountBusy when the account already runs `JOB_MAX_CONCURRENT_PER_ACCOUNT` jobs, and
    PlatformNotSupported when this worker has no executor for the job's platform (the job
    stays PENDING, no attempt spent).
    """
    now = timezone.now()
    token = worker or claim_token()
    if connection.vendor == "postgresql":
        return _claim_postgresql(job_id, token, now)
    return _claim_portable(job_id, token, now)


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
_LOCK_ACCOUNT_SQL = """
    SELECT a.*, j.platform_type AS job_platform_type
    FROM ad_accounts a JOIN campaign_jobs j ON j.ad_account_id = a.id
    WHERE j.id = %(job)s AND j.status = 'PENDING'
"""
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
    lock = " FOR UPDATE OF a" if cap else ""
    with transaction.atomic():
        account = next(iter(AdAccount.objects.raw(_LOCK_ACCOUNT_SQL + lock, params)), None)
        if account is None:
            return None
        get_executor(account.job_platform_type)  # raises PlatformNotSupported
        job = next(iter(CampaignJob.objects.raw(_CLAIM_SQL, params)), None)
        if job is None:
            if account.status == AdAccountStatus.ACTIVE and _account_is_busy(account.pk, now):
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
        get_executor(platform_type)  # raises PlatformNotSupported
        if settings.JOB_MAX_CONCURRENT_PER_ACCOUNT:
            # Lock the account's row: claims of one account queue here, so counting its
            # running jobs and claiming one more cannot interleave across workers.
            list(AdAccount.objects.select_for_update().filter(pk=account_id).values_list("pk"))
            if _account_is_busy(account_id, now):
                raise AccountBusy()
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
    return CampaignJob.objects.select_related("ad_account").get(pk=job_id)


def job_execute(*, job_id: Any) -> None:
    """Worker entry: claim the job and let its platform's executor realise the plan."""
    try:
        job = job_claim(job_id=job_id)
    except PlatformNotSupported:
        # Left PENDING (no attempt spent) until a worker that can run it exists.
        logger.warning("No executor for job %s's platform yet; it stays PENDING", job_id)
        return
    except AccountBusy:
        # Not a failure: come back shortly (the sweeper would, later, if this is lost).
        delay = settings.JOB_ACCOUNT_BUSY_RETRY_SECONDS
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
    get_executor(job.platform_type)(job=job)


def _held(job: CampaignJob) -> QuerySet[CampaignJob]:
    """The job, as long as the run that claimed it still holds it (the claim token is per
    claim: a run whose lease expired and was claimed again no longer matches)."""
    return CampaignJob.objects.filter(
        pk=job.pk, status=JobStatus.PROCESSING, claimed_by=job.claimed_by
    )


def _release(job: CampaignJob, **changes: Any) -> bool:
    """Write the outcome of a run, only if this worker still holds the job.

    When the lease expired and the sweeper handed the job to someone else, this run's
    outcome is stale and is dropped (the other worker's run decides).
    """
    now = timezone.now()
    changes.setdefault("lease_expires_at", None)
    changes.setdefault("claimed_by", "")
    released = _held(job).update(updated_at=now, **changes)
    if not released:
        logger.warning("Job %s was taken from this worker; its outcome is dropped", job.pk)
    return bool(released)


def job_succeed(*, job: CampaignJob, platform_campaign_id: str | None) -> bool:
    ok = _release(
        job,
        status=JobStatus.SUCCESS,
        platform_campaign_id=platform_campaign_id,
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
    ok = _release(
        job,
        status=status,
        error=error,
        platform_campaign_id=platform_campaign_id,
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
    if not _release(job, **changes):
        return False
    if delay <= settings.JOB_MAX_COUNTDOWN_SECONDS:
        job_publish(job_id=job.pk, countdown=delay)
    logger.info("Job %s rescheduled in %.1f s", job.pk, delay)
    return True


def job_still_held(job: CampaignJob) -> Exists:
    """A condition for writes a run makes: true only while that run still holds the job."""
    return Exists(_held(job))


# Rows of one model to change: {primary key: {field name: value}}, the same fields for all.
RowChanges = dict[Any, dict[str, Any]]


def job_update_rows(job: CampaignJob, changes: dict[type[Model], RowChanges]) -> bool:
    """Write checkpoint fields of a job's rows (plan objects, media), only while this run
    holds the job. Returns False when the run lost it: then nothing was written.

    On PostgreSQL this is one statement whatever the rows and tables (an UPDATE per table as
    data-modifying CTEs sharing one check of the hold): a job writes its checkpoints before
    and after every Graph call, and through the ORM a 1-1-1 batch took 12 statements.
    """
    changes = {model: rows for model, rows in changes.items() if rows}
    if not changes:
        return True
    expected = sum(len(rows) for rows in changes.values())
    if connection.vendor != "postgresql":
        held = job_still_held(job)
        with transaction.atomic():
            updated = sum(
                model.objects.filter(pk=pk).filter(held).update(**fields)
                for model, rows in changes.items()
                for pk, fields in rows.items()
            )
            if updated != expected:
                transaction.set_rollback(True)
        return updated == expected
    sql, params = _update_rows_sql(job, changes)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (updated,) = cursor.fetchone()
    # One statement: either the hold check passed and every row was written, or none was.
    return updated == expected


def _update_rows_sql(
    job: CampaignJob, changes: dict[type[Model], RowChanges]
) -> tuple[str, list[Any]]:
    # Only identifiers from the models' metadata are formatted into the SQL (hence the
    # S608 exemptions below); every value is a parameter.
    params: list[Any] = [job.pk, JobStatus.PROCESSING, job.claimed_by]
    ctes = [
        "held AS (SELECT 1 FROM campaign_jobs WHERE id = %s AND status = %s AND claimed_by = %s)"
    ]
    for n, (model, rows) in enumerate(changes.items()):
        opts = model._meta
        names = list(next(iter(rows.values())))
        if any(list(fields) != names for fields in rows.values()):
            raise ValueError(f"Every {opts.object_name} row must change the same fields.")
        fields = [opts.pk, *(opts.get_field(name) for name in names)]
        columns = [connection.ops.quote_name(field.column) for field in fields]
        row_sql = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields) + ")"
        for pk, values in rows.items():
            params.append(opts.pk.get_db_prep_value(pk, connection))
            params += [
                field.get_db_prep_save(values[field.name], connection) for field in fields[1:]
            ]
        assignments = ", ".join(f"{column} = v.{column}" for column in columns[1:])
        ctes.append(
            f"u{n} AS (UPDATE {connection.ops.quote_name(opts.db_table)} AS t SET {assignments}"  # noqa: S608
            f" FROM (VALUES {', '.join([row_sql] * len(rows))}) AS v({', '.join(columns)})"
            f" WHERE t.{columns[0]} = v.{columns[0]} AND EXISTS (SELECT 1 FROM held)"
            " RETURNING 1)"
        )
    counts = " + ".join(f"(SELECT count(*) FROM u{n})" for n in range(len(changes)))  # noqa: S608
    return f"WITH {', '.join(ctes)} SELECT {counts}", params


def job_heartbeat(*, job: CampaignJob) -> bool:
    """Extend the lease of a job this worker holds; False if it was taken away meanwhile."""
    now = timezone.now()
    return bool(
        _held(job).update(lease_expires_at=now + timedelta(seconds=settings.JOB_LEASE_SECONDS))
    )


def job_cancel(*, job: CampaignJob) -> CampaignJob:
    """PENDING → CANCELLED. A job a worker already holds cannot be cancelled."""
    now = timezone.now()
    changed = CampaignJob.objects.filter(pk=job.pk, status=JobStatus.PENDING).update(
        status=JobStatus.CANCELLED, finished_at=now, next_attempt_at=None, updated_at=now
    )
    job.refresh_from_db()
    if not changed:
        raise JobStateConflict(f"Only a PENDING job can be cancelled; this one is {job.status}.")
    logger.info("Job %s cancelled", job.pk)
    return job


def job_retry(*, job: CampaignJob) -> CampaignJob:
    """FAILED / PARTIAL_SUCCESS → PENDING, published after commit.

    The plan rows keep their platform IDs, so the next run resumes: nothing that exists on
    the platform is created again.
    """
    now = timezone.now()
    with transaction.atomic():
        changed = CampaignJob.objects.filter(pk=job.pk, status__in=RETRYABLE_STATUSES).update(
            status=JobStatus.PENDING,
            next_attempt_at=None,
            finished_at=None,
            lease_expires_at=None,
            claimed_by="",
            published_at=now,
            updated_at=now,
        )
        if changed:
            transaction.on_commit(lambda: job_publish(job_id=job.pk))
    job.refresh_from_db()
    if not changed:
        raise JobStateConflict(
            f"Only a FAILED or PARTIAL_SUCCESS job can be retried; this one is {job.status}."
        )
    logger.info("Job %s queued for retry", job.pk)
    return job


def jobs_retry(
    *, job_ids: list[str] | None = None, status: str | None = None, since: datetime | None = None
) -> list[CampaignJob]:
    """Retry every retryable job matching the filters (the `retry_jobs` command)."""
    jobs = CampaignJob.objects.filter(status__in=RETRYABLE_STATUSES)
    if job_ids:
        jobs = jobs.filter(pk__in=job_ids)
    if status:
        jobs = jobs.filter(status=status)
    if since:
        jobs = jobs.filter(updated_at__gte=since)
    retried = []
    for job in jobs.order_by("created_at"):
        try:
            retried.append(job_retry(job=job))
        except JobStateConflict:
            continue  # changed under us; nothing to do
    return retried


def jobs_requeue_stuck(*, now: datetime | None = None) -> list[str]:
    """Return PROCESSING jobs whose lease expired (their worker died) to PENDING and publish.

    The conditional UPDATE only touches jobs still expired at that instant, so a worker that
    renews its lease concurrently keeps its job.
    """
    now = now or timezone.now()
    stuck = list(
        CampaignJob.objects.filter(
            status=JobStatus.PROCESSING, lease_expires_at__lt=now
        ).values_list("pk", flat=True)
    )
    requeued = []
    for job_id in stuck:
        changed = CampaignJob.objects.filter(
            pk=job_id, status=JobStatus.PROCESSING, lease_expires_at__lt=now
        ).update(
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
