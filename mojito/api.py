"""Plumbing shared by every API module: error handling and routing."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions, serializers
from rest_framework.routers import SimpleRouter


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
