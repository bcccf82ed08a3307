"""Find a platform's implementation by `platform_type`.

The generic apps (`adaccounts`, `campaigns`) import only this module, never a platform package,
so a new platform is a new folder plus one line here.
"""

from __future__ import annotations

from platforms.base import AccountSpec, PlatformType
from platforms.generic import GenericAccountSpec
from platforms.meta.accounts import MetaAccountSpec

_ACCOUNT_SPECS: dict[str, AccountSpec] = {
    PlatformType.META: MetaAccountSpec(),
    # Planned platforms: accounts can be provisioned now; their executors come later.
    PlatformType.GOOGLE_ADS: GenericAccountSpec(),
    PlatformType.TIKTOK_ADS: GenericAccountSpec(),
}


def get_account_spec(platform_type: str) -> AccountSpec:
    return _ACCOUNT_SPECS[PlatformType(platform_type)]
