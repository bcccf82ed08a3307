"""Request parsers. Kept apart from mojito.api: DRF imports these while loading its settings.

Every parser the API enables refuses U+0000 with a 400 naming the field: JSON, forms and
multipart all allow it, PostgreSQL stores it in neither text nor JSONB, and a body can reach a
JSONB column through any serializer (a targeting key, an ad account's additional_config), so
refusing it here keeps each endpoint from having to remember. The code is the one DRF's
CharField gives the same mistake (Django's ProhibitNullCharactersValidator), so a client sees
one code for it whichever way it sent the body.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions, serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.parsers import DataAndFiles, FormParser, JSONParser, MultiPartParser

NULL_CHARACTER_MESSAGE = ProhibitNullCharactersValidator.message
NULL_CHARACTER_CODE = ProhibitNullCharactersValidator.code


def _null_character_error() -> ErrorDetail:
    return ErrorDetail(str(NULL_CHARACTER_MESSAGE), code=NULL_CHARACTER_CODE)


def null_character_errors(data: Any, path: str = "") -> dict[str, ErrorDetail]:
    """Paths of strings (keys included) holding U+0000, which PostgreSQL cannot store (in text
    or in JSONB), by dotted path with list indexes as the 400 names fields. Each error carries
    its code, so a `ValidationError` of them answers `null_characters_not_allowed` whoever
    raises it."""
    errors: dict[str, ErrorDetail] = {}
    if isinstance(data, str):
        if "\x00" in data:
            errors[path or "non_field_errors"] = _null_character_error()
    elif isinstance(data, dict):
        for key, value in data.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                errors[child.replace("\x00", "")] = _null_character_error()
            else:
                errors.update(null_character_errors(value, child))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            errors.update(null_character_errors(value, f"{path}.{index}" if path else str(index)))
    return errors


def refuse_null_characters(data: Any) -> None:
    errors = null_character_errors(data)
    if errors:
        raise serializers.ValidationError(errors)


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, plus a 400 for bodies nested too deep for Python's JSON decoder
    (DRF catches only ValueError; RecursionError would be a 500), and U+0000 refused."""

    def parse(self, stream, media_type=None, parser_context=None):  # type: ignore[no-untyped-def]
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        refuse_null_characters(data)
        return data


def _fields(data: MultiValueDict) -> dict[str, str]:
    """A form's fields, each with its values joined: a field may repeat (`a=1&a=2`), and any of
    its values holding U+0000 names the field."""
    return {key: "".join(map(str, values)) for key, values in data.lists()}


class SafeFormParser(FormParser):
    """DRF's form parser (the browsable API's HTML forms), with U+0000 refused."""

    def parse(self, stream, media_type=None, parser_context=None) -> QueryDict:  # type: ignore[no-untyped-def]
        data = super().parse(stream, media_type, parser_context)
        refuse_null_characters(_fields(data))
        return data


class SafeMultiPartParser(MultiPartParser):
    """DRF's multipart parser, with U+0000 refused in the fields and in the uploads' names
    (a file's name is stored as text too)."""

    def parse(self, stream, media_type=None, parser_context=None) -> DataAndFiles:  # type: ignore[no-untyped-def]
        parsed = super().parse(stream, media_type, parser_context)
        uploads = {
            key: "".join(upload.name or "" for upload in files)
            for key, files in parsed.files.lists()
        }
        refuse_null_characters({**_fields(parsed.data), **uploads})
        return parsed
