"""Turn a validated Meta ad request into plan rows: generic objects plus their Meta details.

The planner only builds the rows; the submission stores them together with the job, in its
transaction (`mojito.db.insert_rows`: on PostgreSQL one statement for the job and its whole
plan), so a 50 x 50 tree costs a fixed number of queries, not one per object.
"""

from __future__ import annotations

from typing import Any

from campaigns.models import (
    Ad,
    AdSet,
    Campaign,
    CampaignJob,
    Creative,
    MediaAsset,
    MediaKind,
)
from mojito.db import Rows
from platforms.meta.models import (
    AD_SET_GRAPH_FIELDS,
    CAMPAIGN_GRAPH_FIELDS,
    MEDIA_ID_FIELDS,
    MetaAdDetails,
    MetaAdSetDetails,
    MetaCampaignDetails,
    MetaCreativeCard,
    MetaCreativeDetails,
)

_AD_SET_DETAIL_FIELDS = (*AD_SET_GRAPH_FIELDS, "start_time", "end_time")
_CREATIVE_DETAIL_FIELDS = (
    "page_id",
    "instagram_user_id",
    "link",
    "message",
    "headline",
    "description",
    "call_to_action",
    *MEDIA_ID_FIELDS,
    "format",
    "object_story_id",
    "source_instagram_media_id",
    "multi_share_optimized",
    "creative_features",
)
_CARD_FIELDS = ("link", "headline", "description", "call_to_action", *MEDIA_ID_FIELDS)


def _pick(source: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {field: source[field] for field in fields if source.get(field) is not None}


class _MediaIndex:
    """One MediaAsset per distinct (kind, URL) in a job: an image used by ten ads uploads once."""

    def __init__(self, job: CampaignJob) -> None:
        self.job = job
        self.assets: dict[tuple[str, str], MediaAsset] = {}

    def get(self, kind: str, url: str | None) -> MediaAsset | None:
        if not url:
            return None
        key = (kind, url)
        if key not in self.assets:
            self.assets[key] = MediaAsset(job=self.job, kind=kind, source_url=url)
        return self.assets[key]

    def of(self, media: dict[str, Any]) -> dict[str, MediaAsset | None]:
        """The assets a creative's or a card's media fields (`*_url`) need uploaded."""
        return {
            "image_asset": self.get(MediaKind.IMAGE, media.get("image_url")),
            "video_asset": self.get(MediaKind.VIDEO, media.get("video_url")),
            "thumbnail_asset": self.get(MediaKind.IMAGE, media.get("thumbnail_url")),
        }


def plan_meta_job(*, job: CampaignJob, request: dict[str, Any]) -> Rows:
    """The plan rows of `request` (the validated body) for `job`, table by table in the order
    they are inserted; nothing is written. `job.campaign` is set to the tree in memory."""
    account = job.ad_account
    campaign_data = request["campaign"]
    campaign = Campaign(
        job=job,
        ad_account=account,
        name=campaign_data["name"],
        status=campaign_data.get("status") or "PAUSED",
    )
    campaign_details = MetaCampaignDetails(
        campaign=campaign,
        extra_params=campaign_data.get("extra_params") or {},
        **_pick(campaign_data, CAMPAIGN_GRAPH_FIELDS),
    )

    media = _MediaIndex(job)
    ad_sets: list[AdSet] = []
    ad_set_details: list[MetaAdSetDetails] = []
    creatives: list[Creative] = []
    creative_details: list[MetaCreativeDetails] = []
    cards: list[MetaCreativeCard] = []
    ads: list[Ad] = []
    ad_details: list[MetaAdDetails] = []

    for set_position, set_data in enumerate(request["ad_sets"]):
        ad_set = AdSet(
            campaign=campaign,
            position=set_position,
            name=set_data["name"],
            status=set_data.get("status") or "PAUSED",
        )
        ad_sets.append(ad_set)
        ad_set_details.append(
            MetaAdSetDetails(
                ad_set=ad_set,
                extra_params=set_data.get("extra_params") or {},
                **_pick(set_data, _AD_SET_DETAIL_FIELDS),
            )
        )
        for ad_position, ad_data in enumerate(set_data["ads"]):
            creative_data = ad_data.get("creative")
            if creative_data is None:
                # The client named an existing creative: nothing to create, only to use.
                creative = Creative(
                    job=job,
                    ad_account=account,
                    name="",
                    platform_id=str(ad_data["creative_id"]),
                    is_existing=True,
                )
            else:
                creative = Creative(
                    job=job, ad_account=account, name=creative_data.get("name") or ad_data["name"]
                )
                creative_details.append(
                    MetaCreativeDetails(
                        creative=creative,
                        **media.of(creative_data),
                        extra_params=creative_data.get("extra_params") or {},
                        **_pick(creative_data, _CREATIVE_DETAIL_FIELDS),
                    )
                )
                cards.extend(
                    MetaCreativeCard(
                        creative=creative,
                        position=position,
                        **media.of(card_data),
                        **_pick(card_data, _CARD_FIELDS),
                    )
                    for position, card_data in enumerate(creative_data.get("cards") or ())
                )
            creatives.append(creative)
            ads.append(
                Ad(
                    ad_set=ad_set,
                    creative=creative,
                    position=ad_position,
                    name=ad_data["name"],
                    status=ad_data.get("status") or "PAUSED",
                )
            )
            ad_details.append(
                MetaAdDetails(ad=ads[-1], extra_params=ad_data.get("extra_params") or {})
            )

    rows: Rows = [
        (Campaign, [campaign]),
        (MetaCampaignDetails, [campaign_details]),
        (MediaAsset, list(media.assets.values())),
        (AdSet, ad_sets),
        (MetaAdSetDetails, ad_set_details),
        (Creative, creatives),
        (MetaCreativeDetails, creative_details),
        (MetaCreativeCard, cards),
        (Ad, ads),
        (MetaAdDetails, ad_details),
    ]

    # Hand the tree back as Django would have prefetched it, so the 202 answer is rendered
    # from memory instead of reading back what was just written.
    ads_by_set: dict[Any, list[Ad]] = {ad_set.pk: [] for ad_set in ad_sets}
    for ad in ads:
        ads_by_set[ad.ad_set_id].append(ad)
    for ad_set in ad_sets:
        ad_set._prefetched_objects_cache = {"ads": ads_by_set[ad_set.pk]}
    campaign._prefetched_objects_cache = {"ad_sets": ad_sets}
    job.campaign = campaign
    return rows
