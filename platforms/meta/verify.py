"""Ask Meta whether an ad account's credentials work, and what the account is."""

from __future__ import annotations

from typing import Any

import requests
from facebook_business.adobjects.adaccount import AdAccount as FbAdAccount
from facebook_business.exceptions import FacebookRequestError

from platforms.base import VerifyResult
from platforms.meta.client import build_meta_client
from platforms.meta.errors import ErrorKind, from_facebook_error, from_transport_error

# Meta's AdAccount.account_status values under which ads cannot be created or run
# (Marketing API, Ad Account reference): DISABLED, UNSETTLED, PENDING_RISK_REVIEW,
# PENDING_SETTLEMENT, PENDING_CLOSURE, CLOSED.
BLOCKED_ACCOUNT_STATUSES = frozenset({2, 3, 7, 8, 100, 101})

_FIELDS = ["name", "account_status", "currency", "timezone_name"]


def verify_meta_account(*, platform_account_id: str, credentials: dict[str, Any]) -> VerifyResult:
    client = build_meta_client(account_id=platform_account_id, credentials=credentials)
    try:
        data = FbAdAccount(platform_account_id, api=client.api).api_get(fields=_FIELDS)
    except FacebookRequestError as exc:
        error = from_facebook_error(exc, step="verify", secrets=client.secrets)
    except requests.RequestException as exc:
        error = from_transport_error(exc, step="verify", secrets=client.secrets)
    else:
        account_status = data.get("account_status")
        details = {
            "name": data.get("name"),
            "account_status": account_status,
            "currency": data.get("currency"),
            "timezone_name": data.get("timezone_name"),
        }
        blocked = account_status in BLOCKED_ACCOUNT_STATUSES
        return VerifyResult(verified=True, usable=not blocked, details=details)
    return VerifyResult(
        verified=False,
        usable=False,
        details={},
        error=error.as_job_error(),
        credentials_invalid=error.kind is ErrorKind.TOKEN,
        transient=error.transient,
    )
