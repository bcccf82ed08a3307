"""Sending deliveries: claim, POST, record the attempt, and decide what comes next.

At least once: a delivery is PENDING until an answer is a 2xx (DELIVERED) or its time is up
(FAILED, `WEBHOOK_RETRY_FOR_SECONDS` after its event). Retries are driven by the database:
a failed attempt sets `next_attempt_at` (exponential backoff, full jitter) and the beat sweep
publishes what is due; no Celery countdown is ever used. A claim (conditional UPDATE with a
lease) keeps two workers from sending one delivery at once; a worker that dies mid-send lets
its lease expire, and the delivery is due again.

Every send checks the address again at connect time (`mojito.pinning.PinnedAddressAdapter`:
resolve, check, pin), whatever the accept-time check saw, under every policy (link-local and
cloud-metadata addresses are refused even when `MEDIA_FETCH_ALLOW_PRIVATE` is on). A refused
address is a failed attempt that says so, and ends the delivery: the same rule would refuse
every retry.
Redirects are not followed (a 3xx is a failed attempt): the receiver's URL is the one given.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from mojito.addresses import (
    ALLOWED_SCHEMES,
    AddressError,
    AddressPolicy,
    InvalidIPAddress,
    RefusedAddress,
    address_policy,
    host_label,
    parse_http_url,
    private_address_message,
)
from mojito.pinning import adapter_for
from notifications.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEvent
from notifications.services import team_webhook_secret_for_send
from notifications.signing import SIGNATURE_HEADER, signature_header

logger = logging.getLogger(__name__)

USER_AGENT = "mojito-webhooks/1.0 (+https://github.com/mojito)"
# What an error text may hold at most (ours; never the receiver's body).
ERROR_MAX_CHARS = 500


def event_body(event: WebhookEvent) -> bytes:
    """The JSON every target of the event receives, byte for byte the same on every attempt."""
    document = {
        "id": str(event.pk),
        "type": event.type,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def retry_delay(attempt: int) -> float:
    """Seconds before the attempt after `attempt` (1-based): full jitter, uniform in
    [0, min(max, base * 2^(attempt-1))]. With the defaults the first retries come within a
    minute and later ones at most an hour apart."""
    ceiling = min(
        settings.WEBHOOK_RETRY_MAX_SECONDS,
        settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0),
    )
    return random.uniform(0, ceiling)  # noqa: S311 (jitter, not a secret)


# --- Claim -----------------------------------------------------------------------------------


def _due(now: datetime) -> Q:
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) & (
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    )


def delivery_claim(*, delivery_id: Any, now: datetime | None = None) -> str | None:
    """Take the delivery for one attempt if it is due and nobody holds it: one conditional
    UPDATE, so of two workers with the same message only one sends. Returns the claim's token
    (None: not due, held, or finished)."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id)
        .filter(_due(now))
        .update(
            claimed_by=token,
            lease_expires_at=now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    return token if claimed else None


# --- Transport -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    status_code: int | None = None
    error: str = ""
    # False: trying again cannot help (an address the rules refuse).
    retryable: bool = True


def _session(*, policy: AddressPolicy) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no HTTP_PROXY routing around the address filter, no .netrc
    for scheme in ALLOWED_SCHEMES:
        session.mount(f"{scheme}://", adapter_for(scheme, policy=policy))
    return session


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST `body` to `url` under the address rules, within the timeouts. Never raises for
    anything the network or the receiver does; errors name the host, never the whole URL
    (a callback's query string may carry the client's token)."""
    try:
        hostname, _ = parse_http_url(url)
    except AddressError as exc:
        return Outcome(False, error=exc.message, retryable=False)
    host = host_label(hostname)
    session = _session(policy=address_policy())
    try:
        response = session.post(
            url,
            data=body,
            headers=headers,
            allow_redirects=False,
            stream=True,  # the status is the answer; the body is never read
            timeout=(settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS, settings.WEBHOOK_TIMEOUT_SECONDS),
        )
    except InvalidIPAddress as exc:
        if isinstance(exc, RefusedAddress):
            message = exc.message(host)
        else:
            message = private_address_message(host)
        return Outcome(False, error=f"Refused, not sent: {message}", retryable=False)
    except socket.gaierror:
        return Outcome(False, error=f"Host {host} could not be resolved.")
    except requests.Timeout:
        return Outcome(False, error=f"Host {host} did not answer in time.")
    except requests.exceptions.SSLError:
        return Outcome(False, error=f"TLS handshake with host {host} failed.")
    except requests.ConnectionError:
        return Outcome(False, error=f"Could not connect to host {host}, or it cut the connection.")
    except (requests.RequestException, OSError, ValueError):
        return Outcome(False, error=f"The request to host {host} failed.")
    finally:
        session.close()
    with response:
        code = response.status_code
    if 200 <= code < 300:
        return Outcome(True, status_code=code)
    if 300 <= code < 400:
        return Outcome(False, code, f"HTTP {code} from host {host}: redirects are not followed.")
    return Outcome(False, code, f"HTTP {code} from host {host}.")


# --- One attempt -----------------------------------------------------------------------------


def delivery_send(*, delivery_id: Any, now: datetime | None = None) -> str | None:
    """Claim the delivery and make one attempt; record it and what comes next. Returns the
    delivery's status afterwards, or None when it was not ours to send (not due, held by
    another worker, already finished)."""
    now = now or timezone.now()
    token = delivery_claim(delivery_id=delivery_id, now=now)
    if token is None:
        return None
    delivery = WebhookDelivery.objects.select_related("event").get(pk=delivery_id)
    event = delivery.event
    body = event_body(event)
    secret = team_webhook_secret_for_send(team_id=event.team_id)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(secret, body),
        "Mojito-Event-Id": str(event.pk),
        "Mojito-Event-Type": event.type,
        "Mojito-Delivery-Id": str(delivery.pk),
    }
    started = time.monotonic()
    outcome = post(delivery.url, body, headers)
    duration_ms = round((time.monotonic() - started) * 1000)
    return _record(delivery, event, token, outcome, at=now, duration_ms=duration_ms)


def _record(
    delivery: WebhookDelivery,
    event: WebhookEvent,
    token: str,
    outcome: Outcome,
    *,
    at: datetime,
    duration_ms: int,
) -> str:
    finished = at + timedelta(milliseconds=duration_ms)
    error = outcome.error[:ERROR_MAX_CHARS]
    fields: dict[str, Any] = {
        "last_status_code": outcome.status_code,
        "last_error": error,
        "claimed_by": "",
        "lease_expires_at": None,
        "published_at": None,
        "updated_at": finished,
    }
    deadline = event.created_at + timedelta(seconds=settings.WEBHOOK_RETRY_FOR_SECONDS)
    if outcome.succeeded:
        status = DeliveryStatus.DELIVERED
        fields.update(delivered_at=finished, next_attempt_at=None)
    else:
        next_at = finished + timedelta(seconds=retry_delay(delivery.attempts))
        if outcome.retryable and next_at <= deadline:
            status = DeliveryStatus.PENDING
            fields["next_attempt_at"] = next_at
        else:
            status = DeliveryStatus.FAILED
            fields["next_attempt_at"] = None
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            at=at,
            succeeded=outcome.succeeded,
            status_code=outcome.status_code,
            error=error,
            duration_ms=duration_ms,
        )
        # Only while the claim is still ours: a lease that expired mid-send may have let
        # another worker send (and settle) it meanwhile; its word stands.
        kept = (
            WebhookDelivery.objects.filter(pk=delivery.pk, claimed_by=token)
            .exclude(status=DeliveryStatus.DELIVERED)
            .update(status=status, **fields)
        )
    log = logger.info if outcome.succeeded else logger.warning
    log(
        "Delivery %s of event %s (%s) attempt %d: %s%s",
        delivery.pk,
        event.pk,
        event.type,
        delivery.attempts,
        "delivered" if outcome.succeeded else error,
        "" if kept else " (its claim had lapsed; outcome not applied)",
    )
    return (
        status
        if kept
        else WebhookDelivery.objects.values_list("status", flat=True).get(pk=delivery.pk)
    )


# --- The sweep -------------------------------------------------------------------------------


def deliveries_sweep(*, now: datetime | None = None) -> list[str]:
    """Beat: publish the deliveries that are due and not published lately (a retry whose time
    came, a worker that died mid-send, a message lost or never sent). Returns their ids."""
    from notifications.outbox import deliveries_publish

    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.WEBHOOK_REPUBLISH_AFTER_SECONDS)
    due = list(
        WebhookDelivery.objects.filter(_due(now))
        .filter(Q(published_at__isnull=True) | Q(published_at__lt=stale))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: settings.WEBHOOK_SWEEP_BATCH_SIZE]
    )
    if not due:
        return []
    # Marked first: a worker may take the message before this UPDATE would run otherwise.
    WebhookDelivery.objects.filter(pk__in=due).update(published_at=now)
    return deliveries_publish(delivery_ids=due)


def delivery_send_now(*, delivery_id: Any) -> bool:
    """An operator's "send now" (admin): a PENDING or FAILED delivery is due at once (a FAILED
    one gets one more attempt, and its retries while its event's day lasts). Returns whether
    it was queued."""
    now = timezone.now()
    changed = (
        WebhookDelivery.objects.filter(pk=delivery_id)
        .exclude(status=DeliveryStatus.DELIVERED)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(status=DeliveryStatus.PENDING, next_attempt_at=now, published_at=now)
    )
    if changed:
        from notifications.outbox import deliveries_publish

        transaction.on_commit(lambda: deliveries_publish(delivery_ids=[delivery_id]))
    return bool(changed)
