"""Job lifecycle outside a run: submit, publish, cancel, retry (the sweeper: `sweeps`).

Who may change a job's status, and when, is decided with conditional UPDATEs, so two workers
(or a worker and an operator) can never both act on one job. What happens while a worker
holds a job is the engine's (`campaigns.engine`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Subquery
from django.utils import timezone
from rest_framework import serializers

from adaccounts.models import AdAccount, AdAccountStatus
from adaccounts.selectors import ad_account_list_for_user, team_list_for_user
from audit.models import AuditEvent
from audit.services import audit_job_created, audit_job_event, audit_write
from campaigns.models import (
    RETRYABLE_STATUSES,
    CampaignJob,
    JobKind,
    JobStatus,
    ObjectChange,
)
from mojito.db import insert_rows
from mojito.parsers import null_character_errors
from notifications.targets import callback_url_split
from platforms.registry import get_account_spec, get_planner, get_request_validator

logger = logging.getLogger(__name__)


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


def resolve_ad_account(*, user: AbstractBaseUser, platform_type: str, value: Any) -> AdAccount:
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

    # The platform's validator never sees `callback_url` (it is ours, not the platform's);
    # the fingerprint above covers it, as part of the body.
    data, callback = callback_url_split(data)
    errors: dict[str, Any] = dict(callback.errors)
    # The API's JSON parser refuses them already; a caller of this service that parsed no
    # request (a script, bench/) is held to the same.
    null_characters = null_character_errors(data)
    if null_characters:
        raise serializers.ValidationError(null_characters)
    account = None
    if isinstance(data, dict):
        try:
            account = resolve_ad_account(
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
        callback_url=callback.url,
        # Set now rather than by an UPDATE after publishing: one statement less per request.
        # A failed publish clears it, so the sweeper picks the job up at once.
        published_at=timezone.now(),
    )
    plan = get_planner(platform_type)(job=job, request=request)
    try:
        with transaction.atomic():
            # The job, its whole plan and its audit event: one statement on PostgreSQL.
            insert_rows([(CampaignJob, [job]), *plan, (AuditEvent, [audit_job_created(job)])])
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


def _audit_status(job: CampaignJob, action: str, actor: Any, previous: str, status: str) -> None:
    changes = {"status": {"before": previous, "after": status}}
    audit_write([audit_job_event(job=job, action=action, actor=actor, changes=changes)])


def job_cancel(*, job: CampaignJob, actor: Any = None) -> CampaignJob:
    """PENDING → CANCELLED, audited as `job.cancelled` by `actor` (a user; None for the
    system). A job a worker already holds cannot be cancelled."""
    now = timezone.now()
    with transaction.atomic():
        changed = CampaignJob.objects.filter(pk=job.pk, status=JobStatus.PENDING).update(
            status=JobStatus.CANCELLED, finished_at=now, next_attempt_at=None, updated_at=now
        )
        if changed:
            _audit_status(job, "job.cancelled", actor, JobStatus.PENDING, JobStatus.CANCELLED)
    job.refresh_from_db()
    if not changed:
        raise JobStateConflict(f"Only a PENDING job can be cancelled; this one is {job.status}.")
    logger.info("Job %s cancelled", job.pk)
    return job


def job_retry(*, job: CampaignJob, actor: Any = None) -> CampaignJob:
    """FAILED / PARTIAL_SUCCESS → PENDING with a fresh attempt budget, published after commit;
    audited as `job.retried` by `actor` (a user; None for the system).

    The plan rows keep their platform IDs, so the next run resumes: nothing that exists on
    the platform is created again. A change superseded by a later one is not retried: it would
    bring older values back.
    """
    if _superseded(job):
        raise JobStateConflict(
            "A later change of this object was accepted after this one: retrying it would "
            "bring older values back. Send the change again instead."
        )
    now = timezone.now()
    with transaction.atomic():
        # The status it leaves, as the row has it (the audit's `before`), locked until commit.
        previous = (
            CampaignJob.objects.select_for_update()
            .filter(pk=job.pk, status__in=RETRYABLE_STATUSES)
            .values_list("status", flat=True)
            .first()
        )
        changed = previous is not None and CampaignJob.objects.filter(pk=job.pk).update(
            status=JobStatus.PENDING,
            # A fresh budget of JOB_MAX_ATTEMPTS: someone decided it is worth another go.
            attempts_at_retry=F("attempts"),
            next_attempt_at=None,
            finished_at=None,
            lease_expires_at=None,
            claimed_by="",
            published_at=now,
            updated_at=now,
        )
        if changed:
            _audit_status(job, "job.retried", actor, previous, JobStatus.PENDING)
            transaction.on_commit(lambda: job_publish(job_id=job.pk))
    job.refresh_from_db()
    if not changed:
        raise JobStateConflict(
            f"Only a FAILED or PARTIAL_SUCCESS job can be retried; this one is {job.status}."
        )
    logger.info("Job %s queued for retry", job.pk)
    return job


def _superseded(job: CampaignJob) -> bool:
    """A change (UPDATE or ARCHIVE) that a later change of one of its objects overtook."""
    if job.kind not in (JobKind.UPDATE, JobKind.ARCHIVE):
        return False
    objects = [
        job.object_id,
        *ObjectChange.objects.filter(job=job).values_list("object_id", flat=True),
    ]
    # Only a later change Meta applied (or one running now) supersedes: a later job that
    # failed having applied nothing, or additions under the object, change none of its values.
    return (
        CampaignJob.objects.filter(
            created_at__gt=job.created_at, kind__in=(JobKind.UPDATE, JobKind.ARCHIVE)
        )
        .filter(changes__object_id__in=objects)
        .filter(Q(changes__applied_at__isnull=False) | Q(status=JobStatus.PROCESSING))
        .exists()
    )


def jobs_retry(
    *,
    job_ids: list[str] | None = None,
    status: str | None = None,
    since: datetime | None = None,
    actor: Any = None,
) -> list[CampaignJob]:
    """Retry every retryable job matching the filters (the `retry_jobs` command; `actor`
    None: the system)."""
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
            retried.append(job_retry(job=job, actor=actor))
        except JobStateConflict:
            continue  # changed under us; nothing to do
    return retried
