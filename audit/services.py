"""The audit trail's writers. Each event is written in the transaction of the change it
records (the callers' own), so the trail and the change commit together or not at all.

Callers build events with `audit_new` (or the helpers below, which know a job's or a change's
shape) and write them with `audit_write` (one INSERT), or hand them to `mojito.db.insert_rows`
with the rows they record, which on PostgreSQL makes it one statement with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Subquery

from audit.models import SYSTEM_ACTOR, AuditEvent

# What a credentials change records instead of any value (or part of one).
CREDENTIALS_SET = "<set>"
CREDENTIALS_CHANGED = "<changed>"
# A key rotation: the same credentials, encrypted under the newest key.
CREDENTIALS_REENCRYPTED = "<re-encrypted>"

Changes = dict[str, dict[str, Any]]


def _user(actor: Any) -> Any:
    """The user behind `actor`: a user who is signed in, else None (the system)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return actor


def audit_actor(actor: Any) -> str:
    """`"user:<username>"` for a user, `"system"` for None (a worker, a command, the sweeper)."""
    user = _user(actor)
    return f"user:{user.get_username()}" if user is not None else SYSTEM_ACTOR


def audit_new(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: Any,
    ad_account_id: Any = None,
    team_id: Any = None,
    changes: Changes,
) -> AuditEvent:
    """An unsaved event: `actor` is a user or None (the system); `changes` is
    `{"<field>": {"before": ..., "after": ...}}` by API field name, never a credential."""
    user = _user(actor)
    return AuditEvent(
        actor=audit_actor(user),
        user_id=user.pk if user is not None else None,
        action=action,
        object_type=str(object_type),
        object_id=object_id,
        ad_account_id=ad_account_id,
        team_id=team_id,
        changes=changes,
    )


def audit_write(events: Iterable[AuditEvent]) -> None:
    """Insert the events, in one statement. Call it inside the change's transaction."""
    events = list(events)
    if events:
        AuditEvent.objects.bulk_create(events)


def audit_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> Changes:
    """The fields of `after` whose value differs from `before` (a missing one is None)."""
    return {
        name: {"before": before.get(name), "after": value}
        for name, value in after.items()
        if before.get(name) != value
    }


# --- jobs ------------------------------------------------------------------------------------


def audit_job_event(*, job: Any, action: str, actor: Any, changes: Changes) -> AuditEvent:
    """An unsaved event about `job` (a CampaignJob)."""
    return audit_new(
        actor=actor,
        action=action,
        object_type="job",
        object_id=job.pk,
        ad_account_id=job.ad_account_id,
        team_id=job.team_id,
        changes=changes,
    )


def audit_job_created(job: Any) -> AuditEvent:
    """`job.created`, by the job's `created_by`: its kind, status and the object it works on.
    Not its payload (ad copy): the job itself shows that, and events stay small."""
    after: dict[str, Any] = {"kind": job.kind, "status": job.status}
    if job.object_type:
        after.update(object_type=job.object_type, object_id=job.object_id)
    return audit_job_event(
        job=job,
        action="job.created",
        actor=job.created_by if job.created_by_id else None,
        changes=audit_diff({}, after),
    )


def audit_job_status(*, job_id: Any, previous: str, status: str) -> None:
    """`job.finished`: a job's final status written by a worker or the sweeper (actor: the
    system). One INSERT: the job's team and account are read by it, not by a query before."""
    from campaigns.models import CampaignJob  # the engine imports this module

    job = CampaignJob.objects.filter(pk=job_id).order_by()
    event = audit_new(
        actor=None,
        action="job.finished",
        object_type="job",
        object_id=job_id,
        changes={"status": {"before": previous, "after": status}},
    )
    event.ad_account_id = Subquery(job.values("ad_account_id")[:1])
    event.team_id = Subquery(job.values("team_id")[:1])
    event.save()


# --- ad accounts -----------------------------------------------------------------------------


def audit_account_status(*, account_id: Any, previous: str, status: str, actor: Any) -> None:
    """`ad_account.status_changed`, in the transaction that changed it (`actor`: the user who
    asked for a verify, None for a worker's dead-token answer)."""
    from adaccounts.models import AdAccount

    event = audit_new(
        actor=actor,
        action="ad_account.status_changed",
        object_type="ad_account",
        object_id=account_id,
        ad_account_id=account_id,
        changes={"status": {"before": previous, "after": status}},
    )
    event.team_id = Subquery(AdAccount.objects.filter(pk=account_id).values("team_id")[:1])
    event.save()


# --- live objects ----------------------------------------------------------------------------


def audit_object_change(
    *,
    job: Any,
    object_type: str,
    object_id: Any,
    previous: Mapping[str, Any],
    values: Mapping[str, Any],
) -> AuditEvent:
    """`<object_type>.updated` (`.archived` for an ARCHIVE job): a change the platform
    accepted, by the user who asked for it (the job's `created_by`; the system if none).
    Every requested field is listed, even one that kept its value: it was asked for and sent."""
    from campaigns.models import JobKind

    verb = "archived" if job.kind == JobKind.ARCHIVE else "updated"
    return audit_new(
        # The job's user is read once per run (Django caches it on the job).
        actor=job.created_by if job.created_by_id else None,
        action=f"{object_type}.{verb}",
        object_type=object_type,
        object_id=object_id,
        ad_account_id=job.ad_account_id,
        team_id=job.team_id,
        changes={
            name: {"before": previous.get(name), "after": value} for name, value in values.items()
        },
    )
