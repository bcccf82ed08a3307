"""Webhooks and callbacks, from the change that causes an event to the receiver's answer: a real
HTTP receiver on 127.0.0.1, the real outbox, sweep and task, PostgreSQL and the Redis broker.

The clock of a retry is moved by setting `next_attempt_at` in the past (what the time passing
would do), never by sleeping.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from adaccounts.services import ad_account_require_reauth
from campaigns import lifecycle
from campaigns.models import Ad, CampaignJob, JobKind, JobStatus
from notifications import events
from notifications.delivery import deliveries_sweep, delivery_claim, retry_delay
from notifications.models import (
    DeliveryStatus,
    DeliveryTarget,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
)
from notifications.signing import verify
from notifications.tasks import delivery_send
from tests.broker import BrokerQueue
from tests.factories import AdAccountFactory, CampaignJobFactory, make_live_campaign
from tests.images import LoopbackServer
from tests.payloads import META_SUBMIT_URL, api_example

pytestmark = pytest.mark.django_db

DELIVERY_TASK = "notifications.tasks.delivery_send"


# --- The receiver ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver(LoopbackServer):
    """An http.server on 127.0.0.1 that records every POST and answers the given statuses in
    turn (then 200)."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        self.received: list[Received] = []
        self.statuses = list(statuses)
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                answer = b"ok" if status < 300 else b"not now"
                # Recorded before answering: the sender may return (and the test look) as soon
                # as the answer arrives.
                with receiver.arrived:
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                    receiver.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
        return self.received


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def private_allowed(settings) -> None:
    """The receiver is on loopback: allowed as in the tests' and sandbox's settings."""
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True


# --- Helpers -----------------------------------------------------------------------------------


def set_webhook(caller: Any, url: str) -> str:
    response = caller.client.patch(
        f"/api/v1/teams/{caller.team.pk}", {"webhook_url": url}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["webhook_secret"]


def submit(caller: Any, account: Any, **extra: Any) -> CampaignJob:
    response = caller.client.post(
        META_SUBMIT_URL, {**api_example(str(account.pk)), **extra}, format="json"
    )
    assert response.status_code == 202, response.content
    return CampaignJob.objects.get(pk=response.json()["id"])


def finish(job: CampaignJob, status: str = JobStatus.SUCCESS) -> None:
    """A job's final status written as the engine and the sweeper write it: the UPDATE and
    the lifecycle hook in one transaction."""
    with transaction.atomic():
        CampaignJob.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now())
        lifecycle.job_finished(job_id=job.pk, previous=JobStatus.PROCESSING, status=status)


def published_delivery_ids(queue: BrokerQueue) -> list[str]:
    ids = []
    for message in queue.messages():
        if message["headers"]["task"] == DELIVERY_TASK:
            args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            assert kwargs == {}
            ids.append(args[0])
    return ids


def run_published(queue: BrokerQueue) -> list[str]:
    """Run every published delivery task, as a worker would, and empty the queue."""
    ids = published_delivery_ids(queue)
    queue.clear()
    for delivery_id in ids:
        delivery_send(delivery_id)
    return ids


