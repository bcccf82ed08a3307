"""Carousel creatives: ``object_story_spec.link_data.child_attachments``, 2 to 10 cards, each
with its own link and image (or video with a thumbnail image).

Sources:
- Instagram carousel ads guide ("provide ad creative with multiple child_attachments in
  link_data ... two for other objectives"; "Each attachment must have link specified"):
  https://developers.facebook.com/documentation/ads-commerce/instagram/ads-api/guides/carousel-ads
- Threads carousel ads ("Each attachment must have either a picture or image_hash set. We do not
  default the image from link_data." "Only 10 children are allowed for inline creation."):
  https://developers.facebook.com/documentation/ads-commerce/marketing-api/ad-creative/threads-ads/creation/carousel-ads
- Child attachment reference (call_to_action: "If the CTA is specified, its link must be the same
  as the link of this child attachment"):
  https://developers.facebook.com/docs/marketing-api/reference/ad-creative-link-data-child-attachment/
- Video in carousels ("Note that when video_id is used, image_hash or picture must also be
  specified."): https://developers.facebook.com/ads/blog/post/2015/10/21/video-creative-in-carousel/
- Link data reference (multi_share_optimized, multi_share_end_card: bool):
  https://developers.facebook.com/docs/marketing-api/reference/ad-creative-link-data
"""

from __future__ import annotations

from typing import Any

from . import errors
from .creative_refs import check_call_to_action, check_image_hash, check_picture, check_video
from .writes import Ctx

MIN_CARDS = 2
MAX_CARDS = 10
CAROUSEL_FLAGS = ("multi_share_optimized", "multi_share_end_card")


def check_carousel(ctx: Ctx, link_data: dict[str, Any], where: str) -> None:
    for key in CAROUSEL_FLAGS:
        if key in link_data and not isinstance(link_data[key], bool):
            raise errors.not_bool(f"{where}[{key}]")
    children = link_data.get("child_attachments")
    if children is None:
        return
    field = f"{where}[child_attachments]"
    if not isinstance(children, list):
        raise errors.not_json(field, "array")
    if len(children) < MIN_CARDS:
        raise errors.invalid_parameter(
            "Not enough carousel cards",
            f"A carousel needs at least {MIN_CARDS} child_attachments.",
            blame_fields=[field],
        )
    if len(children) > MAX_CARDS:
        raise errors.invalid_parameter(
            "Too many carousel cards",
            f"Only {MAX_CARDS} children are allowed.",
            blame_fields=[field],
        )
    for index, card in enumerate(children):
        _check_card(ctx, card, f"{field}[{index}]")


def _check_card(ctx: Ctx, card: Any, where: str) -> None:
    if not isinstance(card, dict):
        raise errors.not_json(where, "object")
    if not card.get("link"):
        raise errors.required_param(f"{where}[link]")
    if card.get("video_id"):
        check_video(ctx, card["video_id"], f"{where}[video_id]")
    if card.get("image_hash"):
        check_image_hash(ctx, card["image_hash"], f"{where}[image_hash]")
    elif card.get("picture"):
        check_picture(card["picture"], f"{where}[picture]")
    elif card.get("video_id"):
        raise errors.invalid_parameter(
            "Carousel video needs an image",
            "When video_id is used, image_hash or picture must also be specified.",
            blame_fields=[where, "image_hash"],
        )
    else:
        raise errors.invalid_parameter(
            "Carousel card needs an image",
            "Each attachment must have either a picture or image_hash set. We do not default "
            "the image from link_data.",
            blame_fields=[where, "image_hash"],
        )
    cta = card.get("call_to_action")
    check_call_to_action(cta, f"{where}[call_to_action]")
    value = cta.get("value") if isinstance(cta, dict) else None
    if value is not None and not isinstance(value, dict):
        raise errors.not_json(f"{where}[call_to_action][value]", "object")
    if value and value.get("link") and value["link"] != card["link"]:
        raise errors.invalid_parameter(
            "Carousel card link mismatch",
            "If the call to action is specified, its link must be the same as the link of this "
            f"child attachment ({card['link']}).",
            blame_fields=[where, "call_to_action", "value", "link"],
        )
