"""`GET /api/v1/audit_events` and `GET /api/v1/audit_events/{id}`: the caller's teams' events,
newest first. Others' events answer 404, as missing ones do."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, viewsets

from audit.models import AuditEvent
from audit.selectors import audit_event_list_for_user
from audit.serializers import AuditEventSerializer

# A query string's unescaped "+" of a UTC offset arrives as a space: put it back.
_OFFSET_AS_SPACE = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


class DateOrDateTimeField(forms.Field):
    """An ISO 8601 date (its first instant, UTC) or date-time (UTC when it names no offset)."""

    default_error_messages = {
        "invalid": "Enter an ISO 8601 date (2026-01-31) or date-time (2026-01-31T12:00:00Z)."
    }

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        text = _OFFSET_AS_SPACE.sub(r"\1+\2", str(value).strip())
        try:
            moment = parse_datetime(text)
            if moment is None:
                day = parse_date(text)
                moment = datetime.combine(day, time.min) if day else None
            if moment is not None and timezone.is_naive(moment):
                moment = timezone.make_aware(moment, UTC)
            if moment is not None:
                # Far-off offsets of year 1 or 9999 overflow here, not in the query.
                moment.astimezone(UTC)
        except (ValueError, OverflowError):
            moment = None
        if moment is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return moment


@extend_schema_field(OpenApiTypes.STR)
class SinceFilter(filters.Filter):
    field_class = DateOrDateTimeField


class AuditEventFilter(filters.FilterSet):
    ad_account_id = filters.UUIDFilter(field_name="ad_account_id")
    object_id = filters.UUIDFilter(field_name="object_id")
    since = SinceFilter(
        field_name="at",
        lookup_expr="gte",
        help_text="Events at or after: an ISO 8601 date or date-time (UTC unless it says).",
    )

    class Meta:
        model = AuditEvent
        fields = ["ad_account_id", "object_id", "since"]


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Who changed what, newest first: the audit events of the caller's teams (an ad account,
    a job or a live object; a credential only ever as changed). Read-only."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter

    queryset = AuditEvent.objects.none()  # for the schema generator; requests use get_queryset()

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return audit_event_list_for_user(user=self.request.user).order_by("-at", "-id")
