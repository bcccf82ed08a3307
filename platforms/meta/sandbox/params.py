"""Typed access to Graph parameters as clients send them.

The facebook-business SDK (``FacebookAdsApi.call``) sends GET/DELETE parameters in the query
string and POST parameters form-encoded (multipart when files are attached); dicts, lists and
booleans are JSON-encoded first (``_top_level_param_json_encode``), and the session adds
``access_token``/``appsecret_proof`` to every query string. Raw clients may also send a JSON body
with real JSON values. Every getter accepts both forms.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import errors

VERSION_RE = re.compile(r"^v(\d+)\.(\d+)$")


@dataclass
class UploadedFile:
    field: str
    filename: str
    content: bytes
    content_type: str | None = None


def parse_version(text: str) -> tuple[int, int] | None:
    match = VERSION_RE.match(text)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))


class Params:
    """A read-only view over one request's parameters (strings or already-decoded JSON)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __contains__(self, name: str) -> bool:
        return name in self.values and self.values[name] is not None

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def present(self, name: str) -> bool:
        value = self.values.get(name)
        return value is not None and value != ""

    def str(self, name: str, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise errors.required_param(name)
            return None
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)

    def enum(
        self, name: str, allowed: tuple[str, ...] | frozenset[str], *, required: bool = False
    ) -> str | None:
        value = self.str(name, required=required)
        if value is None:
            return None
        if value not in allowed:
            raise errors.enum_param(
                name, sorted(allowed) if isinstance(allowed, frozenset) else allowed
            )
        return value

    def int(self, name: str, *, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise errors.required_param(name)
            return None
        if isinstance(value, bool):
            raise errors.not_integer(name)
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if not re.fullmatch(r"-?\d+", text):
            raise errors.not_integer(name)
        return int(text)

    def bool(self, name: str) -> bool | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise errors.not_bool(name)

    def json(self, name: str, kind: type, *, required: bool = False) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise errors.required_param(name)
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                if kind is list and re.fullmatch(r"[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*", value):
                    # Graph also takes "A,B" for simple lists of names.
                    value = value.split(",")
                else:
                    raise errors.not_json(name, "array" if kind is list else "object") from None
        if not isinstance(value, kind):
            raise errors.not_json(name, "array" if kind is list else "object")
        return value

    def datetime(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        parsed = parse_datetime(value)
        if parsed is None:
            raise errors.GraphError(
                f"(#100) Param {name} must be a valid unix timestamp or ISO 8601 datetime",
                code=100,
            )
        return parsed


def parse_datetime(value: Any) -> float | None:
    """Unix seconds from the forms Meta documents: UNIX timestamps, ISO 8601 with or without a
    colon in the offset (``2026-05-12T10:45:09-0700``), ``2015-03-12 23:59:59-07:00``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    text = text.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", text) else text
    text = re.sub(r"Z$", "+00:00", text)
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def format_time(seconds: float) -> str:
    """Meta's datetime format in responses: ``2026-05-12T17:45:09+0000``."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
