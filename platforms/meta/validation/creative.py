"""The ad level: an ad and its creative (copy, call to action, media)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from platforms.meta import rules
from platforms.meta.validation.base import MetaSerializer
from platforms.meta.validation.fields import (
    NAME_MAX_LENGTH,
    Errors,
    ExtraParamsField,
    GraphIdField,
    HttpUrlField,
    StrictCharField,
    StrictChoiceField,
    add_error,
)


class CallToActionSerializer(MetaSerializer):
    """The creative's button: a type from the SDK and an optional link."""

    type = StrictChoiceField(rules.CALL_TO_ACTION_TYPES)
    link = HttpUrlField(required=False, allow_null=True, default=None)


class CreativeSerializer(MetaSerializer):
    """An ad creative built from a Page post spec (link_data / video_data)."""

    reserved_extra_params = frozenset({"object_story_spec"})

    name = StrictCharField(
        max_length=NAME_MAX_LENGTH, required=False, allow_null=True, default=None
    )
    page_id = GraphIdField()
    instagram_user_id = GraphIdField(required=False, allow_null=True, default=None)
    link = HttpUrlField()
    message = StrictCharField(max_length=5000, required=False, allow_null=True, default=None)
    headline = StrictCharField(max_length=255, required=False, allow_null=True, default=None)
    description = StrictCharField(max_length=255, required=False, allow_null=True, default=None)
    call_to_action = CallToActionSerializer(required=False, allow_null=True, default=None)
    image_url = HttpUrlField(required=False, allow_null=True, default=None)
    image_hash = StrictCharField(max_length=128, required=False, allow_null=True, default=None)
    video_url = HttpUrlField(required=False, allow_null=True, default=None)
    video_id = GraphIdField(required=False, allow_null=True, default=None)
    thumbnail_url = HttpUrlField(required=False, allow_null=True, default=None)
    thumbnail_hash = StrictCharField(max_length=128, required=False, allow_null=True, default=None)
    extra_params = ExtraParamsField()

    def check(
        self, values: dict[str, Any], errors: Errors, data: Mapping[str, Any], facts: Any
    ) -> None:
        # Presence is judged on the raw data: an invalid image_url is still a media source.
        media = [key for key in rules.MEDIA_FIELDS if data.get(key) is not None]
        if not media:
            add_error(
                errors,
                ["image_url"],
                "Give one media source: image_url, image_hash, video_url or video_id.",
                "required",
            )
        for key in media[1:]:
            add_error(
                errors,
                [key],
                f"Only one media source per creative; {media[0]} is already given.",
                "exclusive",
            )
        thumbnails = [key for key in rules.THUMBNAIL_FIELDS if data.get(key) is not None]
        is_video = bool({"video_url", "video_id"} & set(media))
        if not is_video:
            for key in thumbnails:
                add_error(
                    errors, [key], "A thumbnail goes with video_url or video_id only.", "invalid"
                )
        elif "video_url" in media and not thumbnails:
            # Meta's video_data needs a thumbnail (image_url or image_hash); for an uploaded
            # video_id the executor can take one of Meta's generated thumbnails instead.
            add_error(
                errors,
                ["thumbnail_url"],
                "video_url needs thumbnail_url or thumbnail_hash.",
                "required",
            )
        if len(thumbnails) > 1:
            add_error(
                errors,
                ["thumbnail_hash"],
                "Give thumbnail_url or thumbnail_hash, not both.",
                "exclusive",
            )


class AdSerializer(MetaSerializer):
    """An ad: a new `creative` or an existing `creative_id`, exactly one."""

    reserved_extra_params = frozenset({"adset_id"})

    name = StrictCharField(max_length=NAME_MAX_LENGTH)
    status = StrictChoiceField(rules.CREATE_STATUSES, default=rules.DEFAULT_STATUS)
    creative = CreativeSerializer(required=False, allow_null=True, default=None)
    creative_id = GraphIdField(required=False, allow_null=True, default=None)
    extra_params = ExtraParamsField()

    def check(
        self, values: dict[str, Any], errors: Errors, data: Mapping[str, Any], facts: Any
    ) -> None:
        has_creative = data.get("creative") is not None
        has_creative_id = data.get("creative_id") is not None
        if has_creative and has_creative_id:
            add_error(
                errors, ["creative_id"], "Give creative or creative_id, not both.", "exclusive"
            )
        elif not has_creative and not has_creative_id:
            add_error(errors, ["creative"], "Give creative or creative_id.", "required")
