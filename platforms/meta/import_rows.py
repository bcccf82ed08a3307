"""What a campaign tree read from Meta (`imports.read_campaign_tree`) becomes in mojito: the
generic rows and their Meta details, the reverse of what `params` sends. Meta's money comes as
numeric strings (stored as ints, minor units), its times as "2026-05-12T17:45:09+0000".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from campaigns.models import Ad, AdSet, Campaign, CampaignJob, Creative
from mojito.db import Rows
from platforms.meta.models import (
    CreativeFormat,
    MetaAdDetails,
    MetaAdSetDetails,
    MetaCampaignDetails,
    MetaCreativeCard,
    MetaCreativeDetails,
)

DELETED = "DELETED"


def _money(value: Any) -> int | None:
    """Meta's numeric string in the currency's minor unit ("2000") as an int."""
    if value in (None, ""):
        return None
    return int(str(value))


def _budget(value: Any) -> int | None:
    # Meta wants a budget above 0 where one is set, and reports "0" where the budget is held
    # elsewhere (an ad set under a campaign budget): 0 is no budget.
    return _money(value) or None


def _time(value: Any) -> datetime | None:
    """Meta's "2026-05-12T17:45:09+0000" as an aware datetime."""
    if not value:
        return None
    parsed = parse_datetime(str(value))
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def _cta(spec: dict[str, Any] | None, link: str | None) -> dict[str, Any] | None:
    """Meta's button `{"type", "value": {"link"}}` as mojito keeps it: `{"type", "link"}`,
    the link only where it is not the creative's own (as mojito would have sent it)."""
    if not spec or not spec.get("type"):
        return None
    own = (spec.get("value") or {}).get("link")
    return {"type": spec["type"], "link": own if own and own != link else None}


