from __future__ import annotations

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


@pytest.fixture(autouse=True)
def fresh_request_counts() -> None:
    """Every test starts with no API requests counted against its users or its address (all
    tests call from 127.0.0.1): the counts live in Redis, which outlives a test, and user ids
    repeat across runs. Only the throttle's keys go; the rest of the cache is left alone."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        cache.clear()  # a local cache of this process alone
        return
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match="*throttle:*", count=1000))
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
