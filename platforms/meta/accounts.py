"""Meta ad account identity and credentials."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

# Meta's ad account node is `act_<numeric id>`; clients often paste the bare number.
_ACT_ID = re.compile(r"^(?:act_)?(\d{1,30})$")


class MetaCredentialsSerializer(serializers.Serializer):
    access_token = serializers.CharField(max_length=1024, trim_whitespace=True)
    app_secret = serializers.CharField(
        max_length=256, required=False, allow_blank=True, trim_whitespace=True
    )

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: ["Unknown credential field."] for key in unknown}, code="invalid"
                )
        return super().to_internal_value(data)


class MetaAccountSpec:
    def normalize_account_id(self, value: str) -> str:
        match = _ACT_ID.fullmatch(value.strip())
        if not match:
            raise serializers.ValidationError(
                "A Meta ad account ID is 'act_' followed by digits, e.g. act_1234567890.",
                code="invalid",
            )
        return f"act_{match.group(1)}"

    def clean_credentials(self, value: Any) -> dict[str, str]:
        serializer = MetaCredentialsSerializer(data=value)
        serializer.is_valid(raise_exception=True)
        cleaned = dict(serializer.validated_data)
        if not cleaned.get("app_secret"):
            cleaned.pop("app_secret", None)
        return cleaned
