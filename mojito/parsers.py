"""Request parsers. Kept apart from mojito.api: DRF imports these while loading its settings."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, plus a 400 for bodies nested too deep for Python's JSON decoder
    (DRF catches only ValueError; RecursionError would be a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):  # type: ignore[no-untyped-def]
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
