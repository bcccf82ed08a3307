"""The building blocks of validation: strict JSON fields and the nested error structure.

DRF's fields coerce (123 -> "123", "5" -> 5, "true" -> True); a JSON API should not guess, so
every field here takes only the JSON type it names. Errors are a nested dict/list structure
that drf-standardized-errors flattens into attrs such as `ad_sets.1.ads.0.creative.image_url`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from django.core.validators import RegexValidator, URLValidator
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

Errors = dict[str, Any]

NAME_MAX_LENGTH = 400
EXPECTED_OBJECT = "Expected a JSON object."


def detail(message: str, code: str) -> ErrorDetail:
    return ErrorDetail(message, code=code)


def add_error(errors: Errors, path: Sequence[str | int], message: str, code: str) -> None:
    """Attach one error at `path` (keys and list indexes) inside a nested error structure."""
    error = detail(message, code)
    node: Any = errors
    for position, key in enumerate(path):
        last = position == len(path) - 1
        if isinstance(node, list):
            assert isinstance(key, int)
            while len(node) <= key:
                node.append({})
            child = node[key]
        else:
            child = node.get(key)
        if last:
            if isinstance(child, list) and all(isinstance(item, ErrorDetail) for item in child):
                child.append(error)
            elif not child:
                node[key] = [error]
            else:
                # Nested errors already sit below this key: keep them and add ours beside them.
                child.setdefault("non_field_errors", []).append(error)
            return
        if child and isinstance(child, list) and isinstance(child[0], ErrorDetail):
            # The container itself is already invalid (e.g. "Expected a JSON object.").
            child.append(error)
            return
        if not child:
            child = [] if isinstance(path[position + 1], int) else {}
            node[key] = child
        node = child


# --- Fields -----------------------------------------------------------------------------------
# DRF's fields coerce (123 -> "123", "5" -> 5, "true" -> True); a JSON API should not guess.


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictChoiceField(serializers.ChoiceField):
    def __init__(self, choices: Any, **kwargs: Any) -> None:
        super().__init__(sorted(choices), **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


# Amounts are stored as 64-bit integers (Meta's too); nothing larger can be a real budget.
MONEY_MAX = 2**63 - 1


class MoneyField(StrictIntegerField):
    """An amount in the account currency's minor unit. Meta's per-currency minimums depend on
    the account, which validation does not see, so only `>= 1` is checked here."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("default", None)
        super().__init__(min_value=1, max_value=MONEY_MAX, **kwargs)


class GraphIdField(StrictCharField):
    """A Graph object id: Meta ids are numeric strings (kept as strings: they exceed 2**53)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=32,
            validators=[RegexValidator(r"^[0-9]+$", "Must be a string of digits.", code="invalid")],
            **kwargs,
        )


class HttpUrlField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=2048,
            validators=[
                URLValidator(schemes=["http", "https"], message="Enter an http(s) URL with a host.")
            ],
            **kwargs,
        )


class AwareDateTimeField(StrictCharField):
    """ISO-8601 with an explicit offset, kept as an ISO string (the payload is stored as JSON).

    Meta reads a time without offset in the ad account's timezone, which the caller may not know:
    refuse the ambiguity.
    """

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            parsed = parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError(
                "Expected an ISO-8601 date-time, e.g. 2026-12-01T00:00:00Z.", code="invalid"
            )
        if parsed.tzinfo is None:
            raise ValidationError(
                "Give a timezone (Z or an offset such as +02:00).", code="timezone_required"
            )
        try:
            # A time that leaves Python's range once in UTC could be stored but never read.
            parsed.astimezone(UTC)
        except OverflowError:
            raise ValidationError("The date-time is out of range.", code="invalid") from None
        return parsed.isoformat()


class ExtraParamsField(serializers.DictField):
    """Further Graph fields passed through unchanged (null counts as {})."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, default=dict, **kwargs)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
