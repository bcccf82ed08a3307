"""Webhook events: recorded as delivery rows in the caller's transaction, sent after commit.

(Skeleton: the notifications app fills these in.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def job_finished(*, job_id: Any) -> None:
    """`job.succeeded`, `job.failed` or `job.partial_success` for the job's team webhook and
    its `callback_url`."""


def ads_disapproved(*, ad_ids: Iterable[Any]) -> None:
    """`ad.disapproved` for each ad (a sync saw it become DISAPPROVED)."""


def account_requires_reauth(*, account_id: Any) -> None:
    """`ad_account.requires_reauth` for the account's team webhook."""
