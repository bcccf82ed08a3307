"""The audit trail's one table. Rows are written once and never changed (`AppendOnlyError`)."""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

SYSTEM_ACTOR = "system"


class AppendOnlyError(Exception):
    """The audit trail is append-only: an event is never changed or deleted."""


def _refuse(what: str) -> NoReturn:
    raise AppendOnlyError(f"Audit events are append-only: {what} is refused.")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    # update_or_create() of an existing event ends in its save(), which refuses too.
    def update(self, **kwargs: Any) -> NoReturn:
        _refuse("update")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        _refuse("update")

    def delete(self) -> NoReturn:
        _refuse("delete")


class AuditEvent(models.Model):
    """Who (`actor`) did what (`action`) to which object, and what it changed (`changes`:
    `{"<field>": {"before": ..., "after": ...}}`, by API field name, never a credential).

    The foreign keys are for filters and tenancy only, and hold no database constraint and
    no ORM cascade (DO_NOTHING, db_constraint=False): deleting a user, team or ad account must
    neither be blocked by its events nor change them. SET_NULL would be an UPDATE of the
    events, which the append-only trigger refuses, so the delete would fail; a constraint
    would refuse the delete outright. The ids stay as they were, dangling once their row is
    gone (ad accounts are only soft-deleted anyway), and the `actor` text keeps the user's
    name. Read `user_id`, `team_id`, `ad_account_id`, not the relations, for that reason.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Set in Python when the event is made, inside the transaction of the change it records.
    at = models.DateTimeField(default=timezone.now)
    # "user:<username>" or "system": the text outlives the user.
    actor = models.CharField(max_length=160)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=20)
    # Ours (the row's UUID), not the platform's ID.
    object_id = models.UUIDField()
    ad_account = models.ForeignKey(
        "adaccounts.AdAccount",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        "adaccounts.Team",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        db_table = "audit_events"
        ordering = ["-at", "-id"]
        indexes = [
            # The API's filters, each newest first; the plain list reads by team. (No index of
            # the foreign keys alone: these lead with them.)
            models.Index(fields=["team", "-at"], name="audit_team_at_idx"),
            models.Index(fields=["ad_account", "-at"], name="audit_account_at_idx"),
            models.Index(fields=["object_id", "-at"], name="audit_object_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse("changing a stored event")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("delete")
