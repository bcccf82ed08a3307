"""Look into the real Redis broker, and take it away, from tests."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings

from mojito.celery import app as celery_app

QUEUE = "celery"  # Celery's default queue: a Redis list of JSON envelopes


class BrokerQueue:
    def __init__(self) -> None:
        self.redis = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    def clear(self) -> None:
        self.redis.delete(QUEUE)

    def messages(self) -> list[dict]:
        # LPUSH puts the newest first; return them in publishing order.
        return [json.loads(raw) for raw in reversed(self.redis.lrange(QUEUE, 0, -1))]

    def job_ids(self) -> list[str]:
        """The job id argument of every job_run message waiting in the queue."""
        ids = []
        for message in self.messages():
            if message["headers"]["task"] != "campaigns.tasks.job_run":
                continue
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            ids.append(args[0])
        return ids

    def raw(self) -> bytes:
        return b"".join(self.redis.lrange(QUEUE, 0, -1))


@contextmanager
def broker_down() -> Iterator[None]:
    """Point the Celery app at a port where nothing listens, as if Redis had died."""
    # Publishing and /readyz connect through broker_write_url, which falls back to broker_url
    # when unset (None): that is what it is put back to.
    celery_app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    _forget_connection_pools()
    try:
        yield
    finally:
        celery_app.conf.broker_write_url = None
        _forget_connection_pools()


def _forget_connection_pools() -> None:
    # The app caches its connection and producer pools; drop the references (as Celery does
    # after a fork) so the next publish builds them for the current broker_url. Closing them
    # instead would poison kombu's global registry, which hands the closed pool back.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
