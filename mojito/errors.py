"""The API's own error answers beyond DRF's, and the body every error has outside a view.

Kept apart from `mojito.api`: the OpenAPI plumbing (mojito.openapi) documents these, and it
may import no views.
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from rest_framework import exceptions, status


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class ServiceUnavailable(exceptions.APIException):
    """The database does not answer (down, restarting, failing over): the request may well
    succeed in a moment, which a 500 would not tell the client."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is briefly unavailable. Try again shortly."
    default_code = "service_unavailable"
    # Retry-After, in seconds: about what a PostgreSQL restart or failover takes.
    wait = 5


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    """What drf-standardized-errors answers for `exc` (a single, non-validation error)."""
    kind = "server_error" if exc.status_code >= 500 else "client_error"
    return {
        "type": kind,
        "errors": [{"code": exc.get_codes(), "detail": str(exc.detail), "attr": None}],
    }


def error_response(exc: exceptions.APIException) -> JsonResponse:
    """`exc` as the API answers it, for code outside DRF's views (middleware, handlers)."""
    response = JsonResponse(error_body(exc), status=exc.status_code)
    wait = getattr(exc, "wait", None)
    if wait:
        response["Retry-After"] = str(int(wait))
    return response
