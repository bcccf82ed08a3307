"""Job API shapes (output only: submissions are validated by the platform's validator)."""

from __future__ import annotations

from rest_framework import serializers

from campaigns.models import Ad, AdSet, Campaign, CampaignJob, Creative


class CreativeTreeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Creative
        fields = ["id", "name", "platform_id", "is_existing"]
        read_only_fields = fields


class AdTreeSerializer(serializers.ModelSerializer):
    creative = CreativeTreeSerializer(read_only=True)

    class Meta:
        model = Ad
        fields = ["id", "name", "status", "platform_id", "creative"]
        read_only_fields = fields


class AdSetTreeSerializer(serializers.ModelSerializer):
    ads = AdTreeSerializer(many=True, read_only=True)

    class Meta:
        model = AdSet
        fields = ["id", "name", "status", "platform_id", "ads"]
        read_only_fields = fields


class CampaignTreeSerializer(serializers.ModelSerializer):
    ad_sets = AdSetTreeSerializer(many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "name", "status", "platform_id", "ad_sets"]
        read_only_fields = fields


class CampaignSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name", "status", "platform_id"]
        read_only_fields = fields


class JobSerializer(serializers.ModelSerializer):
    """A job with its whole campaign tree (detail, submission, retry, cancel)."""

    ad_account_id = serializers.UUIDField(read_only=True)
    campaign = CampaignTreeSerializer(read_only=True)

    class Meta:
        model = CampaignJob
        fields = [
            "id",
            "status",
            "platform_type",
            "ad_account_id",
            "attempts",
            "next_attempt_at",
            "created_at",
            "updated_at",
            "started_at",
            "finished_at",
            "platform_campaign_id",
            "campaign",
            "error",
        ]
        read_only_fields = fields


class JobListSerializer(JobSerializer):
    """List rows carry the campaign without its tree: a page of 50 jobs stays small."""

    campaign = CampaignSummarySerializer(read_only=True)
