"""The served OpenAPI document, and validators for its schemas.

The validators are openapi-schema-validator's for the document's own version: OpenAPI 3.1's
dialect (JSON Schema 2020-12 plus OpenAPI's keywords), or 3.0's (`nullable`), whose request and
response flavours also refuse readOnly and writeOnly properties. A schema is validated inside a
copy of the document's components, so that its `$ref`s resolve as a client's would.
"""

from __future__ import annotations

from typing import Any

from jsonschema.protocols import Validator
from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS30WriteValidator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)
from rest_framework.test import APIClient

SCHEMA_URL = "/api/schema/?format=json"


def api_document(client: APIClient | None = None) -> dict[str, Any]:
    """The document as `GET /api/schema/` serves it."""
    response = (client or APIClient()).get(SCHEMA_URL)
    assert response.status_code == 200, response.content
    return response.json()


def _validator(document: dict[str, Any], schema: dict[str, Any], *, request: bool) -> Validator:
    rooted = {**schema, "components": document["components"]}
    if document["openapi"].startswith("3.0"):
        cls: Any = OAS30WriteValidator if request else OAS30ReadValidator
        format_checker = oas30_format_checker
    else:
        cls, format_checker = OAS31Validator, oas31_format_checker
    cls.check_schema(rooted)
    return cls(rooted, format_checker=format_checker)


def request_validator(document: dict[str, Any], component: str) -> Validator:
    """What a client may send as the component `component`."""
    return _validator(document, {"$ref": f"#/components/schemas/{component}"}, request=True)


def operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return document["paths"][path][method.lower()]


def response_validator(
    document: dict[str, Any], path: str, method: str, status_code: int
) -> Validator:
    """What the document says `method path` answers with `status_code` (application/json)."""
    responses = operation(document, path, method)["responses"]
    assert str(status_code) in responses, f"{method} {path}: {status_code} is not documented"
    schema = responses[str(status_code)]["content"]["application/json"]["schema"]
    return _validator(document, schema, request=False)


def component_validator(document: dict[str, Any], component: str) -> Validator:
    """An answer shaped as the component `component`."""
    return _validator(document, {"$ref": f"#/components/schemas/{component}"}, request=False)


def errors_of(validator: Validator, instance: Any) -> list[str]:
    """Every way `instance` breaks the schema, as readable lines (empty when it conforms)."""
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(instance)
    ]
