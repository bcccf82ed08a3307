from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import pytest
from django.db import connection

from tests.factories import ApiCaller, make_caller


@pytest.fixture
def caller(db) -> ApiCaller:
    return make_caller()


@pytest.fixture
def other_caller(db) -> ApiCaller:
    return make_caller()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Factories set a password on every user; PBKDF2 would cost a quarter second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Throttle counters of this run only: several runs may share one Redis (two checkouts, CI jobs
# on one machine), and user ids and the client address (127.0.0.1) repeat across them.
_RUN = uuid.uuid4().hex[:12]
_tests = itertools.count()


@pytest.fixture(autouse=True)
def fresh_request_counts(monkeypatch) -> Iterator[str]:
    """Every test starts with no API requests counted against its users or its address (all
    tests call from 127.0.0.1): the throttles count under a key prefix of this test alone, and
    on Redis its counters are deleted afterwards. Nothing else in the cache, and nothing of
    another run, is touched. Returns the prefix's key format, for a process the test starts."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from mojito.throttling import AnonymousRateThrottle, UserRateThrottle

    cache = caches["default"]  # the suite's: a test may swap in another (a dead Redis)
    prefix = f"throttle-test-{_RUN}-{next(_tests)}"
    key_format = f"{prefix}:%(scope)s:%(ident)s"
    for throttle in (UserRateThrottle, AnonymousRateThrottle):
        monkeypatch.setattr(throttle, "cache_format", key_format)
    yield key_format
    if isinstance(cache, RedisCache):
        # Otherwise the counters just expire: a window and a minute after their last count.
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"*{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def broker_queue():
    """The real Redis queue, emptied before and after the test."""
    from tests.broker import BrokerQueue

    queue = BrokerQueue()
    queue.clear()
    yield queue
    queue.clear()


@pytest.fixture(params=["postgresql", "portable"])
def sql_path(request, monkeypatch) -> str:
    """Run a test on both paths of the services that write raw SQL on PostgreSQL (claims,
    checkpoints): PostgreSQL's own statements, and the ORM's, which other databases (SQLite,
    the embedded default) take."""
    if request.param == "portable":
        monkeypatch.setattr(connection, "vendor", "portable")
    return request.param
