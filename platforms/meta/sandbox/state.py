"""In-memory state of the sandbox: tokens, ad accounts, ad objects, media, Page and Instagram
posts, faults, request log.

One ``SandboxState`` per server. aiohttp handles requests on one event loop, but tests read and
change the state from their own thread, so every access goes through ``state.lock`` (an RLock).
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .config import SandboxConfig

OBJECT_TYPES: tuple[str, ...] = ("campaign", "adset", "adcreative", "ad", "adimage", "advideo")

DEMO_TOKEN = "sandbox-demo-token"  # noqa: S105 - a public demo value, not a secret
DEMO_ACCOUNT_ID = "100000000000001"
DEMO_ACCOUNT_NAME = "Sandbox Demo Account"
DEMO_PAGE_ID = "100000000000002"

FAULT_KINDS: tuple[str, ...] = (
    "transient",
    "drop_after_create",
    "expired_token",
    "throttle",
    "permanent",
)


@dataclass
class Token:
    value: str
    user_id: str
    user_name: str
    account_ids: set[str] = field(default_factory=set)
    page_ids: set[str] = field(default_factory=set)
    expired: bool = False
    expired_at: float | None = None
    app_secret: str | None = None


@dataclass
class Account:
    id: str  # numeric, without "act_"
    name: str
    currency: str = "USD"
    timezone_name: str = "America/Los_Angeles"
    timezone_offset_hours_utc: float = -8.0
    account_status: int = 1
    default_dsa_payor: str | None = None
    default_dsa_beneficiary: str | None = None
    created_time: float = field(default_factory=time.time)

    @property
    def act_id(self) -> str:
        return f"act_{self.id}"


@dataclass
class GraphObject:
    id: str
    type: str
    account_id: str
    parent_id: str | None
    fields: dict[str, Any]
    created_time: float
    updated_time: float
    deleted: bool = False
    blob: bytes | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PagePost:
    """A Page post an ad may promote (object_story_id): made through the control API, or the
    unpublished post Meta creates for a creative's object_story_spec."""

    id: str  # "<page id>_<post number>"
    page_id: str
    message: str | None
    created_time: float
    is_published: bool = True


@dataclass
class InstagramMedia:
    """A post of an Instagram account an ad may promote (source_instagram_media_id)."""

    id: str
    instagram_user_id: str
    caption: str | None
    created_time: float


@dataclass
class ScheduledFault:
    id: int
    kind: str
    path_contains: str | None
    method: str | None
    remaining: int


@dataclass
class Usage:
    """A leaky bucket: ``score`` points at ``updated_at``, draining at max score / window."""

    score: float = 0.0
    updated_at: float = 0.0
    blocked_until: float = 0.0


