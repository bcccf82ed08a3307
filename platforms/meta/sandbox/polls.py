"""Poll ads are gone: no ``poll_spec`` and no ``poll`` component in ``interactive_components_spec``
on new creatives, and no ad may switch to a poll creative.

Source: v26.0 changelog, "Poll is no longer available in ad creative" ("Applies to v26.0+. Will
apply to all versions October 27, 2026" — a date now past, so every version refuses them):
https://developers.facebook.com/documentation/ads-commerce/marketing-api/marketing-api-changelog/version26.0
and the v26.0 blog ("requests that create poll creatives or change an ad to use a poll creative
are rejected; updates to existing ads that don't change the creative remain supported"):
https://developers.facebook.com/blog/post/2026/07/29/introducing-graph-api-v26-and-marketing-api-v26/?locale=zh_CN
"""

from __future__ import annotations

from typing import Any

from . import errors

POLL_MESSAGE = (
    'Poll is no longer available in ad creative. The poll_spec field and the "poll" enum '
    "value for the type field under interactive_components_spec are no longer available when "
    "creating or updating ads."
)


def _poll_components(spec: Any) -> bool:
    if not isinstance(spec, dict):
        return False
    groups = [spec.get("components")] + [
        card.get("components")
        for card in spec.get("child_attachments") or []
        if isinstance(card, dict)
    ]
    return any(
        isinstance(component, dict) and str(component.get("type", "")).lower() == "poll"
        for group in groups
        if isinstance(group, list)
        for component in group
    )


def poll_field(creative: dict[str, Any]) -> str | None:
    """The field that makes these creative fields a poll, if any."""
    if creative.get("poll_spec") not in (None, "", {}):
        return "poll_spec"
    if _poll_components(creative.get("interactive_components_spec")):
        return "interactive_components_spec"
    return None


def refuse_poll(creative: dict[str, Any], where: str = "") -> None:
    field = poll_field(creative)
    if field is None:
        return
    raise errors.invalid_parameter(
        "Poll ads are no longer available",
        POLL_MESSAGE,
        blame_fields=[f"{where}[{field}]" if where else field],
    )
