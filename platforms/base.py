"""What every platform package provides, and the vocabulary shared by the generic apps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import models


class PlatformType(models.TextChoices):
    META = "META", "Meta"
    GOOGLE_ADS = "GOOGLE_ADS", "Google Ads"
    TIKTOK_ADS = "TIKTOK_ADS", "TikTok Ads"


class AccountSpec(Protocol):
    """How one platform names its ad accounts and what credentials it needs.

    Both methods raise `rest_framework.exceptions.ValidationError`; the credentials one with a
    dict keyed by the credential field, so the API can name `credentials.access_token`.
    """

    def normalize_account_id(self, value: str) -> str: ...

    def clean_credentials(self, value: Any) -> dict[str, str]: ...


@dataclass(frozen=True)
class VerifyResult:
    """What a platform said about an account's credentials."""

    verified: bool  # the platform answered about the account with these credentials
    usable: bool  # ...and the account can take ads
    details: dict[str, Any] = field(default_factory=dict)  # what the platform told us
    error: dict[str, Any] | None = None
    credentials_invalid: bool = False  # expired or revoked token: re-authentication needed
    transient: bool = False  # no answer worth acting on; try again later
