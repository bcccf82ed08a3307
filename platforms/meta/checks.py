"""System checks on the Meta configuration (`manage.py check`, and before every command)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from platforms.meta.rules.versions import (
    OLDEST_SERVED_API_VERSION,
    RULES_API_VERSION,
    version_tuple,
)

_README = "platforms/meta/README.md, 'Moving to the next API version'"


def check_api_version(**kwargs: Any) -> list[CheckMessage]:
    version = settings.META_API_VERSION
    if version_tuple(version) < version_tuple(OLDEST_SERVED_API_VERSION):
        return [
            Error(
                f"META_API_VERSION {version} is older than {OLDEST_SERVED_API_VERSION}, the "
                "oldest Marketing API version Meta still serves.",
                hint=f"Leave META_API_VERSION unset (the SDK's version) or see {_README}.",
                id="meta.E001",
            )
        ]
    if version_tuple(version) > version_tuple(RULES_API_VERSION):
        return [
            Warning(
                f"META_API_VERSION {version} is newer than {RULES_API_VERSION}, the version "
                "mojito's rules and the pinned SDK were checked against.",
                hint=f"Read Meta's changelog for it first: {_README}.",
                id="meta.W001",
            )
        ]
    return []
