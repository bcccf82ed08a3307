"""Account rules for platforms that have no package of their own yet."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class GenericAccountSpec:
    def normalize_account_id(self, value: str) -> str:
        value = value.strip()
        if not _ACCOUNT_ID.fullmatch(value):
            raise serializers.ValidationError(
                "Must be 1-64 letters, digits, '-' or '_'.", code="invalid"
            )
        return value

    def clean_credentials(self, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be an object.", code="invalid")
        errors = {
            key: ["Must be a non-empty string of at most 4096 characters."]
            for key, item in value.items()
            if not isinstance(item, str) or not item or len(item) > 4096
        }
        if errors:
            raise serializers.ValidationError(errors, code="invalid")
        return dict(value)