def _creative_details(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The fields of `MetaCreativeDetails` (and carousel cards) a creative read from Meta
    stands for: the inverse of `params.CreativeParams`, as far as mojito's formats go. A
    creative of another kind (dynamic, catalogue) keeps what maps: its page and its ID."""
    fields: dict[str, Any] = {"instagram_user_id": data.get("instagram_user_id")}
    cards: list[dict[str, Any]] = []
    features = (data.get("degrees_of_freedom_spec") or {}).get("creative_features_spec") or {}
    fields["creative_features"] = {
        name: spec["enroll_status"]
        for name, spec in sorted(features.items())
        if isinstance(spec, dict) and spec.get("enroll_status")
    }
    story = data.get("object_story_spec")
    if data.get("source_instagram_media_id"):
        fields.update(
            format=CreativeFormat.INSTAGRAM_POST,
            page_id=str(data.get("object_id") or ""),
            source_instagram_media_id=str(data["source_instagram_media_id"]),
            call_to_action=_cta(data.get("call_to_action"), None),
        )
        return fields, cards
    if not story and data.get("object_story_id"):
        fields.update(
            format=CreativeFormat.FACEBOOK_POST, object_story_id=str(data["object_story_id"])
        )
        return fields, cards
    story = story or {}
    fields["page_id"] = str(story.get("page_id") or "")
    fields["instagram_user_id"] = story.get("instagram_user_id") or fields["instagram_user_id"]
    video = story.get("video_data")
    link = story.get("link_data") or {}
    if video:
        cta_link = ((video.get("call_to_action") or {}).get("value") or {}).get("link")
        fields.update(
            format=CreativeFormat.VIDEO,
            video_id=video.get("video_id"),
            thumbnail_hash=video.get("image_hash"),
            link=cta_link,
            message=video.get("message"),
            headline=video.get("title"),
            description=video.get("link_description"),
            call_to_action=_cta(video.get("call_to_action"), cta_link),
        )
        return fields, cards
    fields.update(
        link=link.get("link"),
        message=link.get("message"),
        headline=link.get("name"),
        description=link.get("description"),
        call_to_action=_cta(link.get("call_to_action"), link.get("link")),
    )
    attachments = link.get("child_attachments")
    if attachments:
        fields.update(
            format=CreativeFormat.CAROUSEL,
            multi_share_optimized=link.get("multi_share_optimized"),
        )
        for card in attachments:
            video_id = card.get("video_id")
            cards.append(
                {
                    "link": card.get("link") or "",
                    "headline": card.get("name"),
                    "description": card.get("description"),
                    "video_id": video_id,
                    # A card's video has its thumbnail as image_hash (params._card).
                    "thumbnail_hash": card.get("image_hash") if video_id else None,
                    "image_hash": None if video_id else card.get("image_hash"),
                    "call_to_action": _cta(card.get("call_to_action"), card.get("link")),
                }
            )
        return fields, cards
    fields.update(format=CreativeFormat.IMAGE, image_hash=link.get("image_hash"))
    return fields, cards


def _oldest_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Stable: objects made in the same second keep Meta's order, reversed (newest first).
    return sorted(
        reversed(items),
        key=lambda item: _time(item.get("created_time")) or datetime.min.replace(tzinfo=UTC),
    )


def tree_rows(job: CampaignJob, tree: dict[str, Any]) -> Rows:
    """The rows a tree read by `read_campaign_tree` becomes, table by table in the order they
    are inserted; nothing is written. Positions follow creation, as in a campaign mojito
    made (Meta lists edges newest first)."""
    now = timezone.now()
    account = job.ad_account
    data = tree["campaign"]
    campaign = Campaign(
        job=job,
        ad_account=account,
        name=data.get("name") or "",
        status=data.get("status") or "PAUSED",
        platform_id=str(data["id"]),
        effective_status=data.get("effective_status") or "",
        synced_at=now,
    )
    campaign_details = MetaCampaignDetails(
        campaign=campaign,
        objective=data.get("objective") or "",
        special_ad_categories=data.get("special_ad_categories") or [],
        special_ad_category_country=data.get("special_ad_category_country"),
        buying_type=data.get("buying_type") or "AUCTION",
        bid_strategy=data.get("bid_strategy"),
        daily_budget=_budget(data.get("daily_budget")),
        lifetime_budget=_budget(data.get("lifetime_budget")),
        spend_cap=_money(data.get("spend_cap")),
        is_adset_budget_sharing_enabled=data.get("is_adset_budget_sharing_enabled"),
    )
    ad_sets: dict[str, AdSet] = {}
    ad_set_details = []
    for set_data in _oldest_first(tree["ad_sets"]):
        if set_data.get("status") == DELETED or str(set_data["id"]) in ad_sets:
            continue
        ad_set = AdSet(
            campaign=campaign,
            job=job,
            position=len(ad_sets),
            name=set_data.get("name") or "",
            status=set_data.get("status") or "PAUSED",
            platform_id=str(set_data["id"]),
            effective_status=set_data.get("effective_status") or "",
            synced_at=now,
        )
        ad_sets[ad_set.platform_id] = ad_set
        ad_set_details.append(
            MetaAdSetDetails(
                ad_set=ad_set,
                daily_budget=_budget(set_data.get("daily_budget")),
                lifetime_budget=_budget(set_data.get("lifetime_budget")),
                bid_amount=_money(set_data.get("bid_amount")),
                bid_strategy=set_data.get("bid_strategy"),
                billing_event=set_data.get("billing_event") or "",
                optimization_goal=set_data.get("optimization_goal") or "",
                start_time=_time(set_data.get("start_time")),
                end_time=_time(set_data.get("end_time")),
                targeting=set_data.get("targeting") or {},
                promoted_object=set_data.get("promoted_object"),
                destination_type=set_data.get("destination_type"),
                dsa_beneficiary=set_data.get("dsa_beneficiary"),
                dsa_payor=set_data.get("dsa_payor"),
            )
        )
    creatives: dict[str, Creative] = {}
    creative_details: list[MetaCreativeDetails] = []
    cards: list[MetaCreativeCard] = []
    ads: list[Ad] = []
    ad_details: list[MetaAdDetails] = []
    positions: dict[str, int] = {}
    seen: set[str] = set()
    for ad_data in _oldest_first(tree["ads"]):
        ad_set = ad_sets.get(str(ad_data.get("adset_id") or ""))
        creative_data = ad_data.get("creative") or {}
        if (
            ad_set is None  # its ad set is deleted (or not this campaign's)
            or ad_data.get("status") == DELETED
            or not creative_data.get("id")
            or str(ad_data["id"]) in seen
        ):
            continue
        seen.add(str(ad_data["id"]))
        creative = creatives.get(str(creative_data["id"]))
        if creative is None:
            creative = Creative(
                job=job,
                ad_account=account,
                name=creative_data.get("name") or "",
                platform_id=str(creative_data["id"]),
                synced_at=now,
            )
            creatives[creative.platform_id] = creative
            fields, card_fields = _creative_details(creative_data)
            creative_details.append(MetaCreativeDetails(creative=creative, **fields))
            cards += [
                MetaCreativeCard(creative=creative, position=n, **card)
                for n, card in enumerate(card_fields)
            ]
        position = positions.get(ad_set.platform_id, 0)
        positions[ad_set.platform_id] = position + 1
        ad = Ad(
            ad_set=ad_set,
            job=job,
            creative=creative,
            position=position,
            name=ad_data.get("name") or "",
            status=ad_data.get("status") or "PAUSED",
            platform_id=str(ad_data["id"]),
            effective_status=ad_data.get("effective_status") or "",
            review_feedback=ad_data.get("ad_review_feedback") or None,
            synced_at=now,
        )
        ads.append(ad)
        ad_details.append(MetaAdDetails(ad=ad))
    return [
        (Campaign, [campaign]),
        (MetaCampaignDetails, [campaign_details]),
        (AdSet, list(ad_sets.values())),
        (MetaAdSetDetails, ad_set_details),
        (Creative, list(creatives.values())),
        (MetaCreativeDetails, creative_details),
        (MetaCreativeCard, cards),
        (Ad, ads),
        (MetaAdDetails, ad_details),
    ]


# --- the plan ---------------------------------------------------------------------------------
