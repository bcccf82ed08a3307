"""Reads of deliveries, scoped to the caller's teams (superusers: all)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from adaccounts.selectors import team_list_for_user
from notifications.models import WebhookAttempt, WebhookDelivery


def delivery_list_for_user(
    *, user: AbstractBaseUser | AnonymousUser, with_data: bool = False
) -> QuerySet[WebhookDelivery]:
    """The deliveries of the user's teams, newest first, each with its event and attempts
    (the event's `data`, a whole job tree, only `with_data`)."""
    deliveries = WebhookDelivery.objects.select_related("event").prefetch_related(
        Prefetch("attempt_rows", queryset=WebhookAttempt.objects.order_by("number"))
    )
    if not with_data:
        deliveries = deliveries.defer("event__data")
    if not getattr(user, "is_superuser", False):
        deliveries = deliveries.filter(event__team__in=team_list_for_user(user=user))
    return deliveries.order_by("-created_at", "-id")
