"""What Meta needs beyond the generic plan rows: one detail row per planned object.

Field names follow the Graph API's, so the executor can send them as they are.
"""

from __future__ import annotations

import uuid

from django.db import models

from campaigns.models import Ad, AdSet, Campaign, Creative, MediaAsset
from platforms.meta import rules

# Detail fields sent to Meta under the same name (None means "not given": not sent).
CAMPAIGN_GRAPH_FIELDS = (
    "objective",
    "special_ad_categories",
    "special_ad_category_country",
    "buying_type",
    "bid_strategy",
    "daily_budget",
    "lifetime_budget",
    "spend_cap",
    "is_adset_budget_sharing_enabled",
)
AD_SET_GRAPH_FIELDS = (
    "daily_budget",
    "lifetime_budget",
    "bid_amount",
    "bid_strategy",
    "billing_event",
    "optimization_goal",
    "targeting",
    "promoted_object",
    "destination_type",
    "dsa_beneficiary",
    "dsa_payor",
)


class MetaCampaignDetails(models.Model):
    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, primary_key=True, related_name="meta"
    )
    objective = models.CharField(max_length=40)
    special_ad_categories = models.JSONField(default=list)
    special_ad_category_country = models.JSONField(null=True, blank=True)
    buying_type = models.CharField(max_length=20, default="AUCTION")
    bid_strategy = models.CharField(max_length=40, null=True, blank=True)
    # Money in the account currency's minor unit, as Meta takes it.
    daily_budget = models.BigIntegerField(null=True, blank=True)
    lifetime_budget = models.BigIntegerField(null=True, blank=True)
    spend_cap = models.BigIntegerField(null=True, blank=True)
    is_adset_budget_sharing_enabled = models.BooleanField(null=True, blank=True)
    extra_params = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "meta_campaign_details"

    def __str__(self) -> str:
        return f"Meta details of {self.campaign}"


class MetaAdSetDetails(models.Model):
    ad_set = models.OneToOneField(
        AdSet, on_delete=models.CASCADE, primary_key=True, related_name="meta"
    )
    daily_budget = models.BigIntegerField(null=True, blank=True)
    lifetime_budget = models.BigIntegerField(null=True, blank=True)
    bid_amount = models.BigIntegerField(null=True, blank=True)
    bid_strategy = models.CharField(max_length=40, null=True, blank=True)
    billing_event = models.CharField(max_length=40)
    optimization_goal = models.CharField(max_length=60)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    targeting = models.JSONField(default=dict)
    promoted_object = models.JSONField(null=True, blank=True)
    destination_type = models.CharField(max_length=40, null=True, blank=True)
    dsa_beneficiary = models.CharField(max_length=512, null=True, blank=True)
    dsa_payor = models.CharField(max_length=512, null=True, blank=True)
    extra_params = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "meta_ad_set_details"

    def __str__(self) -> str:
        return f"Meta details of {self.ad_set}"


class CreativeFormat(models.TextChoices):
    """What a creative shows, which decides what mojito sends for it."""

    IMAGE = rules.FORMAT_IMAGE, "Single image"
    VIDEO = rules.FORMAT_VIDEO, "Single video"
    CAROUSEL = rules.FORMAT_CAROUSEL, "Carousel"
    FACEBOOK_POST = rules.FORMAT_FACEBOOK_POST, "Existing Facebook post"
    INSTAGRAM_POST = rules.FORMAT_INSTAGRAM_POST, "Existing Instagram post"


# The media fields of a creative and of a carousel card, as `MediaFields` names them.
MEDIA_ID_FIELDS = ("image_hash", "video_id", "thumbnail_hash")


class MediaFields(models.Model):
    """An image or a video (with its thumbnail): given by the client as a hash or ID, or as a
    URL to upload first (an asset, whose platform ID then stands for the hash or ID)."""

    image_hash = models.CharField(max_length=128, null=True, blank=True)
    video_id = models.CharField(max_length=64, null=True, blank=True)
    thumbnail_hash = models.CharField(max_length=128, null=True, blank=True)
    image_asset = models.ForeignKey(
        MediaAsset, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    video_asset = models.ForeignKey(
        MediaAsset, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    thumbnail_asset = models.ForeignKey(
        MediaAsset, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True


class MetaCreativeDetails(MediaFields):
    creative = models.OneToOneField(
        Creative, on_delete=models.CASCADE, primary_key=True, related_name="meta"
    )
    format = models.CharField(
        max_length=20, choices=CreativeFormat.choices, default=CreativeFormat.IMAGE
    )
    page_id = models.CharField(max_length=64, blank=True, default="")
    instagram_user_id = models.CharField(max_length=64, null=True, blank=True)
    link = models.URLField(max_length=2048, null=True, blank=True)
    message = models.TextField(null=True, blank=True)
    headline = models.CharField(max_length=255, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    call_to_action = models.JSONField(null=True, blank=True)
    # An existing post to promote: "<page id>_<post id>", or an Instagram media id.
    object_story_id = models.CharField(max_length=64, null=True, blank=True)
    source_instagram_media_id = models.CharField(max_length=64, null=True, blank=True)
    # Carousel only: whether Meta may reorder the cards (link_data.multi_share_optimized).
    multi_share_optimized = models.BooleanField(null=True, blank=True)
    # Every Advantage+ creative feature mojito knows, as sent: {"<feature>": "OPT_IN" | "OPT_OUT"}.
    creative_features = models.JSONField(default=dict, blank=True)
    extra_params = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "meta_creative_details"

    def __str__(self) -> str:
        return f"Meta details of {self.creative}"


class MetaAdDetails(models.Model):
    ad = models.OneToOneField(Ad, on_delete=models.CASCADE, primary_key=True, related_name="meta")
    extra_params = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "meta_ad_details"

    def __str__(self) -> str:
        return f"Meta details of {self.ad}"


class MetaCreativeCard(MediaFields):
    """One card of a carousel creative (`link_data.child_attachments`), in order."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    creative = models.ForeignKey(Creative, on_delete=models.CASCADE, related_name="meta_cards")
    position = models.PositiveSmallIntegerField()
    link = models.URLField(max_length=2048)
    headline = models.CharField(max_length=255, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    call_to_action = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "meta_creative_cards"
        ordering = ["creative", "position"]
        constraints = [
            models.UniqueConstraint(fields=["creative", "position"], name="uniq_card_position")
        ]

    def __str__(self) -> str:
        return f"Card {self.position} of {self.creative}"
