"""Rules on ad account fields shared by the API and the admin."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError

ADDITIONAL_CONFIG_MAX_BYTES = 16 * 1024


def validate_additional_config(value: Any) -> dict[str, Any]:
    """A JSON object of bounded size; returns it."""
    if not isinstance(value, dict):
        raise ValidationError("Must be a JSON object.", code="invalid")
    if len(json.dumps(value)) > ADDITIONAL_CONFIG_MAX_BYTES:
        raise ValidationError(
            f"Must be at most {ADDITIONAL_CONFIG_MAX_BYTES} bytes as JSON.", code="max_length"
        )
    return value