def make_due(delivery: WebhookDelivery) -> None:
    """The time of the next attempt has come."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


# --- A job's final state -----------------------------------------------------------------------


def test_a_jobs_final_state_reaches_the_team_webhook_signed(
    caller, receiver, private_allowed, broker_queue, django_capture_on_commit_callbacks
):
    account = AdAccountFactory(team=caller.team)
    secret = set_webhook(caller, receiver.url("/hooks/mojito"))
    job = submit(caller, account)
    broker_queue.clear()

    with django_capture_on_commit_callbacks(execute=True):
        finish(job)
    (delivery_id,) = published_delivery_ids(broker_queue)  # only the id travels
    run_published(broker_queue)

    (got,) = receiver.received
    assert got.path == "/hooks/mojito"
    assert got.headers["Content-Type"] == "application/json"
    assert "mojito" in got.headers["User-Agent"]
    assert verify(secret, got.body, got.headers["Mojito-Signature"])
    assert not verify("whsec_other", got.body, got.headers["Mojito-Signature"])
    body = got.json
    assert set(body) == {"id", "type", "created_at", "data"}
    assert body["type"] == "job.succeeded"
    assert body["data"] == caller.client.get(f"/api/v1/jobs/{job.pk}").json()
    assert body["data"]["status"] == "SUCCESS"

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.target, str(delivery.event_id)) == (
        DeliveryStatus.DELIVERED,
        DeliveryTarget.WEBHOOK,
        body["id"],
    )
    (attempt,) = delivery.attempt_rows.all()
    assert (attempt.succeeded, attempt.status_code, attempt.error) == (True, 200, "")


@pytest.mark.parametrize(
    ("status", "event_type"),
    [(JobStatus.FAILED, "job.failed"), (JobStatus.PARTIAL_SUCCESS, "job.partial_success")],
)
def test_a_callback_url_receives_its_jobs_end_signed_with_a_secret_made_for_it(
    caller, receiver, private_allowed, status, event_type
):
    account = AdAccountFactory(team=caller.team)
    job = submit(caller, account, callback_url=receiver.url("/cb?token=client-own"))
    assert job.callback_url == receiver.url("/cb?token=client-own")
    assert "callback_url" not in job.payload
    caller.team.refresh_from_db()
    assert not caller.team.has_webhook_secret

    finish(job, status)
    (delivery,) = WebhookDelivery.objects.filter(event__job=job)
    assert delivery.target == DeliveryTarget.CALLBACK
    delivery_send(str(delivery.pk))

    (got,) = receiver.received
    assert got.path == "/cb?token=client-own"
    assert got.json["type"] == event_type
    # The team had no secret: one was made for this send; the API shows a new one on request.
    caller.team.refresh_from_db()
    assert verify(caller.team.webhook_secret, got.body, got.headers["Mojito-Signature"])
    shown = caller.client.get("/api/v1/teams").json()[0]
    assert shown["has_webhook_secret"] is True and "webhook_secret" not in shown
    rotated = caller.client.post(f"/api/v1/teams/{caller.team.pk}/webhook_secret").json()
    assert rotated["webhook_secret"] != caller.team.webhook_secret


def test_a_webhook_and_a_callback_each_get_the_same_event(caller, receiver, private_allowed):
    account = AdAccountFactory(team=caller.team)
    secret = set_webhook(caller, receiver.url("/team"))
    job = submit(caller, account, callback_url=receiver.url("/job"))
    finish(job)

    for delivery in WebhookDelivery.objects.filter(event__job=job):
        delivery_send(str(delivery.pk))
    paths = sorted(got.path for got in receiver.received)
    assert paths == ["/job", "/team"]
    first, second = receiver.received
    assert first.body == second.body  # one event: the same id, type, created_at and data
    for got in receiver.received:
        assert verify(secret, got.body, got.headers["Mojito-Signature"])


def test_a_scheduled_sync_announces_nothing_and_one_asked_for_does(
    caller, receiver, private_allowed
):
    set_webhook(caller, receiver.url("/team"))
    account = AdAccountFactory(team=caller.team)
    scheduled = CampaignJobFactory(ad_account=account, kind=JobKind.SYNC, created_by=None)
    asked = CampaignJobFactory(ad_account=account, kind=JobKind.SYNC, created_by=caller.user)

    for job in (scheduled, asked):
        CampaignJob.objects.filter(pk=job.pk).update(status=JobStatus.SUCCESS)
        events.job_finished(job_id=job.pk)

    assert not WebhookEvent.objects.filter(job=scheduled).exists()
    assert WebhookEvent.objects.get(job=asked).type == "job.succeeded"


def test_a_team_without_webhook_and_a_job_without_callback_store_nothing(caller):
    job = submit(caller, AdAccountFactory(team=caller.team))
    finish(job)
    assert not WebhookEvent.objects.exists()


# --- The outbox: the change's own transaction ---------------------------------------------------


def test_the_delivery_is_written_in_the_transaction_of_the_state_change(
    caller, receiver, private_allowed, django_capture_on_commit_callbacks
):
    set_webhook(caller, receiver.url("/team"))
    job = submit(caller, AdAccountFactory(team=caller.team))

    class Boom(Exception):
        pass

    with (
        django_capture_on_commit_callbacks() as after_commit,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        finish(job)
        assert WebhookDelivery.objects.filter(event__job=job).exists()
        raise Boom
    # Rolled back with the status: no event, no delivery, nothing to publish.
    assert CampaignJob.objects.get(pk=job.pk).status == JobStatus.PENDING
    assert not WebhookEvent.objects.filter(job=job).exists()
    assert after_commit == []

    with django_capture_on_commit_callbacks() as after_commit:
        finish(job)
    assert WebhookDelivery.objects.filter(event__job=job).count() == 1
    assert len(after_commit) == 1  # published only once committed


# --- Retries -----------------------------------------------------------------------------------


def test_a_receiver_that_fails_twice_gets_the_event_once_it_recovers(
    caller, private_allowed, broker_queue
):
    receiver = Receiver(statuses=(500, 503))
    try:
        set_webhook(caller, receiver.url("/flaky"))
        job = submit(caller, AdAccountFactory(team=caller.team))
        finish(job)
        (delivery,) = WebhookDelivery.objects.filter(event__job=job)
        delivery_send(str(delivery.pk))

        for expected_attempts, ceiling in ((1, 10), (2, 20)):
            delivery.refresh_from_db()
            assert (delivery.status, delivery.attempts) == ("PENDING", expected_attempts)
            assert delivery.last_status_code in (500, 503)
            # The first retries come within a minute (full jitter under base * 2^(n-1)).
            wait = (delivery.next_attempt_at - delivery.updated_at).total_seconds()
            assert 0 <= wait <= ceiling
            # Not due yet (unless the jitter drew ~0): the sweep leaves it.
            if wait > 1:
                assert deliveries_sweep() == []
            make_due(delivery)
            assert deliveries_sweep() == [str(delivery.pk)]
            assert run_published(broker_queue) == [str(delivery.pk)]

        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.DELIVERED
        assert delivery.next_attempt_at is None
        attempts = list(delivery.attempt_rows.values_list("number", "succeeded", "status_code"))
        assert attempts == [(1, False, 500), (2, False, 503), (3, True, 200)]
        # At least once, one event: every attempt carried the same body.
        assert len({got.body for got in receiver.received}) == 1
        assert len(receiver.received) == 3
        # Delivered: nothing is due any more.
        make_due(delivery)
        assert deliveries_sweep() == []
    finally:
        receiver.close()


def test_a_delivery_ends_failed_once_its_day_is_over(caller, private_allowed):
    receiver = Receiver(statuses=(500,))
    try:
        set_webhook(caller, receiver.url("/down"))
        job = submit(caller, AdAccountFactory(team=caller.team))
        finish(job)
        (delivery,) = WebhookDelivery.objects.filter(event__job=job)
        WebhookEvent.objects.filter(pk=delivery.event_id).update(
            created_at=timezone.now() - timedelta(hours=24)
        )
        delivery_send(str(delivery.pk))
    finally:
        receiver.close()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.FAILED, None)
    assert delivery.last_error == "HTTP 500 from host 127.0.0.1."


def test_a_receiver_that_is_not_there_is_a_failed_attempt_saying_so(caller, private_allowed):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    set_webhook(caller, f"http://127.0.0.1:{port}/gone")
    job = submit(caller, AdAccountFactory(team=caller.team))
    finish(job)
    (delivery,) = WebhookDelivery.objects.filter(event__job=job)
    delivery_send(str(delivery.pk))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING  # retried later
    (attempt,) = delivery.attempt_rows.all()
    assert (attempt.succeeded, attempt.status_code) == (False, None)
    assert attempt.error == "Could not connect to host 127.0.0.1, or it cut the connection."


def test_backoff_grows_and_is_capped(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    settings.WEBHOOK_RETRY_MAX_SECONDS = 3600
    draws = [retry_delay(attempt) for attempt in range(1, 30) for _ in range(20)]
    assert all(0 <= d <= 3600 for d in draws)
    assert max(retry_delay(1) for _ in range(200)) <= 10
    assert max(retry_delay(20) for _ in range(200)) > 600  # capped, not stuck at the base


def test_two_workers_never_send_one_delivery_at_once(caller, receiver, private_allowed, settings):
    set_webhook(caller, receiver.url("/team"))
    job = submit(caller, AdAccountFactory(team=caller.team))
    finish(job)
    (delivery,) = WebhookDelivery.objects.filter(event__job=job)

    assert delivery_claim(delivery_id=delivery.pk) is not None
    # A second message for it (a duplicate, the sweeper's) finds it held: nothing is sent.
    delivery_send(str(delivery.pk))
    assert receiver.received == []
    assert deliveries_sweep() == []
    # The holder died: once its lease is over the delivery is due again, and sent.
    later = timezone.now() + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS + 1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(published_at=None)
    assert deliveries_sweep(now=later) == [str(delivery.pk)]
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    delivery_send(str(delivery.pk))
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DELIVERED


# --- Address rules at send time ------------------------------------------------------------------


def test_a_private_address_is_refused_at_send_time(caller, receiver, settings):
    settings.MEDIA_FETCH_ALLOW_PRIVATE = True
    url = receiver.url("/team", host="localhost")
    set_webhook(caller, url)
    job = submit(caller, AdAccountFactory(team=caller.team))
    finish(job)
    (delivery,) = WebhookDelivery.objects.filter(event__job=job)

    settings.MEDIA_FETCH_ALLOW_PRIVATE = False
    delivery_send(str(delivery.pk))

    assert receiver.received == []
    delivery.refresh_from_db()
    # The same rule would refuse every retry: the delivery ends at once.
    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.FAILED, None)
    (attempt,) = delivery.attempt_rows.all()
    assert (attempt.succeeded, attempt.status_code) == (False, None)
    assert "Refused, not sent" in attempt.error
    assert "localhost resolves to a private, loopback or reserved address" in attempt.error


def test_a_host_that_resolves_elsewhere_at_send_time_is_refused(caller, receiver, settings):
    """DNS rebinding: public when the URL was accepted, loopback when it is sent to."""
    settings.MEDIA_FETCH_ALLOW_PRIVATE = False
    answers = ["93.184.216.34", "127.0.0.1"]
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host != "hooks.rebind.test":
            return real(host, port, *args, **kwargs)
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 80))]

    url = f"http://hooks.rebind.test:{receiver.port}/team"
    with mock.patch("socket.getaddrinfo", side_effect=getaddrinfo):
        set_webhook(caller, url)  # accepted: the name resolves to a public address
        job = submit(caller, AdAccountFactory(team=caller.team))
        finish(job)
        (delivery,) = WebhookDelivery.objects.filter(event__job=job)
        delivery_send(str(delivery.pk))

    assert receiver.received == []
    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert "hooks.rebind.test resolves to a private" in attempt.error
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.FAILED


# --- Ads and accounts ----------------------------------------------------------------------------


def test_a_disapproved_ad_is_announced_to_the_webhook_and_its_jobs_callback(
    caller, receiver, private_allowed
):
    secret = set_webhook(caller, receiver.url("/team"))
    campaign = make_live_campaign(caller)
    CampaignJob.objects.filter(pk=campaign.job_id).update(callback_url=receiver.url("/job"))
    ad = Ad.objects.get(ad_set__campaign=campaign)

    with transaction.atomic():  # as the sync stores the new status
        Ad.objects.filter(pk=ad.pk).update(
            effective_status="DISAPPROVED", review_feedback={"global": {"BAD": "No."}}
        )
        events.ads_disapproved(ad_ids=[ad.pk])
    for delivery in WebhookDelivery.objects.all():
        delivery_send(str(delivery.pk))

    assert sorted(got.path for got in receiver.received) == ["/job", "/team"]
    shown = caller.client.get(f"/api/v1/ads/{ad.pk}").json()
    for got in receiver.received:
        assert verify(secret, got.body, got.headers["Mojito-Signature"])
        assert got.json["type"] == "ad.disapproved"
        assert got.json["data"] == shown
        assert got.json["data"]["effective_status"] == "DISAPPROVED"


def test_an_account_that_needs_reauth_is_announced_without_its_credentials(
    caller, receiver, private_allowed
):
    set_webhook(caller, receiver.url("/team"))
    account = AdAccountFactory(team=caller.team, credentials={"access_token": "EAAB-canary-77"})

    assert ad_account_require_reauth(account_id=account.pk, credentials_version=1)
    (delivery,) = WebhookDelivery.objects.all()
    delivery_send(str(delivery.pk))

    (got,) = receiver.received
    assert got.json["type"] == "ad_account.requires_reauth"
    assert got.json["data"] == caller.client.get(f"/api/v1/ad_accounts/{account.pk}").json()
    assert got.json["data"]["status"] == "REQUIRES_REAUTH"
    assert b"EAAB-canary-77" not in got.body


# --- The secret stays secret -------------------------------------------------------------------


def test_the_secret_is_in_no_log_line_row_or_queue_message(
    caller, private_allowed, broker_queue, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level("DEBUG")
    receiver = Receiver(statuses=(500,))
    try:
        secret = set_webhook(caller, receiver.url("/team"))
        job = submit(caller, AdAccountFactory(team=caller.team), callback_url=receiver.url("/cb"))
        with django_capture_on_commit_callbacks(execute=True):
            finish(job)
        run_published(broker_queue)
        for delivery in WebhookDelivery.objects.all():
            make_due(delivery)
        with django_capture_on_commit_callbacks(execute=True):
            deliveries_sweep()
        raw_messages = broker_queue.raw()
        run_published(broker_queue)
        rotated = caller.client.post(f"/api/v1/teams/{caller.team.pk}/webhook_secret").json()
    finally:
        receiver.close()

    assert len(receiver.received) == 3  # two targets, one of them failed once
    rows = json.dumps(
        [list(model.objects.values()) for model in (WebhookEvent, WebhookDelivery, WebhookAttempt)],
        default=str,
    )
    for value in (secret, rotated["webhook_secret"]):
        assert value not in caplog.text
        assert value not in rows
        assert value.encode() not in raw_messages
        assert all(value.encode() not in got.body for got in receiver.received)
