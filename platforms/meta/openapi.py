"""How the Meta request's serializers and fields read in the OpenAPI document.

drf-spectacular maps plain DRF fields by itself (lengths, ranges, nullability, enums, regex
patterns, `format: uri` from URLValidator). These extensions cover what it cannot see: the
JSON fields that check their content by hand (targeting, promoted_object), the ISO date-time
kept as a string, and the names and closedness of the serializers. Every value comes from
`platforms.meta.rules` or from the field itself, so the document follows the validator when
either changes. Loaded by `MetaPlatformConfig.ready()`.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent, append_meta, get_class

from mojito.openapi import without_null
from notifications.serializers import callback_url_field
from platforms.meta import rules
from platforms.meta.validation.fields import GraphIdField

_VALIDATION = "platforms.meta.validation"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` or null, in the document's OpenAPI version (3.1: a type list). An enum lists
    None itself, as spectacular writes a nullable choice field."""
    return append_meta(schema, {"nullable": True})


def _register(auto_schema: Any, name: str, schema: dict[str, Any]) -> dict[str, str]:
    """A named component for `schema`; returns the reference to it."""
    component = ResolvedComponent(
        name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
    )
    auto_schema.registry.register_on_missing(component)
    return component.ref


def _graph_id_pattern() -> str:
    """GraphIdField's pattern: digits (ECMA's \\d is ASCII only, as Meta's ids are)."""
    validators = GraphIdField().validators
    [pattern] = [v.regex.pattern for v in validators if isinstance(v, RegexValidator)]
    return pattern


class MetaSerializerExtension(OpenApiSerializerExtension):
    """Every level of the request as a closed object named Meta<Level>: MetaSerializer answers
    "Unknown field." to any key it does not declare, and bare names (Campaign, AdSet, Ad)
    would read as the API's own objects."""

    target_class = f"{_VALIDATION}.base.MetaSerializer"
    match_subclasses = True

    def get_name(self, auto_schema: Any, direction: str) -> str:
        name = get_class(self.target).__name__.removesuffix("Serializer")
        return name if name.startswith("Meta") else f"Meta{name}"

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["additionalProperties"] = False
        if get_class(self.target).__name__ == "MetaAdRequestSerializer":
            # The generic app takes `callback_url` out of the body before this validator sees
            # it (campaigns.services.job_submit); the document names it with the rest.
            schema["properties"]["callback_url"] = auto_schema._map_serializer_field(
                callback_url_field(), direction
            )
        return schema


class AwareDateTimeFieldExtension(OpenApiSerializerFieldExtension):
    """An ISO-8601 string with an offset: `format: date-time` (RFC 3339 always carries one)."""

    target_class = f"{_VALIDATION}.fields.AwareDateTimeField"
    match_subclasses = True
    priority = 1  # before mojito.api's CharField extension

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        schema = without_null(schema)
        schema["format"] = "date-time"
        return schema


