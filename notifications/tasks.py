"""Celery entry points. Thin: they receive delivery ids only and call the delivery service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="notifications.tasks.delivery_send", ignore_result=True)
def delivery_send(delivery_id: str) -> None:
    from notifications.delivery import delivery_send as send

    send(delivery_id=delivery_id)


@shared_task(name="notifications.tasks.deliveries_sweep", ignore_result=True)
def deliveries_sweep() -> None:
    """Beat: publish the deliveries whose (next) attempt is due."""
    from notifications.delivery import deliveries_sweep as sweep

    sweep()
