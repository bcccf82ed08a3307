"""The OpenAPI document's plumbing: the error bodies every operation documents, the schema class
every view uses (DRF's DEFAULT_SCHEMA_CLASS), and generic field mappings.

Kept apart from `mojito.api`: DRF imports the schema class while spectacular's own views are
being defined, so this module imports no views.
"""

from __future__ import annotations

import functools
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import force_instance, is_basic_serializer
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema_field,
)
from drf_standardized_errors.openapi import AutoSchema
from drf_standardized_errors.openapi_serializers import (
    ClientErrorEnum,
    ParseErrorResponseSerializer,
    ServerErrorEnum,
    ValidationErrorEnum,
)
from rest_framework import exceptions, serializers
from rest_framework.settings import api_settings

from mojito.errors import PayloadTooLarge, ServiceUnavailable


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


# Answers every operation may give beyond drf-standardized-errors' own: a body over
# DATA_UPLOAD_MAX_MEMORY_SIZE (mojito.middleware), the database down (mojito.api's handler).
_EXTRA_ERRORS: dict[str, type[exceptions.APIException]] = {
    "413": PayloadTooLarge,
    "503": ServiceUnavailable,
}
_METHODS_WITH_BODY = ("POST", "PUT", "PATCH")
# Throttled (429) and the database down (503) say when to come back.
_RETRY_AFTER = {
    "schema": {"type": "integer", "minimum": 1},
    "description": "Seconds to wait before trying again.",
    "required": True,
}


_PAGINATION_QUERY_PARAMS = ("page_query_param", "page_size_query_param")


class ApiAutoSchema(AutoSchema):
    """drf-standardized-errors' AutoSchema with one 400 body for all, 413 and 503 documented,
    Retry-After on 429 and 503, empty filters documented as what django-filter makes of them
    (no filter), and pages numbered from 1."""

    def _get_http400_serializer(self) -> PolymorphicProxySerializer:
        return ERROR_RESPONSE_400

    def _get_allowed_error_status_codes(self) -> list[str]:
        return [*super()._get_allowed_error_status_codes(), *_EXTRA_ERRORS]

    def _should_add_error_response(self, responses: dict[str, Any], status_code: str) -> bool:
        if status_code == "413" and self.method not in _METHODS_WITH_BODY:
            return False
        return super()._should_add_error_response(responses, status_code)

    def _should_add_validation_error_response(self) -> bool:
        # Every paginated list refuses a bad ?page_size= with a 400 naming it.
        paginated = self._is_list_view() and self._get_paginator() is not None
        return paginated or super()._should_add_validation_error_response()

    def _get_error_response_serializer(self, status_code: str) -> Any:
        if status_code in _EXTRA_ERRORS:
            return error_response(_EXTRA_ERRORS[status_code])
        return super()._get_error_response_serializer(status_code)

    def _get_response_headers_for_code(
        self, status_code: str, direction: str = "response"
    ) -> dict[str, Any]:
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) in ("429", "503"):
            headers.setdefault("Retry-After", _RETRY_AFTER)
        return headers

    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            # `?status=` filters nothing, as the browsable API's filter form sends it.
            parameter["allowEmptyValue"] = True
        return parameters

    def _process_override_parameters(self, direction: str = "request") -> dict[Any, Any]:
        parameters = super()._process_override_parameters(direction)
        for override in self.get_override_parameters():
            if not is_basic_serializer(override):
                continue
            for name, field in force_instance(override).fields.items():
                parameter = parameters.get((name, OpenApiParameter.QUERY))
                if parameter is not None and not field.required:
                    # A query serializer's optional field reads `?since=` as not given (DRF's
                    # Field.get_value on form data), so its default applies: say so, or a
                    # client (and schemathesis) takes that answer for an invalid value let in.
                    parameter["allowEmptyValue"] = True
        # DRF's content negotiation takes an empty `?format=` for none given, and the Accept
        # header decides (DefaultContentNegotiation.select_renderer skips a falsy format):
        # the document says an empty value is allowed, as for the optional fields above.
        parameter = parameters.get((api_settings.URL_FORMAT_OVERRIDE, OpenApiParameter.QUERY))
        if parameter is not None:
            parameter["allowEmptyValue"] = True
        return parameters

    def _get_pagination_parameters(self) -> list[dict[str, Any]]:
        parameters = super()._get_pagination_parameters()
        paginator = self._get_paginator()
        numbered = {getattr(paginator, name, None) for name in _PAGINATION_QUERY_PARAMS}
        for parameter in parameters:
            if parameter["name"] in numbered:
                # No maximum for page_size: a larger one is served at the cap, not refused.
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
