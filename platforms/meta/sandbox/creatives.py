"""Creating ad creatives, with the checks Meta documents for each field.

Each rule names its source. Pages are on developers.facebook.com/docs/marketing-api/ unless a
full URL is given:
- Ad creative: reference/ad-creative; reference/ad-account/adcreatives.
- Existing Page and Instagram posts, Instagram identity: stories.py; carousels: carousel.py;
  Advantage+ creative features: advantage_creative.py; what a creative may point at (pages,
  images, videos): creative_refs.py; poll ads: polls.py.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from . import errors
from .advantage_creative import check_degrees_of_freedom
from .carousel import check_carousel
from .creative_refs import (
    check_call_to_action,
    check_image_hash,
    check_page,
    check_picture,
    check_video,
)
from .enums import CALL_TO_ACTION_TYPES
from .params import Params
from .polls import refuse_poll
from .stories import (
    check_instagram_user_id,
    check_single_source,
    existing_post,
    instagram_post,
    refuse_instagram_actor_id,
)
from .writes import (
    CONTROL_PARAMS,
    JSON_LIST_PARAMS,
    JSON_OBJECT_PARAMS,
    Created,
    Ctx,
    adlabels,
    new_object,
    stored,
    validate_only,
)


def _check_story_spec(ctx: Ctx, spec: dict[str, Any]) -> None:
    # Ad Creative reference, object_story_spec: "The Page ID and the content to create a new
    # unpublished page post. Specify link_data, photo_data, video_data, text_data or
    # template_data with the content."
    if not spec.get("page_id"):
        raise errors.required_param("object_story_spec[page_id]")
    check_page(ctx, spec["page_id"], "object_story_spec[page_id]")
    kinds = [
        k
        for k in ("link_data", "photo_data", "video_data", "text_data", "template_data")
        if spec.get(k) is not None
    ]
    if len(kinds) != 1:
        raise errors.invalid_parameter(
            "Invalid object story spec",
            "object_story_spec needs exactly one of link_data, photo_data, video_data, "
            "text_data or template_data.",
            blame_fields=["object_story_spec"],
        )
    kind = kinds[0]
    data = spec[kind]
    if not isinstance(data, dict):
        raise errors.not_json(f"object_story_spec[{kind}]", "object")
    where = f"object_story_spec[{kind}]"
    if kind == "link_data":
        if not data.get("link") and not data.get("child_attachments"):
            raise errors.required_param(f"{where}[link]")
        if data.get("image_hash"):
            check_image_hash(ctx, data["image_hash"], f"{where}[image_hash]")
        elif data.get("picture"):
            check_picture(data["picture"], f"{where}[picture]")
        check_carousel(ctx, data, where)
        check_call_to_action(data.get("call_to_action"), f"{where}[call_to_action]")
    elif kind == "photo_data":
        if data.get("image_hash"):
            check_image_hash(ctx, data["image_hash"], f"{where}[image_hash]")
        elif not data.get("url"):
            raise errors.required_param(f"{where}[image_hash]")
    elif kind == "video_data":
        if not data.get("video_id"):
            raise errors.required_param(f"{where}[video_id]")
        check_video(ctx, data["video_id"], f"{where}[video_id]")
        # A video creative needs a thumbnail (video_data.image_url or image_hash; see the
        # "Video Page Like ad" example in the Ad Creative reference).
        if data.get("image_hash"):
            check_image_hash(ctx, data["image_hash"], f"{where}[image_hash]")
        elif not data.get("image_url"):
            raise errors.invalid_parameter(
                "Video thumbnail required",
                "video_data needs a thumbnail: image_url or image_hash.",
                blame_fields=[where, "image_url"],
            )
        check_call_to_action(data.get("call_to_action"), f"{where}[call_to_action]")


def _creative_signature(params: Params) -> str:
    content = {k: v for k, v in params.values.items() if k not in CONTROL_PARAMS}
    for key, value in list(content.items()):
        if isinstance(value, str) and (key in JSON_OBJECT_PARAMS or key in JSON_LIST_PARAMS):
            with contextlib.suppress(ValueError):
                content[key] = json.loads(value)
    return json.dumps(content, sort_keys=True, default=str)


def create_creative(ctx: Ctx, params: Params) -> Created:
    refuse_instagram_actor_id(params.values)
    check_single_source(params)
    spec = params.json("object_story_spec", dict)
    story_id = params.str("object_story_id")
    media_id = params.str("source_instagram_media_id")
    feed = params.json("asset_feed_spec", dict)
    if spec is None and story_id is None and media_id is None and feed is None:
        raise errors.invalid_parameter(
            "Creative content required",
            "An ad creative needs object_story_spec, object_story_id, source_instagram_media_id "
            "or asset_feed_spec.",
            blame_fields=["object_story_spec"],
        )
    check_instagram_user_id(params.str("instagram_user_id"), "instagram_user_id")
    if spec is not None:
        refuse_instagram_actor_id(spec, "object_story_spec")
        check_instagram_user_id(
            spec.get("instagram_user_id"), "object_story_spec[instagram_user_id]"
        )
        if feed is not None:
            # With asset_feed_spec, object_story_spec only names the page (and identity).
            if not spec.get("page_id"):
                raise errors.required_param("object_story_spec[page_id]")
            check_page(ctx, spec["page_id"], "object_story_spec[page_id]")
        else:
            _check_story_spec(ctx, spec)
    post = existing_post(ctx, story_id) if story_id is not None else None
    media = instagram_post(ctx, params) if media_id is not None else None
    if media is None and params.present("call_to_action"):
        check_call_to_action(params.json("call_to_action", dict), "call_to_action")
    for index, image in enumerate((feed or {}).get("images") or []):
        if isinstance(image, dict) and image.get("hash"):
            check_image_hash(ctx, image["hash"], f"asset_feed_spec[images][{index}][hash]")
    for index, video in enumerate((feed or {}).get("videos") or []):
        if isinstance(video, dict) and video.get("video_id"):
            check_video(ctx, video["video_id"], f"asset_feed_spec[videos][{index}][video_id]")
    params.enum("call_to_action_type", tuple(sorted(CALL_TO_ACTION_TYPES)))
    check_degrees_of_freedom(params.json("degrees_of_freedom_spec", dict), ctx.version)
    refuse_poll(
        {
            "poll_spec": params.json("poll_spec", dict),
            "interactive_components_spec": params.json("interactive_components_spec", dict),
        }
    )
    labels = adlabels(ctx, params)
    if validate_only(params):
        return Created({"success": True}, [])
    # Ad Creative reference, "Creating": "If you try to add an creative that isn't unique, we do
    # not generate it and return the creative ID of the existing ad creative."
    signature = _creative_signature(params)
    existing = ctx.state.get_object(
        ctx.state.creative_signatures.get((ctx.account.id, signature), "")
    )
    if existing is not None and not existing.deleted:
        return Created({"id": existing.id}, [])
    fields = stored(params, skip={"adlabels"})
    fields.update({"account_id": ctx.account.id, "status": "ACTIVE"})
    if params.str("name") is not None:
        fields["name"] = params.str("name")
    if labels is not None:
        fields["adlabels"] = labels
    if spec is not None:
        fields.update(_story_fields(ctx, spec))
    elif post is not None:
        fields.update({"actor_id": post.page_id, "effective_object_story_id": post.id})
    elif media is not None:
        fields.update(
            {"actor_id": str(params.str("object_id")), "effective_instagram_media_id": media.id}
        )
    obj = new_object(ctx, "adcreative", None, fields)
    ctx.state.creative_signatures[(ctx.account.id, signature)] = obj.id
    ctx.state.add_object(obj)
    return Created({"id": obj.id}, [obj.id])


def _story_fields(ctx: Ctx, spec: dict[str, Any]) -> dict[str, Any]:
    """What Meta derives from an object_story_spec, including the unpublished Page post it
    creates ("An unpublished page post will be created on this page"), which later creatives
    may promote by its id."""
    page_id = str(spec.get("page_id"))
    content = next(
        (
            spec[k]
            for k in ("link_data", "photo_data", "video_data")
            if isinstance(spec.get(k), dict)
        ),
        {},
    )
    post = ctx.state.add_post(page_id, content.get("message"), is_published=False)
    fields: dict[str, Any] = {"actor_id": page_id, "effective_object_story_id": post.id}
    if content.get("image_hash"):
        fields["image_hash"] = content["image_hash"]
    if content.get("video_id"):
        fields["video_id"] = str(content["video_id"])
    cta = content.get("call_to_action")
    if isinstance(cta, dict) and cta.get("type"):
        fields["call_to_action_type"] = cta["type"]
    return fields
