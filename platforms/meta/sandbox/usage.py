"""Ad-account call scoring, throttling and Meta's usage headers.

Marketing API rate limiting (https://developers.facebook.com/docs/marketing-apis/rate-limiting):
rate limiting is per ad account, in real time over a sliding window; "a read API call is equal to
1 point, and a write API call is equal to 3 points"; past the maximum score Meta throws a
throttling error (Standard tier: max 9000, decays over 300 s, blocked 60 s). Batch operations
count one by one (Graph API Batch Requests, "Limitations").

Headers (Graph API rate limiting, Business Use Case rate limits):
- ``x-business-use-case-usage``: ``{"<business object id>": [{"type": "ads_management",
  "call_count": %, "total_cputime": %, "total_time": %, "estimated_time_to_regain_access":
  minutes, "ads_api_access_tier": ...}]}``
- ``x-ad-account-usage``: ``{"acc_id_util_pct": %, "reset_time_duration": s,
  "ads_api_access_tier": ...}``
- ``x-app-usage``: ``{"call_count": %, "total_cputime": %, "total_time": %}``
"""

from __future__ import annotations

import json
import math
import time

from .state import SandboxState, Usage

ACCESS_TIER = "standard_access"
# The app-level counter is informational; it saturates at this many points per window.
APP_SCORE_FACTOR = 10


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _prune(usage: Usage, now: float, window: float) -> int:
    while usage.events and usage.events[0][0] <= now - window:
        usage.events.popleft()
    return sum(cost for _, cost in usage.events)


def _pct(score: float, limit: float) -> int:
    if limit <= 0:
        return 100
    return min(100, round(score * 100 / limit))


class UsageTracker:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def _usage(self, account_id: str) -> Usage:
        return self.state.usage.setdefault(account_id, Usage())

    def is_blocked(self, account_id: str, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self._usage(account_id).blocked_until > now

    def record(self, account_id: str | None, cost: int, now: float | None = None) -> bool:
        """Count a call. Returns False when the account is (or just became) throttled."""
        now = time.time() if now is None else now
        config = self.state.config
        app = self.state.app_usage
        app.events.append((now, cost))
        _prune(app, now, config.throttle_window_seconds)
        if account_id is None:
            return True
        usage = self._usage(account_id)
        if usage.blocked_until > now:
            return False
        usage.events.append((now, cost))
        score = _prune(usage, now, config.throttle_window_seconds)
        if score > config.throttle_score:
            usage.blocked_until = now + config.throttle_block_seconds
            return False
        return True

    def force_block(self, account_id: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self._usage(account_id).blocked_until = now + self.state.config.throttle_block_seconds

    def account_stats(self, account_id: str, now: float | None = None) -> dict[str, int]:
        now = time.time() if now is None else now
        config = self.state.config
        usage = self._usage(account_id)
        score = _prune(usage, now, config.throttle_window_seconds)
        blocked = usage.blocked_until > now
        call_pct = 100 if blocked else _pct(score, config.throttle_score)
        regain_minutes = math.ceil((usage.blocked_until - now) / 60) if blocked else 0
        reset_seconds = 0
        if usage.events:
            reset_seconds = max(0, math.ceil(usage.events[0][0] + config.throttle_window_seconds
                                             - now))
        if blocked:
            reset_seconds = max(reset_seconds, math.ceil(usage.blocked_until - now))
        return {
            "score": score,
            "call_count": call_pct,
            # The sandbox spends no real CPU; time shares are reported as a fraction of calls.
            "total_cputime": call_pct // 4,
            "total_time": call_pct // 3,
            "estimated_time_to_regain_access": regain_minutes,
            "reset_time_duration": reset_seconds,
        }

    def headers(self, account_ids: list[str], now: float | None = None) -> dict[str, str]:
        now = time.time() if now is None else now
        config = self.state.config
        app_score = _prune(self.state.app_usage, now, config.throttle_window_seconds)
        app_pct = _pct(app_score, config.throttle_score * APP_SCORE_FACTOR)
        headers = {
            "x-app-usage": _compact(
                {"call_count": app_pct, "total_cputime": app_pct // 4, "total_time": app_pct // 3}
            )
        }
        if not account_ids:
            return headers
        buc: dict[str, list[dict[str, object]]] = {}
        first: dict[str, int] | None = None
        for account_id in dict.fromkeys(account_ids):
            stats = self.account_stats(account_id, now)
            first = first or stats
            buc[account_id] = [
                {
                    "type": "ads_management",
                    "call_count": stats["call_count"],
                    "total_cputime": stats["total_cputime"],
                    "total_time": stats["total_time"],
                    "estimated_time_to_regain_access": stats["estimated_time_to_regain_access"],
                    "ads_api_access_tier": ACCESS_TIER,
                }
            ]
        assert first is not None
        headers["x-business-use-case-usage"] = _compact(buc)
        headers["x-ad-account-usage"] = _compact(
            {
                "acc_id_util_pct": first["call_count"],
                "reset_time_duration": first["reset_time_duration"],
                "ads_api_access_tier": ACCESS_TIER,
            }
        )
        return headers
