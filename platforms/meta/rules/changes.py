"""Meta's rules for changing live objects: what a PATCH may name, and Meta's change limits.

Sources, named at each rule: Marketing API rate limiting ("Ad Set Level Rate Limiting"), the
Marketing API best practices ("Manage your ad object's status") and the Marketing API v2.7
release notes (daily and lifetime budgets).

Not part of the `rules` namespace (its `__init__` gathers the creation tables); import this
module by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final

# API.md, "Live objects": what a PATCH of each object may change.
CHANGE_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "campaign": ("name", "status", "daily_budget", "lifetime_budget", "spend_cap", "bid_strategy"),
    "ad_set": (
        "name",
        "status",
        "daily_budget",
        "lifetime_budget",
        "bid_amount",
        "end_time",
        "targeting",
    ),
    "ad": ("name", "status", "creative"),
}

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
