"""Plumbing shared by every API module: error handling, routing, shared serializer trees, and
the OpenAPI document's error bodies and generic field mappings."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults as django_defaults
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import append_meta
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from drf_standardized_errors.handler import ExceptionHandler
from drf_standardized_errors.openapi import AutoSchema
from drf_standardized_errors.openapi_serializers import (
    ClientErrorEnum,
    ParseErrorResponseSerializer,
    ServerErrorEnum,
    ValidationErrorEnum,
)
from rest_framework import exceptions, pagination, serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView


class ApiExceptionHandler(ExceptionHandler):
    """drf-standardized-errors, plus Django's ValidationError raised by services as a 400."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError(serializers.as_serializer_error(exc))
        return super().convert_known_exceptions(exc)


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


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    """What drf-standardized-errors answers for `exc` (a single, non-validation error)."""
    kind = "server_error" if exc.status_code >= 500 else "client_error"
    return {
        "type": kind,
        "errors": [{"code": exc.get_codes(), "detail": str(exc.detail), "attr": None}],
    }


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


def _django_error_handler(
    exc: exceptions.APIException, fallback: Callable[..., HttpResponse]
) -> Callable[..., HttpResponse]:
    """A `handler400`/`handler500` that answers /api/ paths in the API's shape (errors raised
    outside any view: a middleware, a body too large for Django) and other paths as Django."""

    def handler(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse(error_body(exc), status=exc.status_code)
        return fallback(request, *args, **kwargs)

    return handler


bad_request = _django_error_handler(
    exceptions.ParseError("Bad request."), django_defaults.bad_request
)
server_error = _django_error_handler(exceptions.APIException(), django_defaults.server_error)


# --- Query parameters ---------------------------------------------------------------------------


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's, except that an empty `?page=` is an invalid page (404) like `?page=x`: DRF reads
    it as page 1, so a client's broken page link would silently restart the list. Its schema
    says "or null" in the document's OpenAPI version (DRF writes 3.0's `nullable`)."""

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
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


# --- OpenAPI -------------------------------------------------------------------------------------


class ValidationErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. required, invalid_choice.")
    detail = serializers.CharField(help_text="For people.")
    attr = serializers.CharField(
        allow_null=True,
        help_text="The field, as a dotted path with list indexes "
        "(ad_sets.0.targeting.geo_locations); non_field_errors for a whole object.",
    )

    class Meta:
        ref_name = "ValidationErrorItem"


class ValidationErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ValidationErrorEnum.choices)
    errors = ValidationErrorItemSerializer(many=True, help_text="Every invalid field.")

    class Meta:
        ref_name = "ValidationErrorResponse"


# The one 400 body of every operation. drf-standardized-errors' own lists, per operation, each
# field's path as an enum of `attr` with that field's codes: real answers carry list indexes
# (ad_sets.0...), unknown keys and the codes of custom rules, which such a schema refuses.
ERROR_RESPONSE_400 = PolymorphicProxySerializer(
    component_name="ErrorResponse400",
    serializers={
        ValidationErrorEnum.VALIDATION_ERROR.value: ValidationErrorResponseSerializer,
        ClientErrorEnum.CLIENT_ERROR.value: ParseErrorResponseSerializer,
    },
    resource_type_field_name="type",
)


@functools.cache
def error_response(*errors: type[exceptions.APIException]) -> type[serializers.Serializer]:
    """The documented body of the answer `errors` (of one status code) raise, named after them:
    `error_response(Conflict)` is the component ConflictErrorResponse."""
    [status_code] = {error.status_code for error in errors}
    name = "".join(error.__name__ for error in errors)
    codes = sorted({str(error.default_code) for error in errors})
    kind = ServerErrorEnum if status_code >= 500 else ClientErrorEnum

    item = type(
        f"{name}ErrorSerializer",
        (serializers.Serializer,),
        {
            "code": serializers.ChoiceField(choices=codes),
            "detail": serializers.CharField(),
            "attr": serializers.CharField(allow_null=True),
            "Meta": type("Meta", (), {"ref_name": f"{name}Error"}),
        },
    )
    return type(
        f"{name}ErrorResponseSerializer",
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=kind.choices),
            "errors": item(many=True),
            "Meta": type("Meta", (), {"ref_name": f"{name}ErrorResponse"}),
        },
    )


class ApiAutoSchema(AutoSchema):
    """drf-standardized-errors' AutoSchema with one 400 body for all, empty filters documented
    as what django-filter makes of them (no filter), and pages numbered from 1."""

    def _get_http400_serializer(self) -> PolymorphicProxySerializer:
        return ERROR_RESPONSE_400

    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            # `?status=` filters nothing, as the browsable API's filter form sends it.
            parameter["allowEmptyValue"] = True
        return parameters

    def _get_pagination_parameters(self) -> list[dict[str, Any]]:
        parameters = super()._get_pagination_parameters()
        paginator = self._get_paginator()
        for parameter in parameters:
            if parameter["name"] == getattr(paginator, "page_query_param", None):
                parameter["schema"]["minimum"] = 1
        return parameters


def without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` as mapped by spectacular, minus the "or null" it added from the field's
    allow_null. An extension that starts from spectacular's own mapping returns this: the
    caller adds the field's meta (null included) again, which under OpenAPI 3.1 is no-op only
    the first time (["string", "null", "null"])."""
    schema = dict(schema)
    schema.pop("nullable", None)
    kinds = schema.get("type")
    if isinstance(kinds, list) and "null" in kinds:
        kinds = [kind for kind in kinds if kind != "null"]
        schema["type"] = kinds[0] if len(kinds) == 1 else kinds
    options = schema.get("oneOf")
    if isinstance(options, list) and {"type": "null"} in options:
        options = [option for option in options if option != {"type": "null"}]
        if len(options) == 1 and set(schema) == {"oneOf"}:
            return options[0]
        schema["oneOf"] = options
    return schema


class ListSerializerLengthExtension(OpenApiSerializerFieldExtension):
    """A nested `Serializer(many=True, min_length=..., max_length=...)` as minItems/maxItems:
    DRF enforces both, spectacular leaves them out."""

    target_class = "rest_framework.serializers.ListSerializer"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        schema = without_null(schema)
        if self.target.min_length is not None:
            schema["minItems"] = self.target.min_length
        if self.target.max_length is not None:
            schema["maxItems"] = self.target.max_length
        return schema


class CharFieldExtension(OpenApiSerializerFieldExtension):
    """A CharField that refuses "" (DRF's default) documents minLength 1."""

    target_class = "rest_framework.serializers.CharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        schema = without_null(schema)
        # Requests only: an output field may well hold "" (a platform's empty name).
        if direction == "request" and not self.target.read_only and not self.target.allow_blank:
            schema.setdefault("minLength", 1)
        return schema


@extend_schema_field({"type": "object", "additionalProperties": True})
class JSONObjectField(serializers.JSONField):
    """A JSONField whose value is always an object (its validators refuse anything else): the
    document says so instead of "any JSON value"."""
