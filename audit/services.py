"""The audit trail's writers. (Skeleton: the audit app fills these in.)"""

from __future__ import annotations

from typing import Any


def audit_job_status(*, job_id: Any, previous: str, status: str) -> None:
    """A job's status changed by a worker or the sweeper (actor: system)."""


def audit_account_status(*, account_id: Any, previous: str, status: str, actor: Any) -> None:
    """An ad account's status changed."""
