"""A Meta CREATE job's plan: its rows loaded in a fixed number of queries, and its steps.

Steps, in order: images uploaded, videos handed to Meta by URL and their processing read
until ready, then the campaign, the ad sets, the creatives and the ads. What each needs:
- the campaign needs every medium (a job whose media fail leaves nothing on the account);
- an ad set needs its campaign;
- a creative needs the campaign and the ad set of its first ad (API.md: a rejected parent
  leaves nothing below it, and a creative is made only for the ads that use it);
- an ad needs its ad set and its creative.
A creative the client named by ID is no step: it exists already.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from campaigns.engine.steps import CreateStep, Plan, ReadStep, Step, UploadStep
from campaigns.models import Ad, AdSet, Campaign, CampaignJob, Creative, MediaAsset, MediaKind
from platforms.meta.models import CreativeFormat, MetaCreativeCard

READY_VIDEO_STATES = frozenset({"ready"})

# What the adapter calls each kind of step.
CAMPAIGN, AD_SET, CREATIVE, AD = "campaign", "ad_set", "creative", "ad"
IMAGE, VIDEO, VIDEO_STATUS = "image", "video", "video_status"
# A change of a live object (UPDATE and ARCHIVE jobs: `platforms.meta.changes`), and the
# read of what Meta then says of the object.
CHANGE, STATUS_READ = "change", "effective_status"


@dataclass
class MetaRows:
    campaign: Campaign
    ad_sets: list[AdSet]
    creatives: list[Creative]
    ads: list[Ad]
    media: list[MediaAsset]
    # False for a job that adds ad sets or ads to a live campaign: it creates no campaign.
    new_campaign: bool = True

    @classmethod
    def load(cls, job: CampaignJob) -> MetaRows:
        """The whole plan in a fixed number of queries: two, one more with media, one more
        with carousels.

        Ad sets come with their campaign, ads with their creatives, each joined to its Meta
        details; the joins hand out one Python object per row, so shared parents are made
        one object again (a platform ID recorded on an ad set must be seen by its ads).
        """
        ad_sets = list(
            AdSet.objects.filter(job=job)
            .select_related("meta", "campaign__meta")
            .order_by("position")
        )
        # Ads added to a live ad set come with their ad set and campaign; a job's own ad sets
        # are loaded above already.
        parents = () if ad_sets else ("ad_set__meta", "ad_set__campaign__meta")
        ads = list(
            Ad.objects.filter(job=job)
            .select_related("meta", "creative__meta", *parents)
            .order_by("ad_set__position", "position")
        )
        if ad_sets:
            campaign = ad_sets[0].campaign
        elif ads:
            # Ads added to a live ad set.
            campaign = ads[0].ad_set.campaign
        else:
            campaign = Campaign.objects.select_related("meta").get(job=job)
        ad_set_by_id = {s.pk: s for s in ad_sets}
        for ad_set in ad_sets:
            ad_set.campaign = campaign
        for ad in ads:
            if ad.ad_set_id in ad_set_by_id:
                ad.ad_set = ad_set_by_id[ad.ad_set_id]
            else:
                ad.ad_set = ad_set_by_id.setdefault(ad.ad_set_id, ad.ad_set)
                ad.ad_set.campaign = campaign
        creative_by_id: dict[Any, Creative] = {}
        for ad in ads:
            ad.creative = creative_by_id.setdefault(ad.creative_id, ad.creative)
        creatives = list(creative_by_id.values())
        media = load_cards_and_media(job, creatives)
        return cls(
            campaign=campaign,
            ad_sets=ad_sets,
            creatives=creatives,
            ads=ads,
            media=media,
            new_campaign=campaign.job_id == job.pk,
        )


def load_cards_and_media(job: CampaignJob, creatives: list[Creative]) -> list[MediaAsset]:
    """Give each creative its carousel cards (`.cards`, one query when any is a carousel),
    and return the job's media, read only when a creative or card uses an upload."""
    carousels = {
        c.pk: c
        for c in creatives
        if getattr(c, "meta", None) is not None and c.meta.format == CreativeFormat.CAROUSEL
    }
    for creative in creatives:
        creative.cards = []
    if carousels:
        for card in MetaCreativeCard.objects.filter(creative_id__in=carousels).order_by(
            "creative_id", "position"
        ):
            carousels[card.creative_id].cards.append(card)
    uses_media = any(
        media.image_asset_id or media.video_asset_id or media.thumbnail_asset_id
        for c in creatives
        if getattr(c, "meta", None) is not None
        for media in (c.meta, *c.cards)
    )
    if not uses_media:
        return []
    return list(MediaAsset.objects.filter(job=job).order_by("created_at", "id"))


def ad_set_key(ad_set: AdSet) -> str:
    return f"ad_sets.{ad_set.position}"


def creative_key(creative: Creative) -> str:
    return f"creative {creative.name}"


def ad_key(ad: Ad) -> str:
    return f"ad_sets.{ad.ad_set.position}.ads.{ad.position}"


def media_steps(media: list[MediaAsset]) -> list[Step]:
    """Images uploaded, videos handed to Meta by URL, then every video's processing read until
    ready: every video is handed over before the first read, so they encode in parallel."""
    steps: list[Step] = []
    reads: list[Step] = []
    for asset in media:
        if asset.kind == MediaKind.IMAGE:
            steps.append(UploadStep("media", IMAGE, asset))
            continue
        # A video in the library is no ad object: alone, it does not make a job partial.
        created = CreateStep("video", VIDEO, asset, leaves_object=False)
        steps.append(created)
        reads.append(
            ReadStep(
                "video status",
                VIDEO_STATUS,
                asset,
                (created,),
                field="platform_status",
                complete=READY_VIDEO_STATES,
            )
        )
    return steps + reads


def build_plan(rows: MetaRows) -> Plan:
    """The steps of `rows`, each with what it needs (see the module's docstring). A parent
    that exists already (ad sets or ads added to a live object) is no step: it is done."""
    steps = media_steps(rows.media)
    media_done = list(steps)
    campaign: Step | None = None
    if rows.new_campaign:
        campaign = CreateStep("campaign", CAMPAIGN, rows.campaign, media_done)
        steps.append(campaign)
    above = [campaign] if campaign is not None else media_done
    ad_set_steps: dict[Any, Step] = {}
    for ad_set in rows.ad_sets:
        ad_set_steps[ad_set.pk] = CreateStep(ad_set_key(ad_set), AD_SET, ad_set, above)
    steps += ad_set_steps.values()
    creative_steps: dict[Any, Step] = {}
    for ad in rows.ads:
        creative = ad.creative
        if creative.is_existing or creative.pk in creative_steps:
            continue
        parent = ad_set_steps.get(ad.ad_set_id)
        creative_steps[creative.pk] = CreateStep(
            creative_key(creative),
            CREATIVE,
            creative,
            [*above, *([parent] if parent else [])],
        )
    steps += creative_steps.values()
    for ad in rows.ads:
        parent = ad_set_steps.get(ad.ad_set_id)
        needs = [parent] if parent else [*above]
        if ad.creative_id in creative_steps:
            needs.append(creative_steps[ad.creative_id])
        steps.append(CreateStep(ad_key(ad), AD, ad, needs))
    return Plan(steps=steps, root=campaign)
