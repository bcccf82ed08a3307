"""Meta's error taxonomy: what failed, whether trying again can help, and what to store.

Sources: Graph API "Handling Errors" and Marketing API "Rate Limiting" pages. Transient:
HTTP 5xx, `is_transient`, codes 1, 2, 4, 17, 32, 341, 613 and the 80000-80014 business use case
rate limits. Token dead: 190. Everything else is permanent and carries Meta's user-facing
title and message.

Nothing here may keep a token: the SDK puts it in the URL's query string, and `requests`
quotes that URL in its exception text, so every message is scrubbed before it leaves.
"""

from __future__ import annotations

import enum
import re
from dataclasses import asdict, dataclass
from typing import Any

import requests
from django.conf import settings
from facebook_business.exceptions import FacebookRequestError

from campaigns.engine.adapter import Failure, FailureKind

TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613}) | frozenset(range(80000, 80015))
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613}) | frozenset(range(80000, 80015))
TOKEN_CODE = 190

_SECRET_PARAMS = re.compile(
    r"(?i)\b(access_token|appsecret_proof|client_secret|app_secret|input_token)=[^&\s'\"]+"
)
_MAX_MESSAGE = 2000


class ErrorKind(enum.StrEnum):
    TRANSIENT = "TRANSIENT"
    TOKEN = "TOKEN"  # noqa: S105 (a kind of error, not a secret)
    PERMANENT = "PERMANENT"


def scrub(text: str, *secrets: str | None, limit: int | None = _MAX_MESSAGE) -> str:
    """Remove credentials from text: secret query parameters and any known secret value;
    cut to `limit` characters (a stored message), or not at all (None: a log's traceback)."""
    text = _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}=[redacted]", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text[:limit] if limit is not None else text


@dataclass
class MetaError(Exception):
    """A failed Meta call, reduced to the fields worth keeping (API.md's `error`)."""

    message: str
    kind: ErrorKind
    code: int | None = None
    subcode: int | None = None
    type: str | None = None
    fbtrace_id: str | None = None
    user_title: str | None = None
    user_message: str | None = None
    step: str = ""
    http_status: int | None = None
    # The request may have been applied by Meta although we saw no answer (timeout after
    # sending, dropped connection, 5xx): look before creating again.
    ambiguous: bool = False
    # Seconds Meta asked us to wait (estimated_time_to_regain_access), if it said.
    retry_after: float | None = None

    def __str__(self) -> str:
        return f"{self.step or 'meta'}: {self.message}"

    @property
    def transient(self) -> bool:
        return self.kind is ErrorKind.TRANSIENT

    @property
    def is_rate_limit(self) -> bool:
        return self.code in RATE_LIMIT_CODES

    def as_job_error(self) -> dict[str, Any]:
        """The shape stored on a job and shown by the API."""
        data = asdict(self)
        return {
            "message": data["message"],
            "code": data["code"],
            "subcode": data["subcode"],
            "type": data["type"],
            "fbtrace_id": data["fbtrace_id"],
            "user_title": data["user_title"],
            "user_message": data["user_message"],
            "transient": self.transient,
            "step": data["step"],
        }


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def from_facebook_error(
    exc: FacebookRequestError, *, step: str, secrets: tuple[str, ...]
) -> MetaError:
    body = exc.body() if isinstance(exc.body(), dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    code = _int_or_none(exc.api_error_code())
    http_status = _int_or_none(exc.http_status())
    if code == TOKEN_CODE:
        kind = ErrorKind.TOKEN
    elif (
        exc.api_transient_error()
        or code in TRANSIENT_CODES
        or (http_status is not None and http_status >= 500)
    ):
        kind = ErrorKind.TRANSIENT
    else:
        kind = ErrorKind.PERMANENT

    def clean(value: Any) -> str | None:
        return scrub(str(value), *secrets) if value not in (None, "") else None

    return MetaError(
        message=clean(exc.api_error_message() or exc.get_message()) or "Meta returned an error.",
        kind=kind,
        code=code,
        subcode=_int_or_none(exc.api_error_subcode()),
        type=clean(exc.api_error_type()),
        fbtrace_id=clean(error.get("fbtrace_id")),
        user_title=clean(error.get("error_user_title")),
        user_message=clean(error.get("error_user_msg")),
        step=step,
        http_status=http_status,
        # A 5xx may come after Meta applied the write; a 4xx means it did not happen.
        ambiguous=http_status is not None and http_status >= 500,
    )


def from_transport_error(
    exc: requests.RequestException, *, step: str, secrets: tuple[str, ...]
) -> MetaError:
    """Network failures. Whether the request reached Meta decides `ambiguous`."""
    # Refused or unresolvable before anything was sent: safe to simply try again.
    sent = not isinstance(exc, requests.ConnectTimeout | requests.exceptions.InvalidURL)
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        reason = str(exc)
        if "NewConnectionError" in reason or "Connection refused" in reason:
            sent = False
    label = type(exc).__name__
    return MetaError(
        message=scrub(f"{label}: {exc}", *secrets),
        kind=ErrorKind.TRANSIENT,
        type=label,
        step=step,
        ambiguous=sent,
        # Meta may still be working on a request we gave up waiting for: look for what it
        # made only once it has surely finished, or the lookup misses it and we create it
        # twice.
        retry_after=settings.META_REQUEST_TIMEOUT
        if isinstance(exc, requests.ReadTimeout)
        else None,
    )


def failure_of(error: MetaError) -> Failure:
    """Meta's error in the engine's words: which kind of failure, and what is stored."""
    if error.kind is ErrorKind.TOKEN:
        kind = FailureKind.TOKEN
    elif error.transient and error.is_rate_limit:
        kind = FailureKind.RATE_LIMITED
    elif error.transient:
        kind = FailureKind.TRANSIENT
    else:
        kind = FailureKind.PERMANENT
    retry_after = error.retry_after
    if kind is FailureKind.RATE_LIMITED and not retry_after:
        retry_after = settings.META_USAGE_PAUSE_SECONDS
    return Failure(
        kind=kind,
        message=error.message,
        step=error.step,
        ambiguous=error.ambiguous,
        retry_after=retry_after,
        details=error.as_job_error(),
    )
