"""Look into the real Redis broker, and take it away, from tests."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

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


UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # a port where nothing listens


@contextmanager
def broker_write_url(url: str | None) -> Iterator[None]:
    """This process publishes to ``url``; the previous setting and fresh pools on exit.

    Publishing and /readyz connect through ``conf.broker_write_url``, which takes the
    CELERY_BROKER_WRITE_URL environment variable if set, else the ``broker_write_url`` setting,
    else ``broker_url`` (when the setting is None).
    """
    previous = celery_app.conf.get("broker_write_url")
    celery_app.conf.broker_write_url = url
    forget_connection_pools()
    try:
        yield
    finally:
        celery_app.conf.broker_write_url = previous
        forget_connection_pools()


def broker_down() -> AbstractContextManager[None]:
    """Point the Celery app at a port where nothing listens, as if Redis had died."""
    return broker_write_url(UNREACHABLE_BROKER)


def forget_connection_pools() -> None:
    """Drop the app's cached connection and producer pools, as Celery does after a fork, so
    that the next publish builds them for the current broker URL.

    Closing them instead would poison kombu's global registry, which would hand the closed
    pool back (for the real broker, later).
    """
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")  # a cached property: not built only to reset it
    if amqp is not None:
        amqp._producer_pool = None
