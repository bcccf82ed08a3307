"""Meta's rate-limit signals, read off every response, and the account pauses they call for.

Meta reports usage on every response: `x-business-use-case-usage` (per business use case,
keyed by object id, with `estimated_time_to_regain_access` in minutes), `x-ad-account-usage`
(`acc_id_util_pct`, `reset_time_duration` in seconds) and `x-app-usage`. Crossing 100% gets
calls refused for a while, so mojito slows an account down before that: once usage passes
`META_USAGE_PAUSE_PERCENT` the account is paused (`campaigns.engine.pauses`, shared by every
worker), and its jobs are deferred until the pause ends.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from campaigns.engine.pauses import pause_account

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Usage:
    percent: float  # the highest usage figure Meta reported, 0-100+
    regain_seconds: float  # how long Meta says access stays blocked (0 when not blocked)


def _load(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _figures(entry: Mapping[str, Any]) -> list[float]:
    keys = ("call_count", "total_cputime", "total_time", "acc_id_util_pct")
    return [float(entry[k]) for k in keys if isinstance(entry.get(k), int | float)]


def parse_usage(headers: Mapping[str, str], *, account_number: str) -> Usage | None:
    """The usage Meta reported in response headers, or None when it reported none."""
    figures: list[float] = []
    regain = 0.0
    buc = _load(headers.get("x-business-use-case-usage"))
    if isinstance(buc, dict):
        for key, entries in buc.items():
            if not isinstance(entries, list):
                continue
            for entry in entries:
                if isinstance(entry, dict):
                    if str(key) == account_number or len(buc) == 1:
                        figures += _figures(entry)
                    minutes = entry.get("estimated_time_to_regain_access")
                    if isinstance(minutes, int | float) and str(key) == account_number:
                        regain = max(regain, float(minutes) * 60)
    account = _load(headers.get("x-ad-account-usage"))
    if isinstance(account, dict):
        figures += _figures(account)
        if float(account.get("acc_id_util_pct") or 0) >= 100:
            reset = account.get("reset_time_duration")
            if isinstance(reset, int | float):
                regain = max(regain, float(reset))
    app = _load(headers.get("x-app-usage"))
    if isinstance(app, dict):
        figures += _figures(app)
    if not figures and not regain:
        return None
    return Usage(percent=max(figures, default=0.0), regain_seconds=regain)


# How long Meta's last usage figure of an account is taken to hold: its windows roll over
# about an hour, but a figure a few minutes old says little about now.
USAGE_MEMORY_SECONDS = 300


def _usage_key(account_key: str) -> str:
    return f"meta:usage:{account_key}"


def recent_usage(account_key: str) -> float | None:
    """Meta's last usage figure for the account (percent), if one came in recently: what a
    sync checks before it spends any of the account's budget."""
    return cache.get(_usage_key(account_key))


def note_usage(account_key: str, usage: Usage | None) -> float | None:
    """Remember Meta's figure, and pause the account if it says so; returns the pause end,
    if any."""
    if usage is None:
        return None
    cache.set(_usage_key(account_key), usage.percent, timeout=USAGE_MEMORY_SECONDS)
    if usage.regain_seconds > 0:
        return pause_account(account_key, usage.regain_seconds, reason="Meta blocked access")
    if usage.percent >= settings.META_USAGE_PAUSE_PERCENT:
        # The nearer to 100 %, the longer the pause: usage decays over Meta's rolling window.
        over = (usage.percent - settings.META_USAGE_PAUSE_PERCENT) / max(
            1.0, 100 - settings.META_USAGE_PAUSE_PERCENT
        )
        seconds = settings.META_USAGE_PAUSE_SECONDS * (1 + 3 * min(over, 1.0))
        return pause_account(account_key, seconds, reason=f"usage at {usage.percent:.0f}%")
    return None
