"""Reads of the audit trail, scoped to what a user may see: their teams' events."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from adaccounts.selectors import team_list_member_of
from audit.models import AuditEvent


def audit_event_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[AuditEvent]:
    """Events whose team is one of the user's; every event for a superuser (events of no
    team, and of teams since deleted, included)."""
    events = AuditEvent.objects.all()
    if not getattr(user, "is_superuser", False):
        events = events.filter(team_id__in=team_list_member_of(user=user).values("id"))
    return events


def audit_event_list_for_objects(*, object_ids: list) -> QuerySet[AuditEvent]:
    """The events of these objects, newest first (an admin page's recent changes)."""
    return AuditEvent.objects.filter(object_id__in=object_ids).order_by("-at", "-id")
