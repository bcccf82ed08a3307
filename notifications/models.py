"""The outbox of webhook events: one event, one delivery per target URL, one row per attempt.

An event and its deliveries are written in the transaction of the change they announce (a job's
final status, an ad's disapproval, an account's lost token), so they commit with it or not at
all; the deliveries are sent after commit and retried from the database until one answer is a
2xx or their day is over (`notifications.delivery`).
"""

from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone


class EventType(models.TextChoices):
    JOB_SUCCEEDED = "job.succeeded", "Job succeeded"
    JOB_FAILED = "job.failed", "Job failed"
    JOB_PARTIAL_SUCCESS = "job.partial_success", "Job partially succeeded"
    AD_DISAPPROVED = "ad.disapproved", "Ad disapproved"
    AD_ACCOUNT_REQUIRES_REAUTH = "ad_account.requires_reauth", "Ad account requires re-auth"


class DeliveryTarget(models.TextChoices):
    WEBHOOK = "webhook", "Team webhook"
    CALLBACK = "callback", "Request callback"


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"  # waiting for its first or next attempt (or in one)
    DELIVERED = "DELIVERED", "Delivered"
    FAILED = "FAILED", "Failed"


class WebhookEvent(models.Model):
    """What happened, as every target receives it: `{"id", "type", "created_at", "data"}`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    created_at = models.DateTimeField(default=timezone.now)
    team = models.ForeignKey("adaccounts.Team", on_delete=models.CASCADE, related_name="+")
    # What the event is about (for filters): the job, the ad's account, the account.
    job = models.ForeignKey(
        "campaigns.CampaignJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="webhook_events",
    )
    ad_account = models.ForeignKey(
        "adaccounts.AdAccount",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    object_id = models.UUIDField(help_text="Ours: the job's, the ad's or the account's id.")
    # The object as the API showed it when the event happened (never a secret).
    data = models.JSONField(encoder=DjangoJSONEncoder)

    class Meta:
        db_table = "webhook_events"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.object_id}"


class WebhookDelivery(models.Model):
    """One event on its way to one URL (the team's webhook, or a request's callback)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    target = models.CharField(max_length=10, choices=DeliveryTarget.choices)
    url = models.URLField(max_length=2048)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # When the next attempt is due (PENDING only); the sweeper publishes what is due.
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # When the delivery id was last handed to the broker (None: not since its last attempt).
    published_at = models.DateTimeField(null=True, blank=True)
    # The claim of the attempt in flight: no second worker sends it until the lease expires.
    claimed_by = models.CharField(max_length=64, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The last attempt's outcome, for lists (each attempt is a WebhookAttempt).
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "webhook_deliveries"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # The sweeper's question: which PENDING deliveries are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="PENDING"),
                name="webhook_delivery_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} → {self.target} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery (or one refused before it left): when, what came back, how long."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_rows"
    )
    number = models.PositiveIntegerField()
    at = models.DateTimeField()
    succeeded = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # Ours, never the receiver's body or a library's text (which would quote the whole URL).
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField()

    class Meta:
        db_table = "webhook_attempts"
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}"
