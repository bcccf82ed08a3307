"""Plumbing shared by every API module: error handling, routing, shared serializer trees."""

from __future__ import annotations

import threading
from typing import Any, TypeVar

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
