"""What a run writes while it holds its job: checkpoints of the plan's rows, and the lease.

Every write is conditional on the run still holding the job (its claim token), so a run that
lost its lease to the sweeper can never overwrite what the run that took over recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Model, QuerySet
from django.utils import timezone

from campaigns.models import CampaignJob, JobStatus


def held(job: CampaignJob) -> QuerySet[CampaignJob]:
    """The job, as long as the run that claimed it still holds it (the claim token is per
    claim: a run whose lease expired and was claimed again no longer matches)."""
    return CampaignJob.objects.filter(
        pk=job.pk, status=JobStatus.PROCESSING, claimed_by=job.claimed_by
    )


def job_still_held(job: CampaignJob) -> Exists:
    """A condition for writes a run makes: true only while that run still holds the job."""
    return Exists(held(job))


# Rows of one model to change: {primary key: {field name: value}}, the same fields for all.
RowChanges = dict[Any, dict[str, Any]]


def job_update_rows(
    job: CampaignJob, changes: dict[type[Model], RowChanges], inserts: Sequence[Model] = ()
) -> bool:
    """Write checkpoint fields of a job's rows (plan objects, media), and insert the new
    rows `inserts` (unsaved instances, their keys set: the audit event of an accepted
    change), only while this run holds the job. Returns False when the run lost it: then
    nothing was written.

    On PostgreSQL this is one statement whatever the rows and tables (an UPDATE per table,
    and an INSERT per table of new rows, as data-modifying CTEs sharing one check of the
    hold): a job writes its checkpoints before and after every Graph call, and through the
    ORM each row would cost a statement.
    """
    changes = {model: rows for model, rows in changes.items() if rows}
    if not changes and not inserts:
        return True
    expected = sum(len(rows) for rows in changes.values())
    if connection.vendor != "postgresql":
        still_held = job_still_held(job)
        with transaction.atomic():
            updated = sum(
                model.objects.filter(pk=pk).filter(still_held).update(**fields)
                for model, rows in changes.items()
                for pk, fields in rows.items()
            )
            if updated != expected or (not changes and not held(job).exists()):
                transaction.set_rollback(True)
                return False
            for model, objs in _by_model(inserts).items():
                model._default_manager.bulk_create(objs)
        return True
    sql, params = _update_rows_sql(job, changes, inserts)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (written,) = cursor.fetchone()
    # One statement: either the hold check passed and every row was written, or none was.
    return written == expected + len(inserts)


def _by_model(objs: Sequence[Model]) -> dict[type[Model], list[Model]]:
    grouped: dict[type[Model], list[Model]] = {}
    for obj in objs:
        grouped.setdefault(type(obj), []).append(obj)
    return grouped


def job_store_rows(
    job: CampaignJob,
    changes: dict[type[Model], RowChanges],
    stores: Sequence[Callable[[], None]],
    inserts: Sequence[Model] = (),
) -> bool:
    """`job_update_rows`, and the `stores` (writes of new rows) in the same transaction, only
    while this run holds the job: the job's row is locked first, so a requeue waits."""
    with transaction.atomic():
        if not held(job).select_for_update().exists():
            return False
        if not job_update_rows(job, changes, inserts):
            transaction.set_rollback(True)
            return False
        for store in stores:
            store()
    return True


def _update_rows_sql(
    job: CampaignJob, changes: dict[type[Model], RowChanges], inserts: Sequence[Model] = ()
) -> tuple[str, list[Any]]:
    # Only identifiers from the models' metadata are formatted into the SQL (hence the
    # S608 exemptions below); every value is a parameter.
    params: list[Any] = [job.pk, JobStatus.PROCESSING, job.claimed_by]
    ctes = [
        # FOR SHARE: a sweeper's requeue committed while this statement runs is waited for
        # and seen (the check re-reads the row), instead of missed by the statement's snapshot.
        "held AS (SELECT 1 FROM campaign_jobs WHERE id = %s AND status = %s AND claimed_by = %s"
        " FOR SHARE)"
    ]
    # One UPDATE per table and set of changed fields.
    groups: dict[tuple[type[Model], tuple[str, ...]], RowChanges] = {}
    for model, rows in changes.items():
        for pk, values in rows.items():
            groups.setdefault((model, tuple(values)), {})[pk] = values
    for n, ((model, names), rows) in enumerate(groups.items()):
        opts = model._meta
        fields = [opts.pk, *(opts.get_field(name) for name in names)]
        columns = [connection.ops.quote_name(field.column) for field in fields]
        row_sql = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields) + ")"
        for pk, values in rows.items():
            params.append(opts.pk.get_db_prep_value(pk, connection))
            params += [
                field.get_db_prep_save(values[name], connection)
                for field, name in zip(fields[1:], names, strict=True)
            ]
        assignments = ", ".join(f"{column} = v.{column}" for column in columns[1:])
        ctes.append(
            f"u{n} AS (UPDATE {connection.ops.quote_name(opts.db_table)} AS t SET {assignments}"  # noqa: S608
            f" FROM (VALUES {', '.join([row_sql] * len(rows))}) AS v({', '.join(columns)})"
            f" WHERE t.{columns[0]} = v.{columns[0]} AND EXISTS (SELECT 1 FROM held)"
            " RETURNING 1)"
        )
    names = [f"u{n}" for n in range(len(groups))]
    for n, (model, objs) in enumerate(_by_model(inserts).items()):
        opts = model._meta
        fields = [field for field in opts.concrete_fields if not field.generated]
        columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        row_sql = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields) + ")"
        for obj in objs:
            params += [
                field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields
            ]
        # INSERT ... SELECT, so that the rows go in only with the hold, as the updates do.
        ctes.append(
            f"i{n} AS (INSERT INTO {connection.ops.quote_name(opts.db_table)} ({columns})"  # noqa: S608
            f" SELECT * FROM (VALUES {', '.join([row_sql] * len(objs))}) AS v({columns})"
            " WHERE EXISTS (SELECT 1 FROM held) RETURNING 1)"
        )
        names.append(f"i{n}")
    counts = " + ".join(f"(SELECT count(*) FROM {name})" for name in names)  # noqa: S608
    return f"WITH {', '.join(ctes)} SELECT {counts}", params


def job_heartbeat(*, job: CampaignJob) -> bool:
    """Extend the lease of a job this worker holds; False if it was taken away meanwhile."""
    now = timezone.now()
    return bool(
        held(job).update(lease_expires_at=now + timedelta(seconds=settings.JOB_LEASE_SECONDS))
    )
