"""Advantage+ creative: ``degrees_of_freedom_spec.creative_features_spec`` opts features in or
out one by one; the STANDARD_ENHANCEMENTS bundle is gone from v22.0.

Sources:
- Advantage+ creative, get started ("Starting with Marketing API v22.0 and applying to all
  subsequent versions, the opt-in and preview functionality for standard enhancements will be
  deprecated. Instead, you can opt-in to or preview individual Advantage+ creative features"):
  https://developers.facebook.com/documentation/ads-commerce/marketing-api/creative/advantage-creative/get-started
- v22.0 changelog (POST /act_<id>/adcreatives and POST /act_<id>/ads):
  https://developers.facebook.com/documentation/ads-commerce/marketing-api/marketing-api-changelog/version22.0
- Blog, January 17, 2025:
  https://developers.facebook.com/blog/post/2025/01/17/marketing-api-v22-impacts-to-advantage-plus-creative-enhancements/
- Degrees of freedom spec and features spec references:
  https://developers.facebook.com/docs/marketing-api/reference/ad-creative-degrees-of-freedom-spec
  https://developers.facebook.com/docs/marketing-api/reference/ad-creative-features-spec
"""

from __future__ import annotations

from typing import Any

from . import errors
from .enums import (
    CREATIVE_FEATURE_BUNDLES,
    CREATIVE_FEATURE_DETAILS,
    CREATIVE_FEATURES,
    ENROLL_STATUSES,
)

SPEC = "degrees_of_freedom_spec"
FEATURES = f"{SPEC}[creative_features_spec]"


def check_degrees_of_freedom(spec: Any, version: tuple[int, int]) -> None:
    if spec is None:
        return
    if not isinstance(spec, dict):
        raise errors.not_json(SPEC, "object")
    features = spec.get("creative_features_spec")
    if features is None:
        return
    if not isinstance(features, dict):
        raise errors.not_json(FEATURES, "object")
    for name, details in features.items():
        if name in CREATIVE_FEATURE_BUNDLES and version >= (22, 0):
            raise errors.invalid_parameter(
                "Standard enhancements no longer supported",
                "Opting ads in to and previewing ads using the STANDARD_ENHANCEMENTS bundle is "
                "no longer supported. Opt in to the individual Advantage+ creative features "
                "instead (for single images: image_templates, image_touchups, "
                "text_optimizations and inline_comment).",
                blame_fields=[SPEC, "creative_features_spec", name],
            )
        if name not in CREATIVE_FEATURES:
            raise errors.invalid_parameter(
                "Unknown Advantage+ creative feature",
                f"{name} is not an Advantage+ creative feature. See AdCreativeFeaturesSpec for "
                "the features you can opt in to or out of.",
                blame_fields=[SPEC, "creative_features_spec", name],
            )
        where = f"{FEATURES}[{name}]"
        if not isinstance(details, dict):
            raise errors.not_json(where, "object")
        unknown = sorted(set(details) - CREATIVE_FEATURE_DETAILS)
        if unknown:
            raise errors.invalid_parameter(
                "Invalid Advantage+ creative feature",
                f"{where} takes enroll_status and customizations, not {', '.join(unknown)}.",
                blame_fields=[SPEC, "creative_features_spec", name],
            )
        if details.get("enroll_status") not in ENROLL_STATUSES:
            raise errors.enum_param(f"{where}[enroll_status]", ENROLL_STATUSES)
        customizations = details.get("customizations")
        if customizations is not None and not isinstance(customizations, dict):
            raise errors.not_json(f"{where}[customizations]", "object")
