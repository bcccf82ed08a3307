"""Request parsers. Kept apart from mojito.api: DRF imports these while loading its settings."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser

NULL_CHARACTER_MESSAGE = "Null characters are not allowed."


def null_character_errors(data: Any, path: str = "") -> dict[str, str]:
    """Paths of strings (keys included) holding U+0000, which PostgreSQL cannot store (in text
    or in JSONB), by dotted path with list indexes as the 400 names fields."""
    errors: dict[str, str] = {}
    if isinstance(data, str):
        if "\x00" in data:
            errors[path or "non_field_errors"] = NULL_CHARACTER_MESSAGE
    elif isinstance(data, dict):
        for key, value in data.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                errors[child.replace("\x00", "")] = NULL_CHARACTER_MESSAGE
            else:
                errors.update(null_character_errors(value, child))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            errors.update(null_character_errors(value, f"{path}.{index}" if path else str(index)))
    return errors


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, plus a 400 for bodies nested too deep for Python's JSON decoder
    (DRF catches only ValueError; RecursionError would be a 500), and a 400 naming every
    string that holds U+0000: JSON allows it, PostgreSQL does not, and a body can reach a
    JSONB column through any serializer (a targeting key, an ad account's additional_config),
    so refusing it here keeps each endpoint from having to remember."""

    def parse(self, stream, media_type=None, parser_context=None):  # type: ignore[no-untyped-def]
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        errors = null_character_errors(data)
        if errors:
            raise serializers.ValidationError(errors)
        return data
