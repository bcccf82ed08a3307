from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from adaccounts.fields import EncryptedJSONField, EncryptedSecretField
from platforms.base import PlatformType


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Team(TimeStampedModel):
    """A group of users that shares ad accounts and everything created under them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=150, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    # Where the team's webhook events go (API.md "Notifications"); "" for nowhere. Checked
    # against the address rules of media URLs when set, and again at each send.
    webhook_url = models.URLField(max_length=2048, blank=True, default="")
    # Signs every delivery (webhook and callbacks). Never rendered: the API shows it once, when
    # it is made for a PATCH that sets a webhook_url or by POST .../webhook_secret; everything
    # else (API, admin, logs, delivery rows) sees only `has_webhook_secret`. None until made.
    webhook_secret = EncryptedSecretField(null=True, blank=True, editable=False)
    # When the API showed the current secret (None: never shown, e.g. made for a callback).
    webhook_secret_shown_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "teams"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_webhook_secret(self) -> bool:
        return self.webhook_secret is not None


class AdAccountStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    INACTIVE = "INACTIVE", "Inactive"
    REQUIRES_REAUTH = "REQUIRES_REAUTH", "Requires re-authentication"
    SUSPENDED = "SUSPENDED", "Suspended"


class AdAccountQuerySet(models.QuerySet["AdAccount"]):
    def live(self) -> AdAccountQuerySet:
        """Accounts that were not soft-deleted."""
        return self.filter(deleted_at__isnull=True)

    def active(self) -> AdAccountQuerySet:
        """Live accounts whose jobs may run: ACTIVE (the others' jobs wait)."""
        return self.live().filter(status=AdAccountStatus.ACTIVE)


class AdAccount(TimeStampedModel):
    """An advertiser's account on one platform, with its encrypted credentials."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="ad_accounts")
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_ad_accounts",
    )
    platform_type = models.CharField(max_length=20, choices=PlatformType.choices)
    platform_account_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    # Never rendered anywhere: serializers, admin and logs only ever see `has_credentials`.
    credentials = EncryptedJSONField(default=dict, blank=True, editable=False)
    # Bumped (F() + 1, in the same UPDATE) whenever credentials are set, never by a key
    # rotation: a job run remembers it, so that its dead-token answer marks the account
    # REQUIRES_REAUTH only if the account still holds the credentials that run used.
    credentials_version = models.PositiveIntegerField(default=1, editable=False)
    status = models.CharField(
        max_length=20, choices=AdAccountStatus.choices, default=AdAccountStatus.ACTIVE
    )
    additional_config = models.JSONField(default=dict, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = AdAccountQuerySet.as_manager()

    class Meta:
        db_table = "ad_accounts"
        ordering = ["-created_at"]
        constraints = [
            # Soft-deleted rows keep their IDs, so a deleted account can be provisioned again.
            models.UniqueConstraint(
                fields=["platform_type", "platform_account_id"],
                condition=Q(deleted_at__isnull=True),
                name="uniq_live_ad_account_per_platform",
            ),
        ]
        indexes = [
            models.Index(
                fields=["team", "platform_type", "status"], name="ad_acct_team_filter_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.platform_account_id})"

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def soft_delete(self) -> bool:
        """Mark the row deleted. False if it already was (e.g. a concurrent delete won)."""
        now = timezone.now()
        # Conditional, so that of two concurrent deletes only one is the delete.
        changed = AdAccount.objects.filter(pk=self.pk, deleted_at__isnull=True).update(
            deleted_at=now, updated_at=now
        )
        if changed:
            self.deleted_at, self.updated_at = now, now
        return bool(changed)
