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


class _Tree:
    """The rows a request adds, table by table, while they are built."""

    def __init__(self, job: CampaignJob) -> None:
        self.job = job
        self.media = _MediaIndex(job)
        self.ad_sets: list[AdSet] = []
        self.ad_set_details: list[MetaAdSetDetails] = []
        self.creatives: list[Creative] = []
        self.creative_details: list[MetaCreativeDetails] = []
        self.cards: list[MetaCreativeCard] = []
        self.ads: list[Ad] = []
        self.ad_details: list[MetaAdDetails] = []

    def add_ad_set(self, campaign: Campaign, position: int, set_data: dict[str, Any]) -> AdSet:
        ad_set = AdSet(
            campaign=campaign,
            job=self.job,
            position=position,
            name=set_data["name"],
            status=set_data.get("status") or "PAUSED",
        )
        self.ad_sets.append(ad_set)
        self.ad_set_details.append(
            MetaAdSetDetails(
                ad_set=ad_set,
                extra_params=set_data.get("extra_params") or {},
                **_pick(set_data, _AD_SET_DETAIL_FIELDS),
            )
        )
        for ad_position, ad_data in enumerate(set_data["ads"]):
            self.add_ad(ad_set, ad_position, ad_data)
        return ad_set

    def add_creative(self, creative_data: dict[str, Any], name: str) -> Creative:
        account = self.job.ad_account
        creative = Creative(
            job=self.job, ad_account=account, name=creative_data.get("name") or name
        )
        self.creative_details.append(
            MetaCreativeDetails(
                creative=creative,
                **self.media.of(creative_data),
                extra_params=creative_data.get("extra_params") or {},
                **_pick(creative_data, _CREATIVE_DETAIL_FIELDS),
            )
        )
        self.cards.extend(
            MetaCreativeCard(
                creative=creative,
                position=position,
                **self.media.of(card_data),
                **_pick(card_data, _CARD_FIELDS),
            )
            for position, card_data in enumerate(creative_data.get("cards") or ())
        )
        self.creatives.append(creative)
        return creative

    def add_ad(self, ad_set: AdSet, position: int, ad_data: dict[str, Any]) -> Ad:
        creative_data = ad_data.get("creative")
        if creative_data is None:
            # The client named an existing creative: nothing to create, only to use.
            creative = Creative(
                job=self.job,
                ad_account=self.job.ad_account,
                name="",
                platform_id=str(ad_data["creative_id"]),
                is_existing=True,
            )
            self.creatives.append(creative)
        else:
            creative = self.add_creative(creative_data, ad_data["name"])
        ad = Ad(
            ad_set=ad_set,
            job=self.job,
            creative=creative,
            position=position,
            name=ad_data["name"],
            status=ad_data.get("status") or "PAUSED",
        )
        self.ads.append(ad)
        self.ad_details.append(MetaAdDetails(ad=ad, extra_params=ad_data.get("extra_params") or {}))
        return ad

    def rows(self, *head: tuple[type, list[Any]]) -> Rows:
        """The rows in the order they are inserted, after `head` (a new campaign's)."""
        return [
            *head,
            (MediaAsset, list(self.media.assets.values())),
            (AdSet, self.ad_sets),
            (MetaAdSetDetails, self.ad_set_details),
            (Creative, self.creatives),
            (MetaCreativeDetails, self.creative_details),
            (MetaCreativeCard, self.cards),
            (Ad, self.ads),
            (MetaAdDetails, self.ad_details),
        ]


def plan_meta_job(*, job: CampaignJob, request: dict[str, Any]) -> Rows:
    """The plan rows of `request` (the validated body) for `job`, table by table in the order
    they are inserted; nothing is written. `job.campaign` is set to the tree in memory."""
    campaign_data = request["campaign"]
    campaign = Campaign(
        job=job,
        ad_account=job.ad_account,
        name=campaign_data["name"],
        status=campaign_data.get("status") or "PAUSED",
    )
    campaign_details = MetaCampaignDetails(
        campaign=campaign,
        extra_params=campaign_data.get("extra_params") or {},
        **_pick(campaign_data, CAMPAIGN_GRAPH_FIELDS),
    )
    tree = _Tree(job)
    for position, set_data in enumerate(request["ad_sets"]):
        tree.add_ad_set(campaign, position, set_data)

    # Hand the tree back as Django would have prefetched it, so the 202 answer is rendered
    # from memory instead of reading back what was just written.
    ads_by_set: dict[Any, list[Ad]] = {ad_set.pk: [] for ad_set in tree.ad_sets}
    for ad in tree.ads:
        ads_by_set[ad.ad_set_id].append(ad)
    for ad_set in tree.ad_sets:
        ad_set._prefetched_objects_cache = {"ads": ads_by_set[ad_set.pk]}
    campaign._prefetched_objects_cache = {"ad_sets": tree.ad_sets}
    job.campaign = campaign
    return tree.rows((Campaign, [campaign]), (MetaCampaignDetails, [campaign_details]))


def plan_meta_additions(
    *,
    job: CampaignJob,
    parent_type: str,
    parent: Campaign | AdSet,
    items: list[dict[str, Any]],
    first_position: int,
) -> Rows:
    """The rows of ad sets (with their ads) added to a live campaign by `job`, or of ads
    added to a live ad set, numbered after the parent's existing children."""
    tree = _Tree(job)
    for offset, data in enumerate(items):
        if parent_type == "campaign":
            assert isinstance(parent, Campaign)
            tree.add_ad_set(parent, first_position + offset, data)
        else:
            assert isinstance(parent, AdSet)
            tree.add_ad(parent, first_position + offset, data)
    return tree.rows()


def plan_meta_creative(
    *, job: CampaignJob, creative: dict[str, Any], name: str
) -> tuple[Creative, Rows]:
    """The rows of a new creative (with its media) an UPDATE job swaps onto an ad."""
    tree = _Tree(job)
    row = tree.add_creative(creative, name)
    return row, tree.rows()
