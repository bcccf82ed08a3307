"""Rules on ad account fields shared by the API and the admin."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError

from adaccounts.models import AdAccount, Team

ADDITIONAL_CONFIG_MAX_BYTES = 16 * 1024
OWNER_OUTSIDE_TEAM_MESSAGE = "The owner must be a member of the account's team."


def validate_additional_config(value: Any) -> dict[str, Any]:
    """A JSON object of bounded size; returns it."""
    if not isinstance(value, dict):
        raise ValidationError("Must be a JSON object.", code="invalid")
    if len(json.dumps(value)) > ADDITIONAL_CONFIG_MAX_BYTES:
        raise ValidationError(
            f"Must be at most {ADDITIONAL_CONFIG_MAX_BYTES} bytes as JSON.", code="max_length"
        )
    return value


def owner_outside_team(owner: Any, team: Team | None) -> bool:
    """An account's owner must belong to its team (superusers may own any account)."""
    if owner is None or team is None or owner.is_superuser:
        return False
    return not team.members.filter(pk=owner.pk).exists()


def live_duplicate_exists(*, platform_type: str, account_id: str, exclude_pk: Any = None) -> bool:
    """Another live account has this platform ID already. The database's constraint decides
    the race this check cannot; this turns the common case into an error on the field."""
    clash = AdAccount.objects.live().filter(
        platform_type=platform_type, platform_account_id=account_id
    )
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    return clash.exists()
