"""Query parameters every API view reads the same way: pages and boolean flags.

Kept apart from `mojito.api`: `PageNumberPagination` is DRF's DEFAULT_PAGINATION_CLASS, which
DRF imports while its generic views are being defined, so this module imports no views.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions, pagination
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's, except that an empty `?page=` is an invalid page (404) like `?page=x`: DRF reads
    it as page 1, so a client's broken page link would silently restart the list. Its schema
    says "or null" in the document's OpenAPI version (DRF writes 3.0's `nullable`).

    `?page_size=` as DRF has it: a size above API_MAX_PAGE_SIZE is served at that size (DRF's
    max_page_size clamp, what its users expect; `next` leads on from there). One that is not a
    whole number from 1 is a 400 naming page_size, where DRF would quietly use the default:
    the client asked for something, and should learn it was not understood.
    """

    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        # Read at each request, as the setting may change under tests.
        return settings.API_MAX_PAGE_SIZE

    @property
    def page_size_query_description(self) -> str:  # type: ignore[override]
        return (
            f"Results per page (default {self.page_size}); larger than {self.max_page_size} "
            f"is served as {self.max_page_size}."
        )

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise exceptions.ValidationError(
                {self.page_size_query_param: ["Must be a whole number from 1."]}
            )
        return min(size, self.max_page_size)

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
