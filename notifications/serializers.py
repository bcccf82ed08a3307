"""Webhook API shapes: deliveries with their attempts (output), and the documented
`callback_url` of the requests that take one."""

from __future__ import annotations

from rest_framework import serializers

from notifications.models import DeliveryStatus, DeliveryTarget, EventType
from notifications.targets import URL_MAX_LENGTH

CALLBACK_URL_HELP = (
    "Optional: a URL that receives a signed POST of this job's final state (job.succeeded, "
    "job.failed, job.partial_success) and of the ad.disapproved events of the ads it "
    "creates, besides the team's webhook. http(s), public addresses only (the rules of media "
    "URLs). Signed with the team's webhook secret (see POST /api/v1/teams/{id}/webhook_secret)."
)


def callback_url_field() -> serializers.Field:
    """`callback_url` as the document shows it on a request body (the services check it with
    `notifications.targets.callback_url_clean`)."""
    return serializers.URLField(
        max_length=URL_MAX_LENGTH,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=CALLBACK_URL_HELP,
    )


class WebhookAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField(read_only=True)
    at = serializers.DateTimeField(read_only=True)
    succeeded = serializers.BooleanField(read_only=True)
    status_code = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The receiver's HTTP status; null: no answer."
    )
    error = serializers.CharField(read_only=True, help_text='Why it failed ("" when it did not).')
    duration_ms = serializers.IntegerField(read_only=True)


class WebhookDeliverySerializer(serializers.Serializer):
    """One event on its way to one URL, with every attempt so far."""

    id = serializers.UUIDField(read_only=True)
    event_id = serializers.UUIDField(read_only=True, help_text="The body's id (every target's).")
    type = serializers.ChoiceField(choices=EventType.choices, source="event.type", read_only=True)
    target = serializers.ChoiceField(choices=DeliveryTarget.choices, read_only=True)
    url = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    attempt_count = serializers.IntegerField(source="attempts", read_only=True)
    next_attempt_at = serializers.DateTimeField(read_only=True, allow_null=True)
    delivered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_status_code = serializers.IntegerField(read_only=True, allow_null=True)
    last_error = serializers.CharField(read_only=True)
    team_id = serializers.UUIDField(source="event.team_id", read_only=True)
    job_id = serializers.UUIDField(source="event.job_id", read_only=True, allow_null=True)
    ad_account_id = serializers.UUIDField(
        source="event.ad_account_id", read_only=True, allow_null=True
    )
    object_id = serializers.UUIDField(source="event.object_id", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    attempts = WebhookAttemptSerializer(source="attempt_rows", many=True, read_only=True)


class WebhookEventSerializer(serializers.Serializer):
    """The body every target receives: `{"id", "type", "created_at", "data"}`."""

    id = serializers.UUIDField(read_only=True)
    type = serializers.ChoiceField(choices=EventType.choices, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    data = serializers.DictField(
        read_only=True,
        help_text="The job as GET /api/v1/jobs/{id} shows it, the ad as GET /api/v1/ads/{id} "
        "does, or the ad account.",
    )


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    event = WebhookEventSerializer(read_only=True)
