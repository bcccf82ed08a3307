"""Find a platform's implementation by `platform_type`.

The generic apps (`adaccounts`, `campaigns`) import only this module, never a platform package,
so a new platform is a new folder plus one entry here. Implementations are named by dotted path
and imported on first use, so that loading the registry never drags models in early.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from platforms.base import AccountSpec, PlatformType


class PlatformNotSupported(LookupError):
    """The platform has no implementation of the requested capability yet."""


@dataclass(frozen=True)
class PlatformEntry:
    account_spec: str
    # validate(data, *, now=None, account_config=None) -> cleaned request (account_config: the
    # ad account's additional_config, None when unknown); raises rest_framework ValidationError.
    request_validator: str | None = None
    # The serializer that validator is built on: it documents the body in the OpenAPI schema.
    request_serializer: str | None = None
    # plan(*, job, request) -> mojito.db.Rows; the plan rows of an unsaved job, which the caller
    # inserts with the job (sets job.campaign to the tree in memory).
    planner: str | None = None
    # A `campaigns.engine.adapter.PlatformAdapter` class: what the job engine asks of the
    # platform (worker side).
    adapter: str | None = None
    # verify(*, platform_account_id, credentials) -> VerifyResult
    verifier: str | None = None
    # Live objects (campaigns.live). change_validator(*, object_type, obj, data, cascade, now,
    # budget_changes) -> the change's values by API field name (a new creative under
    # "creative"); additions_validator(*, parent_type, parent, data, now, account_config) ->
    # the validated ad sets or ads; both raise rest_framework ValidationError.
    change_validator: str | None = None
    additions_validator: str | None = None
    # additions_planner(*, job, parent_type, parent, items, first_position) -> mojito.db.Rows;
    # creative_planner(*, job, creative, name) -> (the new creative row, its Rows).
    additions_planner: str | None = None
    creative_planner: str | None = None
    # SYNC jobs (campaigns.sync). sync_planner(*, job) -> mojito.db.Rows: the reads of an
    # unsaved SYNC job, which may complete its payload; `sync_interval_setting` names the
    # setting that says how often beat syncs each account.
    sync_planner: str | None = None
    sync_interval_setting: str | None = None


_PLATFORMS: dict[str, PlatformEntry] = {
    PlatformType.META: PlatformEntry(
        account_spec="platforms.meta.accounts.MetaAccountSpec",
        request_validator="platforms.meta.validation.validate_meta_ad_request",
        request_serializer="platforms.meta.validation.MetaAdRequestSerializer",
        planner="platforms.meta.planning.plan_meta_job",
        adapter="platforms.meta.adapter.MetaAdapter",
        verifier="platforms.meta.verify.verify_meta_account",
        change_validator="platforms.meta.validation.validate_meta_change",
        additions_validator="platforms.meta.validation.validate_meta_additions",
        additions_planner="platforms.meta.planning.plan_meta_additions",
        creative_planner="platforms.meta.planning.plan_meta_creative",
        sync_planner="platforms.meta.sync.plan_meta_sync",
        sync_interval_setting="META_SYNC_INTERVAL_SECONDS",
    ),
    # Planned platforms: accounts can be provisioned now; ads come with their packages.
    PlatformType.GOOGLE_ADS: PlatformEntry(account_spec="platforms.generic.GenericAccountSpec"),
    PlatformType.TIKTOK_ADS: PlatformEntry(account_spec="platforms.generic.GenericAccountSpec"),
}


def _entry(platform_type: str) -> PlatformEntry:
    return _PLATFORMS[PlatformType(platform_type)]


@cache
def get_account_spec(platform_type: str) -> AccountSpec:
    return import_string(_entry(platform_type).account_spec)()


def _capability(platform_type: str, name: str) -> Callable[..., Any]:
    path = getattr(_entry(platform_type), name)
    if path is None:
        raise PlatformNotSupported(f"{platform_type} has no {name.replace('_', ' ')} yet.")
    return import_string(path)


def submission_platforms() -> list[tuple[PlatformType, type[Any]]]:
    """Every platform that takes ad submissions, with the serializer of its request body."""
    return [
        (PlatformType(platform_type), import_string(entry.request_serializer))
        for platform_type, entry in _PLATFORMS.items()
        if entry.request_serializer is not None
    ]


def get_request_validator(platform_type: str) -> Callable[..., dict[str, Any]]:
    return _capability(platform_type, "request_validator")


def get_planner(platform_type: str) -> Callable[..., Any]:
    return _capability(platform_type, "planner")


def runs_jobs(platform_type: str) -> bool:
    """Whether mojito can run jobs on the platform yet (it has an engine adapter)."""
    return _entry(platform_type).adapter is not None


@cache
def get_adapter(platform_type: str) -> Any:
    """The platform's job-engine adapter (one instance per process; it keeps no job state)."""
    return _capability(platform_type, "adapter")()


def get_verifier(platform_type: str) -> Callable[..., Any]:
    return _capability(platform_type, "verifier")


def get_change_validator(platform_type: str) -> Callable[..., dict[str, Any]]:
    return _capability(platform_type, "change_validator")


def get_additions_validator(platform_type: str) -> Callable[..., list[dict[str, Any]]]:
    return _capability(platform_type, "additions_validator")


def get_additions_planner(platform_type: str) -> Callable[..., Any]:
    return _capability(platform_type, "additions_planner")


def get_creative_planner(platform_type: str) -> Callable[..., Any]:
    return _capability(platform_type, "creative_planner")


def get_sync_planner(platform_type: str) -> Callable[..., Any]:
    return _capability(platform_type, "sync_planner")


def sync_intervals() -> dict[str, float]:
    """Seconds between two syncs of an account, for every platform that syncs on a schedule
    (an interval of 0 turns it off)."""
    intervals = {
        platform_type: float(getattr(settings, entry.sync_interval_setting))
        for platform_type, entry in _PLATFORMS.items()
        if entry.sync_planner is not None and entry.sync_interval_setting is not None
    }
    return {platform_type: seconds for platform_type, seconds in intervals.items() if seconds > 0}