class SandboxState:
    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.lock = threading.RLock()
        self.config = config or SandboxConfig()
        self.tokens: dict[str, Token] = {}
        self.accounts: dict[str, Account] = {}
        self._seeds: list[dict[str, Any]] = []
        self._reset_runtime()

    # --- lifecycle ------------------------------------------------------------------------

    def _reset_runtime(self) -> None:
        self.objects: dict[str, GraphObject] = {}
        self.order: list[str] = []  # creation order of object ids
        self._by_parent: dict[str, list[str]] = {}
        self._by_account: dict[tuple[str, str], list[str]] = {}
        self.upload_sessions: dict[str, dict[str, Any]] = {}
        self.adlabels: dict[str, dict[str, str]] = {}  # account id -> label name -> label id
        # (account id, creative parameters) -> creative id, to answer duplicates as Meta does
        self.creative_signatures: dict[tuple[str, str], str] = {}
        self.posts: dict[str, PagePost] = {}
        self.instagram_media: dict[str, InstagramMedia] = {}
        self.requests: list[dict[str, Any]] = []
        self.faults: list[ScheduledFault] = []
        self.fired_markers: set[tuple[str, str]] = set()
        self.usage: dict[str, Usage] = {}
        self.app_usage: Usage = Usage()
        self.budget_changes: dict[str, deque[float]] = {}
        self._ids = itertools.count(120210000000001001, 1013)
        self._video_ids = itertools.count(900000000000101, 7)
        self._session_ids = itertools.count(700000000000001, 3)
        self._label_ids = itertools.count(230000000000001, 5)
        self._post_numbers = itertools.count(810000000000001, 3)
        self._instagram_media_ids = itertools.count(17900000000000001, 7)
        self._fault_ids = itertools.count(1)
        self._request_seq = itertools.count(1)
        self.last_seq = 0  # the sequence number of the latest logged request
        # Insights report runs (insights.py), by id.
        self.report_runs: dict[str, Any] = {}
        self._report_run_ids = itertools.count(6120000000000001, 17)

    def reset(self, *, accounts: bool = False) -> None:
        """Forget objects, media, logs, faults and usage; with accounts=True also re-seed tokens."""
        with self.lock:
            self._reset_runtime()
            if accounts:
                self.tokens.clear()
                self.accounts.clear()
                for seed in self._seeds:
                    self._register(**seed)

    # --- tokens and accounts ----------------------------------------------------------------

    def register(
        self,
        token: str,
        account_id: str,
        *,
        name: str | None = None,
        currency: str = "USD",
        timezone_name: str = "America/Los_Angeles",
        timezone_offset_hours_utc: float = -8.0,
        page_ids: list[str] | None = None,
        app_secret: str | None = None,
        default_dsa_payor: str | None = None,
        default_dsa_beneficiary: str | None = None,
        seed: bool = False,
    ) -> Account:
        """Give ``token`` access to ``account_id`` (created if new). ``seed`` survives reset."""
        kwargs: dict[str, Any] = {
            "token": token,
            "account_id": account_id,
            "name": name,
            "currency": currency,
            "timezone_name": timezone_name,
            "timezone_offset_hours_utc": timezone_offset_hours_utc,
            "page_ids": list(page_ids or []),
            "app_secret": app_secret,
            "default_dsa_payor": default_dsa_payor,
            "default_dsa_beneficiary": default_dsa_beneficiary,
        }
        with self.lock:
            if seed:
                self._seeds.append(kwargs)
            return self._register(**kwargs)

    def _register(
        self,
        token: str,
        account_id: str,
        name: str | None,
        currency: str,
        timezone_name: str,
        timezone_offset_hours_utc: float,
        page_ids: list[str],
        app_secret: str | None,
        default_dsa_payor: str | None,
        default_dsa_beneficiary: str | None,
    ) -> Account:
        numeric = account_id.removeprefix("act_")
        if not numeric.isdigit():
            raise ValueError(f"ad account id must be act_<digits> or digits, got {account_id!r}")
        account = self.accounts.get(numeric)
        if account is None:
            account = Account(
                id=numeric,
                name=name or f"Sandbox Account {numeric}",
                currency=currency,
                timezone_name=timezone_name,
                timezone_offset_hours_utc=timezone_offset_hours_utc,
                default_dsa_payor=default_dsa_payor,
                default_dsa_beneficiary=default_dsa_beneficiary,
            )
            self.accounts[numeric] = account
        else:
            if name:
                account.name = name
            if default_dsa_payor is not None:
                account.default_dsa_payor = default_dsa_payor
            if default_dsa_beneficiary is not None:
                account.default_dsa_beneficiary = default_dsa_beneficiary
        record = self.tokens.get(token)
        if record is None:
            user_id = str(10000000000000 + len(self.tokens) + 1)
            record = Token(value=token, user_id=user_id, user_name=f"Sandbox User {user_id}")
            self.tokens[token] = record
        record.account_ids.add(numeric)
        record.page_ids.update(str(p) for p in page_ids)
        if app_secret is not None:
            record.app_secret = app_secret
        return account

    def expire_token(self, token: str | None = None, *, expired: bool = True) -> list[str]:
        """Expire (or revive) one token, or every token when ``token`` is None."""
        with self.lock:
            targets = [self.tokens[token]] if token is not None else list(self.tokens.values())
            for record in targets:
                record.expired = expired
                record.expired_at = time.time() if expired else None
            return [record.user_id for record in targets]

    # --- objects ----------------------------------------------------------------------------

    def new_id(self, object_type: str) -> str:
        if object_type == "advideo":
            return str(next(self._video_ids))
        return str(next(self._ids))

    def new_report_run_id(self) -> str:
        return str(next(self._report_run_ids))

    def new_upload_session_id(self) -> str:
        return str(next(self._session_ids))

    def label_id(self, account_id: str, name: str) -> str:
        labels = self.adlabels.setdefault(account_id, {})
        if name not in labels:
            labels[name] = str(next(self._label_ids))
        return labels[name]

    def add_object(self, obj: GraphObject) -> GraphObject:
        self.objects[obj.id] = obj
        self.order.append(obj.id)
        if obj.parent_id is not None:
            self._by_parent.setdefault(obj.parent_id, []).append(obj.id)
        self._by_account.setdefault((obj.account_id, obj.type), []).append(obj.id)
        return obj

    def get_object(self, object_id: str) -> GraphObject | None:
        return self.objects.get(object_id)

    def children(self, parent_id: str, object_type: str | None = None) -> list[GraphObject]:
        """Objects whose parent is ``parent_id``, in creation order."""
        return [
            obj
            for obj in (self.objects[i] for i in self._by_parent.get(parent_id, []))
            if object_type is None or obj.type == object_type
        ]

    def of_account(self, account_id: str, object_type: str) -> list[GraphObject]:
        """Objects of one type in one ad account, in creation order."""
        return [self.objects[i] for i in self._by_account.get((account_id, object_type), [])]

    def snapshot(self, object_type: str | None = None) -> list[dict[str, Any]]:
        """Every object (deleted ones included) as plain data, for tests and the control API."""
        with self.lock:
            result = []
            for object_id in self.order:
                obj = self.objects[object_id]
                if object_type is not None and obj.type != object_type:
                    continue
                result.append(
                    {
                        "id": obj.id,
                        "type": obj.type,
                        "account_id": obj.account_id,
                        "parent_id": obj.parent_id,
                        "deleted": obj.deleted,
                        "created_time": obj.created_time,
                        "updated_time": obj.updated_time,
                        "fields": copy.deepcopy(obj.fields),
                        **({"size": len(obj.blob)} if obj.blob is not None else {}),
                    }
                )
            return result

    # --- posts ------------------------------------------------------------------------------

    def add_post(
        self, page_id: str, message: str | None = None, *, is_published: bool = True
    ) -> PagePost:
        if not str(page_id).isdigit():
            raise ValueError(f"page_id must be the numeric id of a Page, got {page_id!r}")
        with self.lock:
            post = PagePost(
                id=f"{page_id}_{next(self._post_numbers)}",
                page_id=str(page_id),
                message=message,
                created_time=time.time(),
                is_published=is_published,
            )
            self.posts[post.id] = post
            return post

    def add_instagram_media(
        self, instagram_user_id: str, caption: str | None = None
    ) -> InstagramMedia:
        if not str(instagram_user_id).isdigit():
            raise ValueError(
                f"instagram_user_id must be the numeric id of an Instagram account, "
                f"got {instagram_user_id!r}"
            )
        with self.lock:
            media = InstagramMedia(
                id=str(next(self._instagram_media_ids)),
                instagram_user_id=str(instagram_user_id),
                caption=caption,
                created_time=time.time(),
            )
            self.instagram_media[media.id] = media
            return media

    # --- faults -----------------------------------------------------------------------------

    def schedule_fault(
        self,
        kind: str,
        *,
        path_contains: str | None = None,
        method: str | None = None,
        count: int = 1,
    ) -> ScheduledFault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault must be one of {', '.join(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self.lock:
            fault = ScheduledFault(
                id=next(self._fault_ids),
                kind=kind,
                path_contains=path_contains,
                method=method.upper() if method else None,
                remaining=count,
            )
            self.faults.append(fault)
            return fault

    def take_fault(self, method: str, path: str, *, is_create: bool) -> str | None:
        """The kind of the first scheduled fault matching this call, consuming one count."""
        for fault in self.faults:
            if fault.remaining <= 0:
                continue
            if fault.method and fault.method != method:
                continue
            if fault.path_contains and fault.path_contains not in path:
                continue
            if fault.kind == "drop_after_create" and not is_create:
                continue
            fault.remaining -= 1
            kind = fault.kind
            self.faults = [f for f in self.faults if f.remaining > 0]
            return kind
        return None

    # --- request log ------------------------------------------------------------------------

    def log_request(self, entry: dict[str, Any]) -> int:
        seq = next(self._request_seq)
        self.last_seq = seq
        entry = {"seq": seq, **entry}
        self.requests.append(entry)
        overflow = len(self.requests) - self.config.max_log_entries
        if overflow > 0:
            del self.requests[:overflow]
        return seq

    def request_log(self, since: int = 0) -> list[dict[str, Any]]:
        with self.lock:
            return [copy.deepcopy(e) for e in self.requests if e["seq"] > since]
