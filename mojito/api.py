"""Plumbing shared by every API module: error handling, routing, shared serializer trees, and
the OpenAPI document's error bodies and generic field mappings."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.views import defaults as django_defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from mojito.errors import (
    PayloadTooLarge,
    ServiceUnavailable,
    database_unreachable,
    error_response,
)
from mojito.middleware import database_unavailable_response
from mojito.throttling import AnonymousRateThrottle


class ApiExceptionHandler(ExceptionHandler):
    """drf-standardized-errors, plus Django's ValidationError raised by services as a 400, and
    a 429 instead of a 401 for a client address past the anonymous rate."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError(serializers.as_serializer_error(exc))
        if database_unreachable(exc):
            # PostgreSQL down, restarting or failing over: worth trying again shortly, which a
            # 500 would not say. Raised in authentication (the token lookup) as well as in the
            # view: both end here. Any other database error (a statement timeout) stays a 500.
            return ServiceUnavailable()
        if isinstance(exc, RequestDataTooBig):
            return PayloadTooLarge()
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            return self._anonymous_throttled() or exc
        return super().convert_known_exceptions(exc)

    def _anonymous_throttled(self) -> exceptions.Throttled | None:
        # DRF checks throttles after authentication and permissions, so a request with a bad
        # token (or none) ends here without having been counted: count it per address, so
        # that guessing tokens is bounded like any other anonymous traffic.
        request, view = self.context.get("request"), self.context.get("view")
        if request is None:
            return None
        throttle = AnonymousRateThrottle()
        if throttle.allow_request(request, view):
            return None
        return exceptions.Throttled(wait=throttle.wait())


class OptionalSlashRouter(SimpleRouter):
    """Every route answers with and without a trailing slash, with no redirect."""

    def __init__(self) -> None:
        super().__init__()
        # SimpleRouter's argument is a bool; the attribute is the regex fragment it uses.
        self.trailing_slash = "/?"


SerializerT = TypeVar("SerializerT", bound=serializers.BaseSerializer)

_shared: dict[type[Any], Any] = {}
_shared_lock = threading.Lock()


def _bind_tree(field: serializers.Field) -> None:
    """Evaluate every lazy attribute below `field` now, so that later calls only read the tree."""
    field.validators  # noqa: B018 - DRF builds the list on first access
    if isinstance(field, serializers.Serializer):
        for child in field.fields.values():
            _bind_tree(child)
    child = getattr(field, "child", None)
    if isinstance(child, serializers.Field):
        _bind_tree(child)


def shared_serializer(serializer_class: type[SerializerT]) -> SerializerT:
    """One instance of `serializer_class` per process, with its whole field tree bound.

    DRF deep-copies a serializer's declared fields into every new instance (`Serializer.fields`);
    for a nested tree that copy costs more than the validation or rendering itself. The shared
    instance has no data, instance or context, and may only be used through methods that keep
    their state in locals, such as `to_representation(obj)`: DRF's fields only read their own
    attributes there, so threads (gunicorn gthread, Celery threads) may use it at once.
    """
    tree = _shared.get(serializer_class)
    if tree is None:
        with _shared_lock:
            tree = _shared.get(serializer_class)
            if tree is None:
                tree = serializer_class()
                # Bound completely before other threads can see it.
                _bind_tree(tree)
                _shared[serializer_class] = tree
    return tree


# --- Errors outside the views' reach ----------------------------------------------------------


class JsonErrorsMixin:
    """Errors answer in JSON even from views whose success renders something else (the schema
    in YAML, Swagger's HTML page): under /api/ every error has the one documented shape."""

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)  # type: ignore[misc]
        request = self.request  # type: ignore[attr-defined]
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
        return response


class ApiNotFoundView(JsonErrorsMixin, APIView):
    """Answers every method under /api/ that no route matches (an unknown path, `ads/META`, an
    id with a dot): the API's 404 instead of Django's HTML page. No authentication, so that
    the answer is the same for everyone and says nothing about what exists."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    renderer_classes = (JSONRenderer,)
    schema = None  # not an operation of the API

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound()


class SchemaView(JsonErrorsMixin, SpectacularAPIView):
    pass


class DocsView(JsonErrorsMixin, SpectacularSwaggerView):
    pass


def _caused_by_unreachable_database(exc: BaseException | None) -> bool:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if database_unreachable(exc):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _django_error_handler(
    exc: exceptions.APIException, fallback: Callable[..., HttpResponse]
) -> Callable[..., HttpResponse]:
    """A `handler400`/`handler500` that answers /api/ paths in the API's shape (errors raised
    outside any view: a middleware, a body too large for Django) and other paths as Django."""

    def handler(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Django calls these while it handles the exception, outside every middleware: the
        # database going away on a middleware's path (the session saved after an admin login)
        # ends here, where DatabaseUnavailableMiddleware never sees it. Django's session
        # middleware even answers a failed save as a 400 (SessionInterrupted, raised while
        # handling the database's error), so the whole chain is looked at.
        if _caused_by_unreachable_database(sys.exc_info()[1]):
            return database_unavailable_response(request)
        if request.path.startswith("/api/"):
            if isinstance(kwargs.get("exception"), RequestDataTooBig):
                return error_response(PayloadTooLarge())
            return error_response(exc)
        return fallback(request, *args, **kwargs)

    return handler


bad_request = _django_error_handler(
    exceptions.ParseError("Bad request."), django_defaults.bad_request
)
server_error = _django_error_handler(exceptions.APIException(), django_defaults.server_error)
