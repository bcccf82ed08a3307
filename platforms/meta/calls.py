"""One Graph call: refused before it leaves while the account is paused, every failure made a
`MetaError` (scrubbed of secrets), Meta's usage figures noted after each answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from facebook_business.exceptions import FacebookError, FacebookRequestError

from campaigns.engine import pauses
from campaigns.engine.adapter import NotSent
from platforms.meta import ratelimit
from platforms.meta.client import MetaClient
from platforms.meta.errors import (
    ErrorKind,
    MetaError,
    from_facebook_error,
    from_transport_error,
    scrub,
)


def meta_call(
    client: MetaClient,
    account_key: str,
    step: str,
    fn: Callable[[], Any],
    *,
    check_pause: bool = True,
) -> Any:
    """Make one Meta call, turning every failure into a MetaError and honouring pauses
    (`check_pause=False`: the engine looked just before, as it does before sending steps)."""
    paused = pauses.paused_for(account_key) if check_pause else None
    if paused:
        raise NotSent(paused, "account paused")
    # Only this call's answer says anything about the account's usage now.
    client.usage = None
    try:
        return fn()
    except FacebookRequestError as exc:
        error = from_facebook_error(exc, step=step, secrets=client.secrets)
        if error.is_rate_limit and client.usage and client.usage.regain_seconds:
            error.retry_after = client.usage.regain_seconds
        raise error from None
    except requests.RequestException as exc:
        raise from_transport_error(exc, step=step, secrets=client.secrets) from None
    except FacebookError as exc:  # the SDK's own complaints (bad object data)
        raise MetaError(
            message=scrub(str(exc), *client.secrets),
            kind=ErrorKind.PERMANENT,
            type=type(exc).__name__,
            step=step,
        ) from None
    finally:
        ratelimit.note_usage(account_key, client.usage)
