"""Request parsers. Kept apart from mojito.api: DRF imports these while loading its settings.

Every parser the API enables refuses U+0000 with a 400 naming the field: JSON, forms and
multipart all allow it, PostgreSQL stores it in neither text nor JSONB, and a body can reach a
JSONB column through any serializer (a targeting key, an ad account's additional_config), so
refusing it here keeps each endpoint from having to remember. The code is the one DRF's
CharField gives the same mistake (Django's ProhibitNullCharactersValidator), so a client sees
one code for it whichever way it sent the body.
"""

from __future__ import annotations

import json
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


def _form_errors(data: MultiValueDict) -> dict[str, ErrorDetail]:
    """U+0000 in a form's fields (any of a repeated field's values), and in what a value
    decodes to as JSON: a form carries a JSON field (`additional_config`) as text, which DRF's
    JSONField decodes, so `{"a": "\\u0000"}` holds a NUL only then. A value that is JSON but
    meant as text (a name `"\\u0000"`) is refused too: a 400 rather than a guess."""
    errors: dict[str, ErrorDetail] = {}
    for key, values in data.lists():
        for value in values:
            errors.update(null_character_errors({key: value}))
            if not isinstance(value, str) or "\\" not in value:
                continue  # no escape, so no NUL that decoding could bring
            try:
                decoded = json.loads(value)
            except (ValueError, RecursionError):
                continue  # not JSON (or beyond the decoder): nothing decoding would bring
            errors.update(null_character_errors(decoded, key))
    return errors


def _refuse_in_form(data: MultiValueDict) -> None:
    errors = _form_errors(data)
    if errors:
        raise serializers.ValidationError(errors)


class SafeFormParser(FormParser):
    """DRF's form parser (the browsable API's HTML forms), with U+0000 refused."""

    def parse(self, stream, media_type=None, parser_context=None) -> QueryDict:  # type: ignore[no-untyped-def]
        data = super().parse(stream, media_type, parser_context)
        _refuse_in_form(data)
        return data


class SafeMultiPartParser(MultiPartParser):
    """DRF's multipart parser, with U+0000 refused in the fields and in the uploads' names
    (a file's name is stored as text too)."""

    def parse(self, stream, media_type=None, parser_context=None) -> DataAndFiles:  # type: ignore[no-untyped-def]
        parsed = super().parse(stream, media_type, parser_context)
        uploads = MultiValueDict(
            {key: [upload.name or "" for upload in files] for key, files in parsed.files.lists()}
        )
        errors = {**_form_errors(parsed.data), **_form_errors(uploads)}
        if errors:
            raise serializers.ValidationError(errors)
        return parsed
