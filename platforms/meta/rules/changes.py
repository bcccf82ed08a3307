"""Meta's rules for changing live objects: what a PATCH may name, and Meta's change limits.

Sources, named at each rule: Marketing API rate limiting ("Ad Set Level Rate Limiting"), the
Marketing API best practices ("Manage your ad object's status") and the Marketing API v2.7
release notes (daily and lifetime budgets).

Not part of the `rules` namespace (its `__init__` gathers the creation tables); import this
module by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final

from campaigns.models import CHANGE_FIELDS as CONTRACT_FIELDS

# API.md, "Live objects": what a PATCH of each object may change, on every platform.
CHANGE_FIELDS: Final[Mapping[str, tuple[str, ...]]] = CONTRACT_FIELDS

BUDGET_FIELDS: Final = ("daily_budget", "lifetime_budget")

# developers.facebook.com/docs/marketing-api/api-rate-limiting, "Ad Set Level Rate Limiting":
# "Number of changes to the ad set daily_budget, lifetime_budget fields are limited. For each ad
# set, the budget is only allowed to change 4 times per hour, if exceeds the limit, the budget
# change for that ad set will be blocked for an hour" (error 17, "User request limit reached").
# The limit is Meta's for ad sets only; a campaign budget has none documented.
AD_SET_BUDGET_CHANGES_PER_WINDOW: Final = 4
AD_SET_BUDGET_CHANGE_WINDOW: Final = timedelta(hours=1)

ARCHIVED_STATUS: Final = "ARCHIVED"
# marketing-api/best-practices/manage-your-ad-object-status, "Archived": "An ARCHIVED object has
# only 2 fields you can change: name and status. You can also only change status to DELETED."
# mojito never deletes on Meta (DELETE is its archive), so of the two only the name is left.
ARCHIVED_CHANGEABLE_FIELDS: Final = frozenset({"name"})


def next_budget_change_at(budget_changes: Sequence[datetime], now: datetime) -> datetime | None:
    """When an ad set's budget may change again, None when it may now.

    Meta blocks the budget for an hour once a fifth change is tried; refusing that change here
    instead, the next one is allowed as soon as the oldest of the hour's changes ages out.
    """
    window, limit = AD_SET_BUDGET_CHANGE_WINDOW, AD_SET_BUDGET_CHANGES_PER_WINDOW
    recent = sorted(at for at in budget_changes if now - window < at <= now)
    if len(recent) < limit:
        return None
    return recent[len(recent) - limit] + window


def budget_kind_switch(
    stored: Mapping[str, int | None], patch: Mapping[str, int | None]
) -> tuple[str, str] | None:
    """(the ad set's budget kind, the one the patch asks) when the patch switches between
    daily and lifetime budgets, else None.

    Marketing API v2.7 release notes (facebook-python-business-sdk release 2.7.1, changelog
    v2.7): "you can no longer edit ad sets created with the new daily budget controls to use
    lifetime budgets. Similarly you can no longer edit lifetime budgets to use the new daily
    budget controls."
    """
    for kind, other in (BUDGET_FIELDS, BUDGET_FIELDS[::-1]):
        if stored.get(kind) is not None and patch.get(other) is not None:
            return kind, other
    return None
