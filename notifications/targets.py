"""Where events may be sent: the checks of `webhook_url` and `callback_url` when a client
names one, and the taking of `callback_url` out of a request body before the platform's
validators (which know nothing of it) see the rest.

Both follow the address rules of media URLs (`mojito.addresses`): http(s) only, and a host that
resolves to public addresses only (loopback too with `MEDIA_FETCH_ALLOW_LOOPBACK`, any private
address with `MEDIA_FETCH_ALLOW_PRIVATE`; link-local and cloud-metadata addresses never,
whatever the settings). This is the accept-time
check; every send checks again at connect time (`notifications.delivery`), after its own DNS
lookup, so a host that resolves elsewhere later (rebinding) is still refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from mojito.addresses import AddressError, check_public_http_url

URL_MAX_LENGTH = 2048  # CampaignJob.callback_url, Team.webhook_url
CALLBACK_URL = "callback_url"


def url_clean(value: Any, *, field_name: str) -> str:
    """`value` as a URL events may be sent to, or "" for none (null or ""). Raises
    `ValidationError({field_name: [...]})`."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        message, code = "Must be a URL (a string), or null for none.", "invalid"
    elif len(value) > URL_MAX_LENGTH:
        message, code = f"Ensure this URL has at most {URL_MAX_LENGTH} characters.", "max_length"
    else:
        try:
            check_public_http_url(value, what="URL")
        except AddressError as exc:
            message, code = exc.message, exc.code
        else:
            return value
    raise serializers.ValidationError({field_name: [ErrorDetail(message, code=code)]})


def callback_url_clean(value: Any) -> str:
    """A request's `callback_url`, or "" for none. Raises
    `ValidationError({"callback_url": [...]})`."""
    return url_clean(value, field_name=CALLBACK_URL)


def webhook_url_clean(value: Any) -> str:
    """A team's `webhook_url`, or "" to clear it. Raises
    `ValidationError({"webhook_url": [...]})`."""
    return url_clean(value, field_name="webhook_url")


@dataclass(frozen=True)
class Callback:
    """A request's `callback_url` once checked: the URL ("" for none), or what is wrong."""

    url: str = ""
    errors: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def errors_joined(self) -> Iterator[None]:
        """Around the validation of the rest of the body: a 400 names every bad field, the
        callback's among them."""
        try:
            yield
        except serializers.ValidationError as exc:
            if not self.errors:
                raise
            detail = exc.detail
            if not isinstance(detail, dict):
                detail = {"non_field_errors": detail}
            raise serializers.ValidationError({**detail, **self.errors}) from None
        if self.errors:
            raise serializers.ValidationError(self.errors)


def callback_url_split(data: Any) -> tuple[Any, Callback]:
    """The body without its `callback_url`, and that URL checked (errors kept, not raised, so
    that the caller reports them with the body's own)."""
    if not isinstance(data, Mapping) or CALLBACK_URL not in data:
        return data, Callback()
    rest = {key: value for key, value in data.items() if key != CALLBACK_URL}
    return rest, callback_from(data[CALLBACK_URL])


def callback_from(value: Any) -> Callback:
    """A `callback_url` given on its own (`?callback_url=` of a DELETE), checked."""
    try:
        return Callback(url=callback_url_clean(value))
    except serializers.ValidationError as exc:
        assert isinstance(exc.detail, dict)
        return Callback(errors=dict(exc.detail))
