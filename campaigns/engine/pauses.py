"""A pause per ad account, shared by every worker through the cache.

A paused account's jobs are deferred, not failed: nothing is sent for it until the pause
ends. The platform adapter pauses an account when the platform's usage figures say it must
slow down; the engine pauses it when a call was refused for its rate.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)


def _key(account_id: Any) -> str:
    return f"engine:pause:{account_id}"


def pause_account(account_id: Any, seconds: float, *, reason: str) -> float:
    """Pause the account for `seconds` (extending, never shortening, a pause); returns the
    Unix time it ends."""
    until = time.time() + seconds
    current = paused_until(account_id)
    if current and current >= until:
        return current
    cache.set(_key(account_id), until, timeout=int(seconds) + 1)
    logger.warning("Pausing account %s for %.0f s: %s", account_id, seconds, reason)
    return until


def paused_until(account_id: Any) -> float | None:
    """Unix time until which the account is paused, or None."""
    until = cache.get(_key(account_id))
    return until if until and until > time.time() else None


def paused_for(account_id: Any) -> float | None:
    """Seconds left of the account's pause (at least 1), or None."""
    until = paused_until(account_id)
    return max(1.0, until - time.time()) if until else None
