"""The moment other apps hear of when a job ends: its final status was written.

Each hook is called inside the transaction that wrote the change, so what it records (a
webhook delivery, an audit event) commits with the change or not at all (an outbox: the
delivery is sent after commit, at least once). Callers: the engine's outcome and the sweeper.
"""

from __future__ import annotations

from typing import Any

from audit import services as audit
from campaigns.models import JobKind
from notifications import events


def is_routine(*, kind: str, created_by_id: Any) -> bool:
    """A job nobody asked for that changes nothing of the client's: a scheduled sync (every
    account, every interval). Its end is neither audited nor announced; what it read that
    changed is audited by the sync itself."""
    return kind == JobKind.SYNC and created_by_id is None


def job_finished(*, job_id: Any, previous: str, status: str, routine: bool = False) -> None:
    """A job went from `previous` to a final status (SUCCESS, FAILED, PARTIAL_SUCCESS);
    `routine`: see `is_routine`."""
    if routine:
        return
    audit.audit_job_status(job_id=job_id, previous=previous, status=status)
    events.job_finished(job_id=job_id)
