"""Writing events into the outbox, and handing their deliveries to the broker after commit.

`event_record` is called inside the transaction of the change the event announces: the event
and its deliveries commit with the change or not at all. Only delivery ids reach the broker,
after commit; a lost message (or a broker down at that moment) is made good by the sweeper,
which publishes every due delivery that has not been published lately.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from notifications.models import DeliveryTarget, WebhookDelivery, WebhookEvent

logger = logging.getLogger(__name__)


def event_targets(*, webhook_url: str, callback_url: str = "") -> list[tuple[str, str]]:
    """(target, url) of an event: the team's webhook, and the request's callback when it has
    one (once, if both are the same URL)."""
    targets = []
    if webhook_url:
        targets.append((DeliveryTarget.WEBHOOK, webhook_url))
    if callback_url and callback_url != webhook_url:
        targets.append((DeliveryTarget.CALLBACK, callback_url))
    return targets


def event_record(
    *,
    type: str,
    team_id: Any,
    object_id: Any,
    data: dict[str, Any],
    targets: Iterable[tuple[str, str]],
    job_id: Any = None,
    ad_account_id: Any = None,
) -> WebhookEvent | None:
    """Store the event and one PENDING delivery per target, in the caller's transaction, and
    publish the deliveries once it commits. None (nothing stored) when there is no target."""
    targets = list(targets)
    if not targets:
        return None
    now = timezone.now()
    event = WebhookEvent(
        type=type,
        created_at=now,
        team_id=team_id,
        job_id=job_id,
        ad_account_id=ad_account_id,
        object_id=object_id,
        data=data,
    )
    deliveries = [
        WebhookDelivery(
            event=event,
            target=target,
            url=url,
            next_attempt_at=now,
            # Set now rather than by an UPDATE after publishing; a failed publish clears it.
            published_at=now,
            created_at=now,
        )
        for target, url in targets
    ]
    # savepoint=False: inside the caller's transaction this adds nothing of its own (a failure
    # fails the change, as it must); called outside one, it is one.
    with transaction.atomic(savepoint=False):
        event.save(force_insert=True)
        WebhookDelivery.objects.bulk_create(deliveries)
        ids = [delivery.pk for delivery in deliveries]
        transaction.on_commit(lambda: deliveries_publish(delivery_ids=ids))
    logger.info("Event %s %s recorded for %d target(s)", event.pk, type, len(deliveries))
    return event


def deliveries_publish(*, delivery_ids: Iterable[Any]) -> list[str]:
    """Hand each delivery id (only the id) to the broker; those that could not be published
    get no `published_at`, so the next sweep publishes them. Returns the published ids."""
    from notifications.tasks import delivery_send

    ids = [str(delivery_id) for delivery_id in delivery_ids]
    published: list[str] = []
    for delivery_id in ids:
        try:
            # retry=False: fail within the broker connection timeout instead of blocking.
            delivery_send.apply_async(args=[delivery_id], retry=False)
        except Exception:
            logger.warning(
                "Could not publish delivery %s; the sweeper will retry", delivery_id, exc_info=True
            )
            # The broker is down: the rest would fail too; the sweeper publishes them all.
            unpublished = ids[len(published) :]
            WebhookDelivery.objects.filter(pk__in=unpublished).update(published_at=None)
            break
        published.append(delivery_id)
    return published