class TargetingFieldExtension(OpenApiSerializerFieldExtension):
    """TargetingField checks locations, ages and genders; every other key goes to Meta as is."""

    target_class = f"{_VALIDATION}.targeting.TargetingField"
    match_subclasses = True
    priority = 1

    def get_name(self) -> str:
        return "MetaTargeting"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        age = {"type": "integer", "minimum": rules.AGE_MIN, "maximum": rules.AGE_MAX}
        properties: dict[str, Any] = {
            "geo_locations": _register(
                auto_schema, "MetaGeoLocations", self._geo_locations(auto_schema)
            ),
            "age_min": {**age, "description": f"Default {rules.DEFAULT_AGE_MIN}."},
            "age_max": {**age, "description": "At least age_min."},
            "genders": _nullable(
                {
                    "type": "array",
                    "items": _register(
                        auto_schema,
                        "MetaGenderEnum",
                        {"type": "integer", "enum": sorted(rules.GENDERS)},
                    ),
                    "description": "1 men, 2 women; absent or null: all.",
                }
            ),
            "targeting_automation": {
                "type": "object",
                "properties": {
                    "advantage_audience": _nullable(
                        {
                            "type": "integer",
                            "enum": [*rules.ADVANTAGE_AUDIENCE_VALUES, None],
                            "description": "Advantage+ audience. When absent mojito sends 0 if "
                            "the targeting narrows age, gender, custom audiences or detailed "
                            "targeting, else 1.",
                        }
                    ),
                    "individual_setting": _nullable(
                        {
                            "type": "object",
                            "additionalProperties": {"type": "integer"},
                            "description": 'Relaxations, 0 or 1 per setting: {"age": 1}.',
                        }
                    ),
                },
                "additionalProperties": True,
            },
        }
        properties["age_range"] = {
            "type": "array",
            "items": age,
            "minItems": 2,
            "maxItems": 2,
            "description": "[min, max]: a suggestion to Advantage+ audience.",
        }
        for key in rules.POSITION_FIELDS:
            removed = sorted(rules.REMOVED_POSITIONS.get(key, {}))
            item: dict[str, Any] = {"type": "string"}
            if removed:
                item["not"] = {"enum": removed}
                item["description"] = f"Removed by Meta: {', '.join(removed)}."
            properties[key] = {"type": "array", "items": item}
        return {
            "type": "object",
            "description": "Meta's targeting spec. Keys not listed here pass through to Meta "
            "unchanged.",
            "properties": properties,
            "required": ["geo_locations"],
            "additionalProperties": True,
        }

    @staticmethod
    def _geo_locations(auto_schema: Any) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for key in rules.GEO_LOCATION_KEYS:
            schema: dict[str, Any] = {"type": "array", "items": {}}
            if key == "countries":
                # A component: the enum hook does not reach into nullable arrays.
                schema["items"] = _register(
                    auto_schema,
                    "MetaCountryEnum",
                    {"type": "string", "enum": sorted(rules.COUNTRY_CODES)},
                )
            limit = rules.GEO_LOCATION_LIMITS.get(key)
            if limit is not None:
                schema["maxItems"] = limit
            properties[key] = _nullable(schema)
        return {
            "type": "object",
            "description": "Give at least one of: "
            + ", ".join(rules.GEO_LOCATION_KEYS)
            + ". Other keys (location_types...) pass through to Meta unchanged.",
            "properties": properties,
            "additionalProperties": True,
        }


class PromotedObjectFieldExtension(OpenApiSerializerFieldExtension):
    """PromotedObjectField checks its ids, event type and store URL; other keys pass through."""

    target_class = f"{_VALIDATION}.ad_set.PromotedObjectField"
    match_subclasses = True
    priority = 1

    def get_name(self) -> str:
        return "MetaPromotedObject"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        # Ids travel as digit strings; a positive JSON integer is taken too (made a string).
        graph_id = {
            "oneOf": [
                {"type": "string", "pattern": _graph_id_pattern()},
                {"type": "integer", "minimum": 1},
            ]
        }
        properties: dict[str, Any] = {
            key: graph_id for key in sorted(rules.PROMOTED_OBJECT_ID_KEYS)
        }
        properties["custom_event_type"] = _nullable(
            {
                "type": "string",
                "enum": [*sorted(rules.CUSTOM_EVENT_TYPES), None],
                "description": "Required with pixel_id.",
            }
        )
        properties["object_store_url"] = _nullable(
            {"type": "string", "format": "uri", "description": "Needs application_id."}
        )
        return {
            "type": "object",
            "description": "What the ad set promotes. The keys Meta requires depend on the "
            "campaign's objective and the optimization goal (a 400 names them). Other keys pass "
            "through to Meta unchanged.",
            "properties": properties,
            "additionalProperties": True,
        }


class CreativeFeaturesFieldExtension(OpenApiSerializerFieldExtension):
    """creative_features names only the Advantage+ creative features mojito knows."""

    target_class = f"{_VALIDATION}.creative.CreativeFeaturesField"
    match_subclasses = True
    priority = 1

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        status = _register(
            auto_schema,
            "MetaCreativeFeatureStatusEnum",
            {"type": "string", "enum": list(rules.CREATIVE_FEATURE_STATUSES)},
        )
        # Spectacular adds the field's "or null" itself.
        return {
            "type": "object",
            "properties": {name: status for name in sorted(rules.CREATIVE_FEATURES)},
            "additionalProperties": False,
            "description": "Advantage+ creative features to opt in to "
            "(degrees_of_freedom_spec.creative_features_spec); every feature not named is sent "
            "OPT_OUT.",
        }
