"""What a creative may point at, checked alike wherever it appears (story specs, carousel cards,
asset feeds): Pages the token may advertise for, images of the account's library, picture URLs,
videos of the account that finished processing, and call-to-action types.

Sources: the Ad Creative reference (object_story_spec.page_id: "User must have Admin or Editor
role for this page"; call_to_action_type), the Ad Image reference (image_hash) and the Ad
Creative Link Data reference (picture).
"""

from __future__ import annotations

from typing import Any

from . import errors
from .enums import CALL_TO_ACTION_TYPES
from .videos import video_status
from .writes import Ctx, owned


def check_page(ctx: Ctx, page_id: Any, where: str) -> None:
    if not str(page_id).isdigit():
        raise errors.invalid_parameter(
            "Invalid Page",
            f"{where} must be the numeric id of a Facebook Page.",
            blame_fields=[where],
        )
    pages = ctx.token.page_ids
    if pages and str(page_id) not in pages:
        raise errors.invalid_parameter(
            "Invalid Page",
            f"Page {page_id} can't be used: the access token has no ADVERTISE task on it.",
            blame_fields=[where],
        )


def check_image_hash(ctx: Ctx, image_hash: Any, where: str) -> None:
    image = ctx.state.get_object(f"{ctx.account.id}:{image_hash}")
    if image is None or image.deleted:
        raise errors.invalid_parameter(
            "Image not found",
            f"Image hash {image_hash} ({where}) is not in this ad account's image library. "
            "Upload it to /adimages first.",
            blame_fields=[where],
        )


def check_video(ctx: Ctx, video_id: Any, where: str) -> None:
    video = owned(ctx, video_id, "advideo")
    if video is None or video.deleted:
        raise errors.invalid_parameter(
            "Video not found",
            f"Video {video_id} ({where}) is not in this ad account.",
            blame_fields=[where],
        )
    if video_status(ctx.state, video, ctx.now) != "ready":
        raise errors.invalid_parameter(
            "Video not ready",
            f"Video {video_id} is still being processed. Wait until its status is ready.",
            blame_fields=[where],
        )


def check_call_to_action(cta: Any, where: str) -> None:
    if cta is None:
        return
    if not isinstance(cta, dict) or cta.get("type") not in CALL_TO_ACTION_TYPES:
        raise errors.enum_param(f"{where}[type]", sorted(CALL_TO_ACTION_TYPES))


def check_picture(url: Any, where: str) -> None:
    """A picture is fetched by Meta from its URL, so it must be an http(s) URL."""
    if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        raise errors.invalid_parameter(
            "Invalid picture URL",
            f"{where} must be an http or https URL of an image.",
            blame_fields=[where],
        )
