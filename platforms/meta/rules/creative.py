"""Creative rules: formats, calls to action, media, carousel cards, Advantage+ creative features.

Sources: marketing-api/reference/ad-creative, reference/ad-creative-link-data-child-attachment,
creative/advantage-creative.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from facebook_business.adobjects.adcreativefeaturesspec import AdCreativeFeaturesSpec
from facebook_business.adobjects.adcreativelinkdatacalltoaction import (
    AdCreativeLinkDataCallToAction,
)

from platforms.meta.rules.sdk import sdk_values

# --- Creative ------------------------------------------------------------------------------

CALL_TO_ACTION_TYPES: Final = sdk_values(AdCreativeLinkDataCallToAction.Type)
MEDIA_FIELDS: Final = ("image_url", "image_hash", "video_url", "video_id")
THUMBNAIL_FIELDS: Final = ("thumbnail_url", "thumbnail_hash")

# Formats, named by what the creative shows (the values of platforms.meta.models.CreativeFormat).
FORMAT_IMAGE: Final = "IMAGE"
FORMAT_VIDEO: Final = "VIDEO"
FORMAT_CAROUSEL: Final = "CAROUSEL"
FORMAT_FACEBOOK_POST: Final = "FACEBOOK_POST"
FORMAT_INSTAGRAM_POST: Final = "INSTAGRAM_POST"
# The field that names a creative's content decides its format; exactly one per creative.
CREATIVE_SOURCE_BY_FORMAT: Final[Mapping[str, str]] = {
    FORMAT_CAROUSEL: "cards",
    FORMAT_FACEBOOK_POST: "object_story_id",
    FORMAT_INSTAGRAM_POST: "source_instagram_media_id",
}
CREATIVE_SOURCE_FIELDS: Final = (*MEDIA_FIELDS, *CREATIVE_SOURCE_BY_FORMAT.values())


def creative_format(source: str) -> str:
    """The format of a creative whose content is given by the field `source`."""
    if source in ("image_url", "image_hash"):
        return FORMAT_IMAGE
    if source in ("video_url", "video_id"):
        return FORMAT_VIDEO
    return next(fmt for fmt, field in CREATIVE_SOURCE_BY_FORMAT.items() if field == source)


# Carousel cards (link_data.child_attachments): "We require at least three for
# MOBILE_APP_INSTALLS or MOBILE_APP_ENGAGEMENT and two for other objectives"
# (instagram/ads-api/guides/carousel-ads; app promotion since the ODAX objectives), "Only 10
# children are allowed" (ad-creative/threads-ads/creation/carousel-ads). "Each attachment must
# have link specified"; with video_id, image_hash or picture too (blog 2015-10-21, "Video
# creative in carousel").
CAROUSEL_MIN_CARDS: Final = 2
CAROUSEL_MIN_CARDS_APP: Final = 3
CAROUSEL_MAX_CARDS: Final = 10

# Advantage+ creative (degrees_of_freedom_spec.creative_features_spec): since v22.0 features are
# opted in or out one by one, `{"<feature>": {"enroll_status": "OPT_IN" | "OPT_OUT"}}`.
# The features are the fields of Meta's reference/ad-creative-features-spec, which the SDK's
# AdCreativeFeaturesSpec is generated from ("Default is opt-in" for some, e.g.
# adapt_to_placement and description_automation); new ones come out of cycle (image_animation
# and video_filtering, 2026-06-28) and with the next SDK.
CREATIVE_FEATURE_OPT_IN: Final = "OPT_IN"
CREATIVE_FEATURE_OPT_OUT: Final = "OPT_OUT"
CREATIVE_FEATURE_STATUSES: Final = (CREATIVE_FEATURE_OPT_IN, CREATIVE_FEATURE_OPT_OUT)
# "Opting ads in to and previewing ads using the STANDARD_ENHANCEMENTS bundle is no longer
# supported" (changelog v22.0); the SDK still names it.
REMOVED_CREATIVE_FEATURES: Final[Mapping[str, str]] = {
    name: (
        "Meta removed the standard_enhancements bundle in Marketing API v22.0; opt in to its "
        "features one by one: image_templates, image_touchups, text_optimizations and "
        "inline_comment (video_auto_crop for videos)."
    )
    for name in ("standard_enhancements", "standard_enhancements_catalog")
}
CREATIVE_FEATURES: Final = frozenset(
    value
    for name, value in vars(AdCreativeFeaturesSpec.Field).items()
    if not name.startswith("_") and isinstance(value, str)
) - set(REMOVED_CREATIVE_FEATURES)
# Meta's own example (creative/advantage-creative/get-started) spells one feature this way.
CREATIVE_FEATURE_ALIASES: Final[Mapping[str, str]] = {"image_template": "image_templates"}
assert set(CREATIVE_FEATURE_ALIASES.values()) <= CREATIVE_FEATURES

# Creative fields Meta no longer takes, with what to do instead.
REFUSED_CREATIVE_PARAMS: Final[Mapping[str, str]] = {
    # Changelog v22.0: "The instagram_actor_id field ... is deprecated ... Please migrate your
    # API calls to use the new instagram_user_id field" (all versions since September 9, 2025).
    "instagram_actor_id": "Meta replaced instagram_actor_id with instagram_user_id (v22.0).",
    # Changelog v26.0: "Poll is no longer available in ad creative. The poll_spec field ... [is]
    # no longer available when creating or updating ads."
    "poll_spec": "Meta removed poll ads in Marketing API v26.0.",
}

# What `rules` shows of this module: its tables and functions, not its imports.
__all__ = [name for name in dir() if name.isupper()] + ["creative_format"]
