"""The ad level: an ad and its creative, in each format Meta takes (single image or video,
carousel, existing Facebook or Instagram post), with its copy, button and media.

Sources: marketing-api/reference/ad-creative (object_story_spec, object_story_id,
source_instagram_media_id, degrees_of_freedom_spec), reference/ad-creative-link-data and
.../ad-creative-link-data-child-attachment (carousel cards), creative/carousel-ads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from platforms.meta import rules
from platforms.meta.validation.base import MetaSerializer, collect_list
from platforms.meta.validation.fields import (
    NAME_MAX_LENGTH,
    Errors,
    ExtraParamsField,
    GraphIdField,
    HttpUrlField,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    add_error,
)


class CallToActionSerializer(MetaSerializer):
    """The creative's button: a type from the SDK and an optional link."""

    type = StrictChoiceField(rules.CALL_TO_ACTION_TYPES)
    link = HttpUrlField(required=False, allow_null=True, default=None)


class CreativeFeaturesField(serializers.DictField):
    """`{"<feature>": "OPT_IN" | "OPT_OUT"}` for Meta's Advantage+ creative features: the
    client's choices, Meta's own spellings taken as the reference's. `CreativeSerializer`
    completes them with `full_feature_spec` (every other feature `OPT_OUT`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, default=dict, **kwargs)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if not isinstance(data, dict):
            self.fail("not_a_dict", input_type=type(data).__name__)
        errors: dict[str, list[str]] = {}
        chosen: dict[str, str] = {}
        for key, status in data.items():
            name = rules.CREATIVE_FEATURE_ALIASES.get(key, key)
            if name not in rules.CREATIVE_FEATURES:
                errors[key] = [
                    rules.REMOVED_CREATIVE_FEATURES.get(key)
                    or f'"{key}" is not an Advantage+ creative feature Meta documents '
                    "(reference/ad-creative-features-spec)."
                ]
            elif status not in rules.CREATIVE_FEATURE_STATUSES:
                errors[key] = [f"Expected {' or '.join(rules.CREATIVE_FEATURE_STATUSES)}."]
            else:
                chosen[name] = status
        if errors:
            raise serializers.ValidationError(errors)
        return chosen


_FEATURES_IN_ORDER = tuple(sorted(rules.CREATIVE_FEATURES))


def full_feature_spec(chosen: Mapping[str, str] | None) -> dict[str, str]:
    """Every known feature with the client's choice, else OPT_OUT."""
    chosen = chosen or {}
    return {
        feature: chosen.get(feature, rules.CREATIVE_FEATURE_OPT_OUT)
        for feature in _FEATURES_IN_ORDER
    }


class MediaSerializer(MetaSerializer):
    """The media of a single-media creative or of one carousel card: exactly one source."""

    image_url = HttpUrlField(required=False, allow_null=True, default=None)
    image_hash = StrictCharField(max_length=128, required=False, allow_null=True, default=None)
    video_url = HttpUrlField(required=False, allow_null=True, default=None)
    video_id = GraphIdField(required=False, allow_null=True, default=None)
    thumbnail_url = HttpUrlField(required=False, allow_null=True, default=None)
    thumbnail_hash = StrictCharField(max_length=128, required=False, allow_null=True, default=None)

    @staticmethod
    def check_media(errors: Errors, data: Mapping[str, Any], media: list[str]) -> None:
        """Thumbnails go with videos, and a video fetched by URL needs one."""
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


def _one_source(errors: Errors, data: Mapping[str, Any], sources: tuple[str, ...]) -> list[str]:
    """The sources `data` gives (judged on the raw data: an invalid image_url is still one);
    errors unless exactly one."""
    given = [key for key in sources if data.get(key) is not None]
    if not given:
        add_error(errors, [sources[0]], f"Give one of {', '.join(sources)}.", "required")
    for key in given[1:]:
        add_error(
            errors,
            [key],
            f"Give only one of {', '.join(sources)}; {given[0]} is given.",
            "exclusive",
        )
    return given


