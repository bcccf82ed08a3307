"""Reads of a campaign's daily delivery figures (API.md "Sync, insights and notifications"):
the query's rules, the selector and the row's shape, for the API and the admin.

The rows are what the last sync stored (`InsightDay`), one per object and day, the day in the
ad account's time zone as the platform reports it; money in the currency's minor unit.
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from django.utils import timezone
from rest_framework import serializers

from campaigns.models import InsightDay, ObjectType

LEVELS = (ObjectType.CAMPAIGN, ObjectType.AD_SET, ObjectType.AD)
DEFAULT_DAYS = 30
# The longest range one request may ask: a year of days (leap years included).
MAX_DAYS = 366
COLUMNS = (
    "date",
    "level",
    "object_id",
    "platform_id",
    "spend",
    "impressions",
    "reach",
    "clicks",
    "ctr",
    "cpc",
    "cpm",
    "currency",
)


class InsightsQuerySerializer(serializers.Serializer):
    """`?since=&until=&level=`: by default the campaign's figures of the last 30 days."""

    since = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text=f"First day (YYYY-MM-DD); default: {DEFAULT_DAYS - 1} days before `until`.",
    )
    until = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="Last day (YYYY-MM-DD), included; default: today.",
    )
    level = serializers.ChoiceField(
        choices=[(level.value, level.label) for level in LEVELS],
        default=ObjectType.CAMPAIGN.value,
        help_text="Whose figures: the campaign's, each ad set's or each ad's.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        until = attrs.get("until") or timezone.localdate()
        since = attrs.get("since") or until - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            raise serializers.ValidationError({"since": ["since must not be after until."]})
        if (until - since).days + 1 > MAX_DAYS:
            raise serializers.ValidationError(
                {"since": [f"At most {MAX_DAYS} days at once (since to until, both included)."]}
            )
        return {**attrs, "since": since, "until": until}


class InsightRowSerializer(serializers.Serializer):
    """One object's figures of one day (for the schema; rows are built by `insight_rows`)."""

    date = serializers.DateField()
    level = serializers.ChoiceField(choices=[(level.value, level.label) for level in LEVELS])
    object_id = serializers.UUIDField(help_text="Ours: the campaign's, ad set's or ad's id.")
    platform_id = serializers.CharField(help_text="The platform's id of the object.")
    spend = serializers.IntegerField(help_text="In the currency's minor unit (cents for USD).")
    impressions = serializers.IntegerField()
    reach = serializers.IntegerField()
    clicks = serializers.IntegerField()
    ctr = serializers.CharField(help_text="Click-through rate in percent, as the platform sent it.")
    cpc = serializers.IntegerField(
        allow_null=True, help_text="Cost per click, minor unit; null without clicks."
    )
    cpm = serializers.IntegerField(
        allow_null=True, help_text="Cost per 1,000 impressions, minor unit; null without any."
    )
    currency = serializers.CharField(help_text="The ad account's currency (ISO 4217).")


class InsightsResponseSerializer(serializers.Serializer):
    results = InsightRowSerializer(many=True)


def insight_rows(
    *, campaign_id: UUID, level: str, since: datetime.date, until: datetime.date
) -> list[dict[str, Any]]:
    """The campaign's figures at `level` from `since` to `until`, ordered by day then object:
    one query."""
    rows = (
        InsightDay.objects.filter(
            campaign_id=campaign_id, object_type=level, date__gte=since, date__lte=until
        )
        .order_by("date", "platform_id", "object_id")
        .values("object_type", *(c for c in COLUMNS if c != "level"))
    )
    found = []
    for row in rows:
        row["level"] = row.pop("object_type")
        row["date"] = row["date"].isoformat()
        row["object_id"] = str(row["object_id"])
        found.append({name: row[name] for name in COLUMNS})
    return found


def spend_by_day(*, object_id: UUID, days: int) -> list[tuple[datetime.date, int, str]]:
    """(day, spend, currency) of one object's last `days` days with figures (the admin's
    chart): one query."""
    since = timezone.localdate() - datetime.timedelta(days=days - 1)
    return list(
        InsightDay.objects.filter(object_id=object_id, date__gte=since)
        .order_by("date")
        .values_list("date", "spend", "currency")
    )
