"""The moment other apps hear of when a job ends: its final status was written.

Each hook is called inside the transaction that wrote the change, so what it records (a
webhook delivery, an audit event) commits with the change or not at all (an outbox: the
delivery is sent after commit, at least once). Callers: the engine's outcome and the sweeper.
"""

from __future__ import annotations

from typing import Any

from audit import services as audit
from notifications import events


def job_finished(*, job_id: Any, previous: str, status: str) -> None:
    """A job went from `previous` to a final status (SUCCESS, FAILED, PARTIAL_SUCCESS)."""
    audit.audit_job_status(job_id=job_id, previous=previous, status=status)
    events.job_finished(job_id=job_id)
