"""Allowed values from the facebook-business SDK's enum classes."""

from __future__ import annotations


def sdk_values(enum_class: type) -> frozenset[str]:
    """The values of one of the SDK's enum classes (plain classes of string constants)."""
    return frozenset(
        value
        for name, value in vars(enum_class).items()
        if not name.startswith("_") and isinstance(value, str)
    )


# What `rules` shows of this module: its tables and functions, not its imports.
__all__ = [name for name in dir() if name.isupper()] + ["sdk_values"]
