"""Creatives from existing posts — a Page post (``object_story_id``) or an Instagram post
(``source_instagram_media_id``) — and the Instagram identity fields.

Sources:
- Ad Creative reference (object_story_id, source_instagram_media_id, instagram_user_id,
  object_id): https://developers.facebook.com/docs/marketing-api/reference/ad-creative
- v22.0 changelog: "The instagram_actor_id field for the following endpoints is deprecated:
  POST /act_<id>/adcreatives, POST /act_<id>/ads, POST /<ad-id> ... Please migrate your API
  calls to use the new instagram_user_id field" (v22.0+, all versions September 9, 2025):
  https://developers.facebook.com/documentation/ads-commerce/marketing-api/marketing-api-changelog/version22.0
- Blog "Instagram Marketing API update" (August 11, 2025): after September 9, 2025 "there will
  be no Marketing API version available that supports these legacy fields":
  https://developers.facebook.com/blog/post/2025/08/11/instagram-marketing-api-update/
- object_story_spec reference (page_id: "An unpublished page post will be created on this
  page"): https://developers.facebook.com/docs/marketing-api/reference/ad-creative-object-story-spec
"""

from __future__ import annotations

import re
from typing import Any

from . import errors
from .creative_refs import check_call_to_action, check_page
from .params import Params
from .state import InstagramMedia, PagePost
from .writes import Ctx

POST_ID_RE = re.compile(r"^(\d+)_(\d+)$")
CONTENT_SOURCES = ("object_story_spec", "object_story_id", "source_instagram_media_id")


def refuse_instagram_actor_id(values: dict[str, Any], where: str = "") -> None:
    """instagram_actor_id is gone on every version since September 9, 2025."""
    if values.get("instagram_actor_id") in (None, ""):
        return
    field = f"{where}[instagram_actor_id]" if where else "instagram_actor_id"
    raise errors.invalid_parameter(
        "instagram_actor_id is deprecated",
        "The instagram_actor_id field is deprecated. Please migrate your API calls to use the "
        "new instagram_user_id field.",
        blame_fields=[field],
    )


def check_instagram_user_id(value: Any, where: str) -> None:
    if value not in (None, "") and not str(value).isdigit():
        raise errors.invalid_parameter(
            "Invalid Instagram account",
            f"{where} must be the numeric id of an Instagram account.",
            blame_fields=[where],
        )


def check_single_source(params: Params) -> None:
    """A creative's content comes from one place: a new post (object_story_spec), an existing
    Page post or an existing Instagram post."""
    given = [name for name in CONTENT_SOURCES if params.present(name)]
    if len(given) > 1:
        raise errors.invalid_parameter(
            "Conflicting creative content",
            f"Use one of object_story_spec, object_story_id or source_instagram_media_id, not "
            f"{' and '.join(given)}.",
            blame_fields=given[1:],
        )


def existing_post(ctx: Ctx, story_id: str) -> PagePost:
    """object_story_id: "<page id>_<post id>" of a post the sandbox knows, on a Page the token
    may advertise for."""
    if not POST_ID_RE.match(story_id):
        raise errors.invalid_parameter(
            "Invalid post",
            "object_story_id must look like <page id>_<post id>.",
            blame_fields=["object_story_id"],
        )
    post = ctx.state.posts.get(story_id)
    if post is None:
        raise errors.invalid_parameter(
            "Post not found",
            f"Post {story_id} does not exist. Promote a post of one of your Pages "
            "(the sandbox knows the posts made through /__sandbox__/posts and those of earlier "
            "creatives).",
            blame_fields=["object_story_id"],
        )
    check_page(ctx, post.page_id, "object_story_id")
    return post


def instagram_post(ctx: Ctx, params: Params) -> InstagramMedia:
    """source_instagram_media_id needs the Instagram account it belongs to (instagram_user_id)
    and the Page the ad runs for (object_id); call_to_action may come with it."""
    media_id = str(params.str("source_instagram_media_id"))
    instagram_user_id = params.str("instagram_user_id", required=True)
    object_id = params.str("object_id", required=True)
    check_page(ctx, object_id, "object_id")
    media = ctx.state.instagram_media.get(media_id)
    if media is None:
        raise errors.invalid_parameter(
            "Instagram post not found",
            f"Instagram media {media_id} does not exist.",
            blame_fields=["source_instagram_media_id"],
        )
    if media.instagram_user_id != instagram_user_id:
        raise errors.invalid_parameter(
            "Instagram post of another account",
            f"Instagram media {media_id} does not belong to Instagram account {instagram_user_id}.",
            blame_fields=["source_instagram_media_id"],
        )
    check_call_to_action(params.json("call_to_action", dict), "call_to_action")
    return media
