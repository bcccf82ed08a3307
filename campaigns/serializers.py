"""Job API shapes (output only: submissions are validated by the platform's validator).

Plain serializers with their fields spelled out, not ModelSerializers: a job answer nests four
levels and is rendered on every submission, and ModelSerializer rebuilds its fields from the
model's metadata each time it is instantiated.
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.utils.serializer_helpers import ReturnDict

from adaccounts.serializers import PlatformErrorField
from campaigns.models import CampaignJob, JobKind, JobStatus, ObjectType
from mojito.api import shared_serializer
from platforms.base import PlatformType


class CreativeTreeSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    platform_id = serializers.CharField(read_only=True, allow_null=True)
    is_existing = serializers.BooleanField(read_only=True)


class _PlannedObjectSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    platform_id = serializers.CharField(read_only=True, allow_null=True)


class AdTreeSerializer(_PlannedObjectSerializer):
    creative = CreativeTreeSerializer(read_only=True)


class AdSetTreeSerializer(_PlannedObjectSerializer):
    ads = AdTreeSerializer(many=True, read_only=True)


class CampaignTreeSerializer(_PlannedObjectSerializer):
    ad_sets = AdSetTreeSerializer(many=True, read_only=True)


class CampaignSummarySerializer(_PlannedObjectSerializer):
    pass


class _BlankAsNullChoiceField(serializers.ChoiceField):
    """`object_type` is "" on a submission's job: null in the API."""

    def to_representation(self, value: str) -> str | None:
        return super().to_representation(value) or None


class JobSerializer(serializers.Serializer):
    """A job with its whole campaign tree (detail, submission, retry, cancel).

    `campaign` is the campaign the job created or imported; jobs that work on a live object
    (UPDATE, ARCHIVE, additions, an IMPORT not yet done) have none and name the object in
    `object_type` / `object_id` instead.
    """

    id = serializers.UUIDField(read_only=True)
    kind = serializers.ChoiceField(choices=JobKind.choices, read_only=True)
    object_type = _BlankAsNullChoiceField(
        choices=ObjectType.choices, read_only=True, allow_null=True
    )
    object_id = serializers.UUIDField(read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=JobStatus.choices, read_only=True)
    platform_type = serializers.ChoiceField(choices=PlatformType.choices, read_only=True)
    ad_account_id = serializers.UUIDField(read_only=True)
    attempts = serializers.IntegerField(source="attempts_shown", read_only=True)
    next_attempt_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True, allow_null=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    platform_campaign_id = serializers.CharField(read_only=True, allow_null=True)
    campaign = CampaignTreeSerializer(read_only=True, allow_null=True)
    error = PlatformErrorField(read_only=True, allow_null=True)


class JobListSerializer(JobSerializer):
    """List rows carry the campaign without its tree: a page of 50 jobs stays small."""

    campaign = CampaignSummarySerializer(read_only=True, allow_null=True)


class ValidationResultSerializer(serializers.Serializer):
    """The answer of `?validate_only=true` to a valid body."""

    valid = serializers.BooleanField(read_only=True)


def job_data(job: CampaignJob) -> ReturnDict:
    """`JobSerializer(job).data`, rendered by the process's shared field tree: a new
    JobSerializer would deep-copy its nested fields first, which cost as much as the rendering.
    """
    data = shared_serializer(JobSerializer).to_representation(job)
    # Carry a serializer of this job, as `.data` does: the browsable API reads it (and its
    # instance) off the data. Creating one is cheap; reading its `.fields` is what costs.
    return ReturnDict(data, serializer=JobSerializer(job))
