"""Query parameters every API view reads the same way: pages and boolean flags.

Kept apart from `mojito.api`: `PageNumberPagination` is DRF's DEFAULT_PAGINATION_CLASS, which
DRF imports while its generic views are being defined, so this module imports no views.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, pagination
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's, except that an empty `?page=` is an invalid page (404) like `?page=x`: DRF reads
    it as page 1, so a client's broken page link would silently restart the list. Its schema
    says "or null" in the document's OpenAPI version (DRF writes 3.0's `nullable`)."""

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # Imported here: this module is a DRF setting, loaded while DRF's generic views are
        # defined, which spectacular's modules import.
        from drf_spectacular.plumbing import append_meta

        from mojito.openapi import without_null

        paginated = super().get_paginated_response_schema(schema)
        for key in ("next", "previous"):
            link = paginated["properties"][key]
            paginated["properties"][key] = append_meta(without_null(link), {"nullable": True})
        return paginated

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        page_number = request.query_params.get(self.page_query_param)
        if page_number is not None and not page_number.strip():
            raise exceptions.NotFound(
                self.invalid_page_message.format(page_number="", message="No page number.")
            )
        return super().get_page_number(request, paginator)


_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


def query_flag(request: Request, name: str) -> bool:
    """A boolean query parameter: absent is false; true/false/1/0 (any case); else a 400 naming
    it. `?validate_only=maybe` must not quietly submit for real."""
    raw = request.query_params.get(name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value not in _TRUE | _FALSE:
        raise exceptions.ValidationError({name: ["Must be true or false (or 1 / 0)."]})
    return value in _TRUE