class CardSerializer(MediaSerializer):
    """One carousel card (`link_data.child_attachments[i]`): its own link, copy and media."""

    link = HttpUrlField()
    headline = StrictCharField(max_length=255, required=False, allow_null=True, default=None)
    description = StrictCharField(max_length=255, required=False, allow_null=True, default=None)
    call_to_action = CallToActionSerializer(required=False, allow_null=True, default=None)

    def check(
        self, values: dict[str, Any], errors: Errors, data: Mapping[str, Any], facts: Any
    ) -> None:
        self.check_media(errors, data, _one_source(errors, data, rules.MEDIA_FIELDS))
        # reference/ad-creative-link-data-child-attachment, call_to_action: "If the CTA is
        # specified, its link must be the same as the link of this child attachment."
        cta, link = values.get("call_to_action"), values.get("link")
        if cta and cta.get("link") not in (None, link) and link is not None:
            add_error(
                errors,
                ["call_to_action", "link"],
                "A card's button leads to the card's link; leave this out or give the same URL.",
                "invalid",
            )


# What each format shows of the creative's own fields; the others would be silently dropped
# by Meta (an existing post runs with its own text and media), so they are refused.
_FORMAT_FIELDS: dict[str, frozenset[str]] = {
    rules.FORMAT_FACEBOOK_POST: frozenset({"page_id", "instagram_user_id"}),
    # reference/ad-creative, "Use Instagram posts as ads": object_id (the Page),
    # instagram_user_id, source_instagram_media_id, and an optional call_to_action.
    rules.FORMAT_INSTAGRAM_POST: frozenset(
        {"page_id", "instagram_user_id", "link", "call_to_action"}
    ),
}
_CONTENT_FIELDS = ("link", "message", "headline", "description", "call_to_action")


