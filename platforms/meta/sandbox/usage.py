"""Ad-account call scoring, throttling and Meta's usage headers.

Marketing API rate limiting (https://developers.facebook.com/docs/marketing-apis/rate-limiting):
rate limiting is per ad account and happens in real time; "a read API call is equal to 1 point,
and a write API call is equal to 3 points"; past the maximum score Meta throws a throttling
error. Standard tier: "maximum score is 9000, will decay in 300 seconds, and will be blocked for
60 seconds"; the older page words it "the max score will decay at x points per second
(x = n / 300)". The sandbox keeps one decaying score per ad account (a leaky bucket draining at
``throttle_score / throttle_window_seconds`` points a second). Batch operations count one by one
(Graph API Batch Requests, "Limitations").

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
# The app-level counter is informational; it saturates at this many times the account maximum.
APP_SCORE_FACTOR = 10


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _pct(score: float, limit: float) -> int:
    if limit <= 0:
        return 100
    return min(100, round(score * 100 / limit))


class UsageTracker:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def _usage(self, account_id: str) -> Usage:
        return self.state.usage.setdefault(account_id, Usage())

    def _drain_rate(self, factor: float = 1.0) -> float:
        config = self.state.config
        window = max(config.throttle_window_seconds, 0.001)
        return config.throttle_score * factor / window

    def _decay(self, usage: Usage, now: float, factor: float = 1.0) -> float:
        if usage.updated_at:
            drained = self._drain_rate(factor) * (now - usage.updated_at)
            usage.score = max(0.0, usage.score - drained)
        usage.updated_at = now
        return usage.score

    def record(self, account_id: str | None, cost: int, now: float | None = None) -> bool:
        """Count a call. Returns False when the account is (or just became) throttled."""
        now = time.time() if now is None else now
        app = self.state.app_usage
        self._decay(app, now, APP_SCORE_FACTOR)
        app.score += cost
        if account_id is None:
            return True
        usage = self._usage(account_id)
        self._decay(usage, now)
        if usage.blocked_until > now:
            return False
        usage.score += cost
        if usage.score > self.state.config.throttle_score:
            usage.blocked_until = now + self.state.config.throttle_block_seconds
            return False
        return True

    def force_block(self, account_id: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        usage = self._usage(account_id)
        self._decay(usage, now)
        usage.score = max(usage.score, float(self.state.config.throttle_score))
        usage.blocked_until = now + self.state.config.throttle_block_seconds

    def account_stats(self, account_id: str, now: float | None = None) -> dict[str, int]:
        now = time.time() if now is None else now
        usage = self._usage(account_id)
        score = self._decay(usage, now)
        blocked = usage.blocked_until > now
        call_pct = 100 if blocked else _pct(score, self.state.config.throttle_score)
        regain_minutes = math.ceil((usage.blocked_until - now) / 60) if blocked else 0
        drain = self._drain_rate()
        reset_seconds = math.ceil(score / drain) if drain > 0 else 0
        if blocked:
            reset_seconds = max(reset_seconds, math.ceil(usage.blocked_until - now))
        return {
            "score": math.ceil(score),
            "call_count": call_pct,
            # The sandbox spends no real CPU; time shares are reported as a fraction of calls.
            "total_cputime": call_pct // 4,
            "total_time": call_pct // 3,
            "estimated_time_to_regain_access": regain_minutes,
            "reset_time_duration": reset_seconds,
        }

    def headers(self, account_ids: list[str], now: float | None = None) -> dict[str, str]:
        now = time.time() if now is None else now
        app_score = self._decay(self.state.app_usage, now, APP_SCORE_FACTOR)
        app_pct = _pct(app_score, self.state.config.throttle_score * APP_SCORE_FACTOR)
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
