"""The API's own error answers beyond DRF's, and the body every error has outside a view.

Kept apart from `mojito.api`: the OpenAPI plumbing (mojito.openapi) documents these, and it
may import no views.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db import InterfaceError, OperationalError
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


# SQLSTATEs that say the server is not there for us, as PostgreSQL's manual lists them
# (Appendix A): class 08 (connection exceptions), the server shutting down or restarting
# (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now), or no connection
# slot left (53300 too_many_connections).
UNREACHABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (down, restarting, failing over, out
    of connections): worth a 503, as the next try may well succeed. Every other database error
    (a statement or lock timeout, a full disk, a missing table) is a fault to see as a 500.

    Django raises its own error classes `from` the driver's: the SQLSTATE is on the cause.
    Errors that libpq itself raises (the connection refused, lost mid-query, timed out or
    already closed) carry none, while every error the server answers carries one; so with
    psycopg, no SQLSTATE means the link to the server failed.
    """
    if isinstance(exc, InterfaceError):
        return True  # the connection is closed or unusable
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if not isinstance(cause, psycopg.Error):
        return False  # another driver (SQLite: "no such table", "disk I/O error")
    sqlstate = cause.sqlstate
    if sqlstate is None:
        return isinstance(cause, psycopg.OperationalError)
    return sqlstate.startswith("08") or sqlstate in UNREACHABLE_SQLSTATES


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