class CreativeSerializer(MediaSerializer):
    """An ad creative in one of Meta's formats; which one follows from the source it names:
    a media field (single image or video), `cards`, `object_story_id` or
    `source_instagram_media_id`."""

    manual_fields = ("cards",)
    reserved_extra_params = frozenset(
        {
            "object_story_spec",
            "object_story_id",
            "object_id",
            "source_instagram_media_id",
            "degrees_of_freedom_spec",
        }
    )
    refused_extra_params = rules.REFUSED_CREATIVE_PARAMS

    name = StrictCharField(
        max_length=NAME_MAX_LENGTH, required=False, allow_null=True, default=None
    )
    page_id = GraphIdField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The Facebook Page the ad runs as; required except with object_story_id.",
    )
    instagram_user_id = GraphIdField(required=False, allow_null=True, default=None)
    link = HttpUrlField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Destination URL; required for image, video and carousel creatives.",
    )
    message = StrictCharField(max_length=5000, required=False, allow_null=True, default=None)
    headline = StrictCharField(max_length=255, required=False, allow_null=True, default=None)
    description = StrictCharField(max_length=255, required=False, allow_null=True, default=None)
    call_to_action = CallToActionSerializer(required=False, allow_null=True, default=None)
    cards = CardSerializer(
        many=True,
        required=False,
        allow_null=True,
        min_length=rules.CAROUSEL_MIN_CARDS,
        max_length=rules.CAROUSEL_MAX_CARDS,
    )
    multi_share_optimized = StrictBooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Carousel only: let Meta reorder the cards (false, the cards' order, unless "
        "set).",
    )
    object_story_id = StrictCharField(
        max_length=64,
        required=False,
        allow_null=True,
        default=None,
        help_text='An existing Facebook post to promote: "<page id>_<post id>".',
    )
    source_instagram_media_id = GraphIdField(
        required=False,
        allow_null=True,
        default=None,
        help_text="An existing Instagram post to promote (with instagram_user_id and page_id).",
    )
    creative_features = CreativeFeaturesField()
    extra_params = ExtraParamsField()

    def check(
        self, values: dict[str, Any], errors: Errors, data: Mapping[str, Any], facts: Any
    ) -> None:
        sources = _one_source(errors, data, rules.CREATIVE_SOURCE_FIELDS)
        # With no source at all, judge the rest as the common case: a single image.
        creative_format = rules.creative_format(sources[0] if sources else "image_url")
        values["format"] = creative_format
        if "creative_features" in values:
            values["creative_features"] = full_feature_spec(values["creative_features"])
        if creative_format in (rules.FORMAT_IMAGE, rules.FORMAT_VIDEO):
            self.check_media(errors, data, sources)
        else:
            for key in rules.THUMBNAIL_FIELDS:
                if data.get(key) is not None:
                    add_error(
                        errors,
                        [key],
                        "A thumbnail goes with video_url or video_id only.",
                        "invalid",
                    )
        if creative_format == rules.FORMAT_CAROUSEL:
            cards, card_errors = collect_list(
                data,
                "cards",
                self.fields["cards"].child,
                facts,
                min_items=rules.CAROUSEL_MIN_CARDS,
                max_items=rules.CAROUSEL_MAX_CARDS,
            )
            if card_errors:
                errors["cards"] = card_errors
            else:
                values["cards"] = cards
            minimum = rules.CAROUSEL_MIN_CARDS_APP
            objective = getattr(facts, "objective", None)
            if objective == rules.APP_PROMOTION_OBJECTIVE and cards and len(cards) < minimum:
                add_error(
                    errors,
                    ["cards"],
                    f"An app promotion carousel needs at least {minimum} cards.",
                    "min_length",
                )
        else:
            values["cards"] = None
            if data.get("multi_share_optimized") is not None:
                add_error(
                    errors, ["multi_share_optimized"], "Only a carousel has cards.", "invalid"
                )
        self._check_format_fields(values, errors, data, creative_format)

    @staticmethod
    def _check_format_fields(
        values: dict[str, Any], errors: Errors, data: Mapping[str, Any], creative_format: str
    ) -> None:
        shown = _FORMAT_FIELDS.get(creative_format)
        if shown is None:
            # A creative mojito builds itself: a Page to run as, a link to send people to.
            for key in ("page_id", "link"):
                if data.get(key) is None:
                    add_error(errors, [key], "This field is required.", "required")
            return
        source = rules.CREATIVE_SOURCE_BY_FORMAT[creative_format]
        for key in _CONTENT_FIELDS:
            if key not in shown and data.get(key) is not None:
                add_error(
                    errors,
                    [key],
                    f"An existing post runs with its own text and media: {key} is not used "
                    f"with {source}.",
                    "not_applicable",
                )
        if creative_format == rules.FORMAT_FACEBOOK_POST:
            story_id = values.get("object_story_id")
            if story_id is None:
                return
            page, _, post = story_id.partition("_")
            if not (page.isdigit() and post.isdigit() and page.isascii() and post.isascii()):
                add_error(
                    errors,
                    ["object_story_id"],
                    'Expected "<page id>_<post id>" (digits), as Meta names Page posts.',
                    "invalid",
                )
            elif values.get("page_id") not in (None, page):
                add_error(
                    errors, ["page_id"], f"The post {story_id} belongs to Page {page}.", "invalid"
                )
            return
        # An Instagram post runs as the Instagram account that published it, for the Page.
        for key in ("page_id", "instagram_user_id"):
            if data.get(key) is None:
                add_error(errors, [key], "Required with source_instagram_media_id.", "required")
        if data.get("link") is not None and data.get("call_to_action") is None:
            # Its only link is its button's: a link alone would go nowhere.
            add_error(
                errors,
                ["link"],
                "An Instagram post links only through its button: add call_to_action, or "
                "leave link out.",
                "invalid",
            )


class AdSerializer(MetaSerializer):
    """An ad: a new `creative` or an existing `creative_id`, exactly one."""

    # The creative is collected here so that it sees the campaign (an app carousel's cards).
    manual_fields = ("creative",)
    reserved_extra_params = frozenset({"adset_id"})

    name = StrictCharField(max_length=NAME_MAX_LENGTH)
    status = StrictChoiceField(rules.CREATE_STATUSES, default=rules.DEFAULT_STATUS)
    creative = CreativeSerializer(required=False, allow_null=True, default=None)
    creative_id = GraphIdField(required=False, allow_null=True, default=None)
    extra_params = ExtraParamsField()

    def check(
        self, values: dict[str, Any], errors: Errors, data: Mapping[str, Any], facts: Any
    ) -> None:
        raw = data.get("creative")
        if raw is None:
            values["creative"] = None
        else:
            creative, creative_errors = self.fields["creative"].collect(raw, facts)
            if creative_errors:
                errors["creative"] = creative_errors
            else:
                values["creative"] = creative
        has_creative = raw is not None
        has_creative_id = data.get("creative_id") is not None
        if has_creative and has_creative_id:
            add_error(
                errors, ["creative_id"], "Give creative or creative_id, not both.", "exclusive"
            )
        elif not has_creative and not has_creative_id:
            add_error(errors, ["creative"], "Give creative or creative_id.", "required")
