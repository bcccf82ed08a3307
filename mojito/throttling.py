"""Request throttling of the API: per user (so per token) and, for requests without a user, per
client address. Counted in Django's cache, which is Redis in production and tests, so that the
limit holds across every gunicorn worker and web host (counted atomically there; bin/run's
embedded file cache counts with a read and a write, see _FixedWindowThrottle).

The rates are settings (API_THROTTLE_RATE, API_THROTTLE_ANON_RATE), read at each request so
that a test or an operator's settings change applies at once. Over the rate: DRF's 429 with
`Retry-After`, in the API's error shape (mojito.api's exception handler).

Kept apart from `mojito.api`: DRF imports the throttle classes while loading its settings.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class _FixedWindowThrottle(SimpleRateThrottle):
    """DRF's SimpleRateThrottle (rates, idents, the 429 it leads to), counted with one atomic
    counter per client and window instead of DRF's list of timestamps.

    DRF reads the list, appends and writes it back: two workers answering the same client at
    once both read N and both write N + 1, so under concurrent requests (what a limit is for)
    it counts fewer than came. On Redis (production, the tests) the cache's add and incr are
    SET NX and INCRBY, so every request is counted exactly once; the same holds for Django's
    local-memory cache (under a lock). Django's file cache, bin/run's embedded default, has no
    atomic incr (it reads the value, then writes it back): concurrent requests there can be
    counted once between them, which a single-host development server can live with. A fixed
    window lets a client send up to twice the rate across a window's edge, which is the usual
    price of counting in O(1).
    """

    rate_setting: str
    cache_format = "throttle:%(scope)s:%(ident)s"

    def get_rate(self) -> str | None:
        return getattr(settings, self.rate_setting) or None

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        key = f"{self.key}:{window}"
        try:
            # The counter outlives its window by a margin, so that it cannot expire between
            # the add and the incr (which would make incr fail) on a clock a little behind.
            self.cache.add(key, 0, timeout=self.duration + 60)
            count = self.cache.incr(key)
        except Exception:
            # The limit protects the service; it must not take it down. With the cache
            # unreachable (Redis restarting) requests go through uncounted.
            logger.warning("Throttle: the cache does not answer, not counting", exc_info=True)
            return True
        return count <= self.num_requests

    def wait(self) -> float:
        """Whole seconds until the window ends (at least 1), as Retry-After says them."""
        return max(1, math.ceil(self.window_ends_at - self.timer()))


class UserRateThrottle(_FixedWindowThrottle):
    """A user's requests (token or session), at API_THROTTLE_RATE. A user has one API token,
    so this is the per-token limit."""

    scope = "user"
    rate_setting = "API_THROTTLE_RATE"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None  # AnonymousRateThrottle's
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonymousRateThrottle(_FixedWindowThrottle):
    """Requests without a user, per client address (REMOTE_ADDR, or the address the trusted
    proxies in front saw: DRF's NUM_PROXIES), at API_THROTTLE_ANON_RATE.

    Views only check throttles after authentication and permissions, so a request with a bad
    token, or none on an endpoint that needs one, never reaches this as a view throttle: the
    exception handler counts those here too (see mojito.api), which is what bounds guessing.
    """

    scope = "anon"
    rate_setting = "API_THROTTLE_ANON_RATE"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None  # UserRateThrottle's
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
