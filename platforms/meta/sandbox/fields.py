"""``fields=`` parsing, ``filtering=`` evaluation and cursor paging for edge lists.

- Field expansion: ``fields=name,campaign{name,status},adsets.limit(5){name}`` (Graph API,
  "Using the Graph API: field expansion"); modifiers such as ``.limit(n)`` are accepted and the
  limit is applied.
- Filtering: a JSON list of ``{"field", "operator", "value"}`` (Marketing API edges, "filtering:
  list<Filter Object>", operators in ``enums.FILTER_OPERATORS``).
- Paging: ``limit``, ``after``/``before`` cursors, ``paging.cursors`` and ``paging.next`` (Graph
  API "Paginated results": cursor-based pagination; ``next`` is absent on the last page).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .enums import FILTER_OPERATORS

DEFAULT_LIMIT = 25
MAX_LIMIT = 5000


@dataclass
class FieldSpec:
    name: str
    limit: int | None = None
    children: list[FieldSpec] | None = field(default=None)


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


_FIELD_RE = re.compile(r"^([A-Za-z0-9_]+)((?:\.[a-z_]+\([^)]*\))*)(?:\{(.*)\})?$", re.DOTALL)


def parse_fields(text: str | list[str] | None) -> list[FieldSpec] | None:
    if text is None or text == "":
        return None
    if isinstance(text, str) and text.lstrip().startswith("["):
        # A JSON array, as the SDK sends list<string> fields in a POST body (an insights
        # report run's `fields`).
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        if isinstance(decoded, list):
            text = decoded
    if isinstance(text, list):
        text = ",".join(str(item) for item in text)
    specs: list[FieldSpec] = []
    for part in _split_top_level(text):
        match = _FIELD_RE.match(part)
        if not match:
            raise errors.GraphError(
                f'Syntax error "Expected end of string instead of '
                f'"{part}"." at character 0: {text}',
                code=2500,
            )
        name, modifiers, nested = match.groups()
        limit = None
        limit_match = re.search(r"\.limit\((\d+)\)", modifiers or "")
        if limit_match:
            limit = int(limit_match.group(1))
        children = parse_fields(nested) if nested is not None else None
        specs.append(FieldSpec(name=name, limit=limit, children=children))
    return specs


# --- filtering ---------------------------------------------------------------------------------


def parse_filtering(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise errors.not_json("filtering", "array")
    filters = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise errors.not_json(f"filtering[{index}]", "object")
        for key in ("field", "operator"):
            if key not in item:
                raise errors.required_param(f"filtering[{index}][{key}]")
        if "value" not in item and item["operator"] not in ("NONE",):
            raise errors.required_param(f"filtering[{index}][value]")
        operator = str(item["operator"]).upper()
        if operator not in FILTER_OPERATORS:
            raise errors.enum_param(f"filtering[{index}][operator]", FILTER_OPERATORS)
        filters.append(
            {"field": str(item["field"]), "operator": operator, "value": item.get("value")}
        )
    return filters


def _lookup(view: dict[str, Any], path: str) -> Any:
    current: Any = view
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list):
            current = [item.get(part) if isinstance(item, dict) else None for item in current]
        else:
            return None
    return current


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value.startswith("["):
        try:
            decoded = json.loads(value)
        except ValueError:
            return [value]
        return decoded if isinstance(decoded, list) else [decoded]
    return [value]


def _scalars(value: Any) -> list[str]:
    """The comparable strings inside a field value (ad labels compare by name and id)."""
    items = value if isinstance(value, list) else [value]
    result: list[str] = []
    for item in items:
        if isinstance(item, dict):
            result.extend(str(v) for k, v in item.items() if k in ("id", "name"))
        elif item is not None:
            result.append(str(item))
    return result


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def matches(view: dict[str, Any], flt: dict[str, Any]) -> bool:
    actual = _lookup(view, flt["field"])
    operator = flt["operator"]
    expected = flt["value"]
    values = _scalars(actual)
    wanted = [str(v) for v in _as_list(expected)]
    first = values[0] if values else None
    if operator == "EQUAL":
        return str(expected) in values if isinstance(actual, list) else first == str(expected)
    if operator == "NOT_EQUAL":
        return str(expected) not in values
    if operator in ("IN", "ANY", "CONTAINS_ANY"):
        return any(v in wanted for v in values)
    if operator in ("NOT_IN", "NONE", "NOT_CONTAINS_ANY"):
        return not any(v in wanted for v in values)
    if operator in ("ALL", "CONTAINS_ALL"):
        return all(w in values for w in wanted)
    if operator == "CONTAIN":
        needle = str(expected).lower()
        return any(needle in v.lower() for v in values)
    if operator == "NOT_CONTAIN":
        needle = str(expected).lower()
        return not any(needle in v.lower() for v in values)
    if operator == "STEM_MATCH":
        needle = str(expected).lower()
        return any(v.lower().startswith(needle) for v in values)
    if operator == "STARTS_WITH":
        return any(v.startswith(str(expected)) for v in values)
    if operator == "ENDS_WITH":
        return any(v.endswith(str(expected)) for v in values)
    number = _number(first)
    if operator in ("IN_RANGE", "NOT_IN_RANGE"):
        bounds = [_number(b) for b in _as_list(expected)]
        if number is None or len(bounds) != 2 or None in bounds:
            return operator == "NOT_IN_RANGE"
        low, high = bounds  # type: ignore[misc]
        inside = low <= number <= high
        return inside if operator == "IN_RANGE" else not inside
    target = _number(expected)
    if number is None or target is None:
        return False
    comparisons = {
        "GREATER_THAN": number > target,
        "AFTER": number > target,
        "GREATER_THAN_OR_EQUAL": number >= target,
        "ON_OR_AFTER": number >= target,
        "LESS_THAN": number < target,
        "BEFORE": number < target,
        "LESS_THAN_OR_EQUAL": number <= target,
        "ON_OR_BEFORE": number <= target,
    }
    return comparisons.get(operator, False)


# --- paging ------------------------------------------------------------------------------------


def encode_cursor(object_id: str) -> str:
    return base64.urlsafe_b64encode(object_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.urlsafe_b64decode(padded.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def parse_limit(value: Any) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise errors.not_integer("limit") from None
    return max(1, min(limit, MAX_LIMIT))


def page(
    ids: list[str], *, limit: int, after: str | None, before: str | None
) -> tuple[list[str], dict[str, Any], bool, bool]:
    """Slice ``ids`` for one page. Returns (page ids, cursors, has_next, has_previous)."""
    start = 0
    end = len(ids)
    if after:
        anchor = decode_cursor(after)
        if anchor in ids:
            start = ids.index(anchor) + 1
    if before:
        anchor = decode_cursor(before)
        if anchor in ids:
            end = ids.index(anchor)
            start = max(0, end - limit)
    chunk = ids[start : min(end, start + limit)]
    cursors: dict[str, Any] = {}
    if chunk:
        cursors = {"before": encode_cursor(chunk[0]), "after": encode_cursor(chunk[-1])}
    has_next = start + len(chunk) < len(ids) and bool(chunk)
    has_previous = start > 0
    return chunk, cursors, has_next, has_previous
