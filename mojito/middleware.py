"""Guards that hold for every request, before or around the views."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from mojito.errors import (
    PayloadTooLarge,
    ServiceUnavailable,
    database_unreachable,
    error_response,
)

logger = logging.getLogger(__name__)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class RequestBodyLimitMiddleware:
    """An /api/ request whose declared body exceeds DATA_UPLOAD_MAX_MEMORY_SIZE gets a 413
    before anything reads it.

    Django enforces that setting only where it reads the body itself (`request.body`, form
    data); DRF's JSON parser reads the stream, so without this an oversized JSON body would be
    parsed whole, and a multipart one would fail as a 500. The declared length is all there
    is: Django reads no body without a Content-Length, and never past it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        declared = request.META.get("CONTENT_LENGTH") or ""
        if limit is not None and _is_api(request) and declared.isdigit() and int(declared) > limit:
            return error_response(
                PayloadTooLarge(f"The request body is too large (at most {limit} bytes).")
            )
        return self.get_response(request)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """The 503 with Retry-After for a request the database could not serve: JSON under /api/,
    plain text elsewhere."""
    logger.error("Database unavailable: %s %s", request.method, request.path, exc_info=True)
    unavailable = ServiceUnavailable()
    if _is_api(request):
        return error_response(unavailable)
    response = HttpResponse(
        str(unavailable.detail),
        status=unavailable.status_code,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(unavailable.wait)
    return response


class DatabaseUnavailableMiddleware:
    """A view that fails because the database cannot be reached gets a 503 with Retry-After,
    not a 500 (DRF's views already answer so, through mojito.api's exception handler; this
    covers every other view, the admin's included). Other database errors stay 500s.

    Only a view's exceptions come here: Django turns an exception raised in a middleware (the
    session saved on the response path) into a response before any outer middleware sees it,
    so those are answered by the project's handler500 (mojito.api.server_error), which makes
    the same 503 of them. With DEBUG on, Django shows its debug page for those instead.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_unreachable(exception):
            return None  # Django's (or DRF's) 500
        return database_unavailable_response(request)
