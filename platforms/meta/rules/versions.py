"""Graph API versions: the one the rules here were checked against, and the oldest Meta serves.

Source: marketing-api/marketing-api-changelog/versions ("v24.0 | October 8, 2025 | November
10, 2026"; "v25.0 | February 18, 2026 | February 23, 2027"; v26.0 and v27.0 without an end).
"""

from __future__ import annotations

from typing import Final

# The version of the pinned SDK (facebook_business/apiconfig.py) and of these rules.
RULES_API_VERSION: Final = "v26.0"
# Meta answers calls to an expired Marketing API version with an error (code 2635).
OLDEST_SERVED_API_VERSION: Final = "v25.0"


def version_tuple(version: str) -> tuple[int, int]:
    """ "v26.0" -> (26, 0)."""
    major, _, minor = version.removeprefix("v").partition(".")
    return int(major), int(minor or 0)
