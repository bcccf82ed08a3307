"""What Meta is sent to create each planned object: Graph parameters built from the plan rows.

Shared by sequential and batch runs; pure functions of the rows, except for a video's thumbnail
when the client gave none, which the caller looks up on Meta (`Thumbnail`).

Sources: marketing-api/reference/ad-campaign-group, reference/ad-campaign,
reference/ad-creative (object_story_spec, object_story_id, source_instagram_media_id,
degrees_of_freedom_spec), reference/ad-creative-link-data(-child-attachment), reference/adgroup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from campaigns.models import Ad, AdSet, Campaign, Creative, MediaAsset
from platforms.meta.models import (
    AD_SET_GRAPH_FIELDS,
    CAMPAIGN_GRAPH_FIELDS,
    CreativeFormat,
    MediaFields,
    MetaCreativeCard,
    MetaCreativeDetails,
)

# Meta's thumbnail URL of an uploaded video, for a video the client sent without one.
Thumbnail = Callable[[str], str]

# Where a media field's uploaded asset is, when the client gave a URL instead of the field.
_ASSET_OF = {
    "image_hash": "image_asset_id",
    "video_id": "video_asset_id",
    "thumbnail_hash": "thumbnail_asset_id",
}


def _given(details: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(details, f) for f in fields if getattr(details, f) is not None}


def _time(value: datetime) -> str:
    return value.isoformat()


def _labels(label: str) -> list[dict[str, str]]:
    # The job's marker, by which a create whose answer was lost is found again.
    return [{"name": label}]


def campaign_params(campaign: Campaign, label: str) -> dict[str, Any]:
    details = campaign.meta
    params = {
        "name": campaign.name,
        "status": campaign.status,
        "adlabels": _labels(label),
        **_given(details, CAMPAIGN_GRAPH_FIELDS),
    }
    if (details.daily_budget or details.lifetime_budget) and not details.bid_strategy:
        # Meta's campaign reference: a campaign budget without a bid strategy means
        # LOWEST_COST_WITH_BID_CAP, which then wants a bid amount on every ad set. Say what
        # a client that named no strategy means: automatic bidding.
        params["bid_strategy"] = "LOWEST_COST_WITHOUT_CAP"
    return {**params, **details.extra_params}


def ad_set_params(ad_set: AdSet, campaign_ref: str, label: str) -> dict[str, Any]:
    details = ad_set.meta
    return {
        "name": ad_set.name,
        "status": ad_set.status,
        "campaign_id": campaign_ref,
        "adlabels": _labels(label),
        **_given(details, AD_SET_GRAPH_FIELDS),
        **({"start_time": _time(details.start_time)} if details.start_time else {}),
        **({"end_time": _time(details.end_time)} if details.end_time else {}),
        **details.extra_params,
    }


def ad_params(ad: Ad, ad_set_ref: str, creative_ref: str, label: str) -> dict[str, Any]:
    return {
        "name": ad.name,
        "status": ad.status,
        "adset_id": ad_set_ref,
        "creative": {"creative_id": creative_ref},
        "adlabels": _labels(label),
        **ad.meta.extra_params,
    }


class CreativeParams:
    """The parameters of a creative, whatever its format; media IDs come from the plan's
    assets, which the run updates in place as they upload, so they are never stale."""

    def __init__(self, media: Mapping[Any, MediaAsset], thumbnail: Thumbnail) -> None:
        self.media = media
        self.thumbnail = thumbnail

    def __call__(self, creative: Creative, label: str) -> dict[str, Any]:
        details: MetaCreativeDetails = creative.meta
        params: dict[str, Any] = {"name": creative.name}
        if details.format == CreativeFormat.FACEBOOK_POST:
            params["object_story_id"] = details.object_story_id
            if details.instagram_user_id:
                params["instagram_user_id"] = details.instagram_user_id
        elif details.format == CreativeFormat.INSTAGRAM_POST:
            # reference/ad-creative, "Use Instagram posts as ads": object_id is the Page.
            params["object_id"] = details.page_id
            params["instagram_user_id"] = details.instagram_user_id
            params["source_instagram_media_id"] = details.source_instagram_media_id
            cta = self._call_to_action(details.call_to_action, details.link)
            if cta:
                params["call_to_action"] = cta
        else:
            params["object_story_spec"] = self.story_spec(creative)
        if details.creative_features:
            params["degrees_of_freedom_spec"] = {
                "creative_features_spec": {
                    feature: {"enroll_status": status}
                    for feature, status in sorted(details.creative_features.items())
                }
            }
        params["adlabels"] = _labels(label)
        return {**params, **details.extra_params}

    def _media_id(self, media: MediaFields, field: str) -> str | None:
        """The hash or ID `field` the client gave, else the platform ID of its uploaded asset."""
        asset_id = getattr(media, _ASSET_OF[field])
        return getattr(media, field) or (self.media[asset_id].platform_id if asset_id else None)

    @staticmethod
    def _call_to_action(cta: dict[str, Any] | None, link: str | None) -> dict[str, Any] | None:
        if not cta:
            return None
        spec: dict[str, Any] = {"type": cta["type"]}
        if cta.get("link") or link:
            spec["value"] = {"link": cta.get("link") or link}
        return spec

    def story_spec(self, creative: Creative) -> dict[str, Any]:
        """`object_story_spec` of a creative mojito builds: single image or video, carousel."""
        details: MetaCreativeDetails = creative.meta
        story: dict[str, Any] = {"page_id": details.page_id}
        if details.instagram_user_id:
            story["instagram_user_id"] = details.instagram_user_id
        cta = self._call_to_action(details.call_to_action, details.link)
        video_id = self._media_id(details, "video_id")
        if details.format == CreativeFormat.CAROUSEL:
            story["link_data"] = _non_empty(
                link=details.link,
                message=details.message,
                name=details.headline,
                description=details.description,
                call_to_action=cta,
                child_attachments=[self._card(card) for card in creative.cards],
                # Cards run in the order sent unless the client lets Meta reorder them.
                multi_share_optimized=bool(details.multi_share_optimized),
            )
        elif video_id:
            story["video_data"] = _non_empty(
                video_id=video_id,
                **self._video_thumbnail(details, video_id),
                message=details.message,
                title=details.headline,
                link_description=details.description,
                call_to_action=cta,
            )
        else:
            story["link_data"] = _non_empty(
                image_hash=self._media_id(details, "image_hash"),
                link=details.link,
                message=details.message,
                name=details.headline,
                description=details.description,
                call_to_action=cta,
            )
        return story

    def _video_thumbnail(
        self, media: MediaFields, video_id: str, url_key: str = "image_url"
    ) -> dict[str, str]:
        """A video's thumbnail: the client's (`image_hash`), else Meta's own frame of the video
        by URL (`url_key`: video_data's `image_url`, a card's `picture`)."""
        thumbnail_hash = self._media_id(media, "thumbnail_hash")
        if thumbnail_hash:
            return {"image_hash": thumbnail_hash}
        return {url_key: self.thumbnail(video_id)}

    def _card(self, card: MetaCreativeCard) -> dict[str, Any]:
        video_id = self._media_id(card, "video_id")
        if video_id:
            media = {"video_id": video_id, **self._video_thumbnail(card, video_id, "picture")}
        else:
            media = {"image_hash": self._media_id(card, "image_hash")}
        return _non_empty(
            link=card.link,
            name=card.headline,
            description=card.description,
            **media,
            call_to_action=self._call_to_action(card.call_to_action, card.link),
        )


def _non_empty(**fields: Any) -> dict[str, Any]:
    """The fields that say something (False is an answer; None and "" are not)."""
    return {key: value for key, value in fields.items() if value is not None and value != ""}
