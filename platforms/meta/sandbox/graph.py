"""The Graph API as the sandbox serves it: versioning, auth, routing, reads, writes and faults.

``Graph.handle_http`` serves one HTTP request; ``Graph.execute`` serves one call (a plain request
or one operation of a batch), so batch operations go through exactly the same checks, rate
limits and faults as single calls.
"""

from __future__ import annotations

import hmac
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any
from urllib.parse import urlencode

from . import errors
from .ads import create_ad
from .adsets import create_adset, effective_bid_strategy
from .campaigns import create_campaign
from .creatives import create_creative
from .errors import GraphError
from .fields import FieldSpec, matches, page, parse_fields, parse_filtering, parse_limit
from .images import create_images
from .insights import compute_rows, node_ads, paged, parse_query
from .node_fields import (
    AD_FIELDS,
    ADACCOUNT_FIELDS,
    ADCREATIVE_FIELDS,
    ADIMAGE_FIELDS,
    ADSET_FIELDS,
    ADVIDEO_FIELDS,
    CAMPAIGN_FIELDS,
)
from .params import Params, UploadedFile, format_time, parse_version
from .report_runs import advance as advance_report
from .report_runs import report_rows, report_view, start_report
from .review import effective_status, issues_info, review_feedback
from .state import Account, GraphObject, SandboxState, Token
from .updates import delete_object, update_object
from .usage import UsageTracker
from .videos import upload_video, video_status_field
from .writes import Created, Ctx

logger = logging.getLogger("platforms.meta.sandbox")

# Per-request fault markers: a create whose name holds one of these fails once per distinct name.
MARKERS: dict[str, str] = {
    "[sandbox:transient]": "transient",
    "[sandbox:drop]": "drop_after_create",
    "[sandbox:expired]": "expired_token",
    "[sandbox:throttle]": "throttle",
    "[sandbox:permanent]": "permanent",
}
EDGE_TYPES: dict[str, str] = {
    "campaigns": "campaign",
    "adsets": "adset",
    "ads": "ad",
    "adcreatives": "adcreative",
    "adimages": "adimage",
    "advideos": "advideo",
}
NODE_NAMES: dict[str, str] = {
    "campaign": "AdCampaignGroup",
    "adset": "AdCampaign",
    "ad": "Adgroup",
    "adcreative": "AdCreative",
    "adimage": "AdImage",
    "advideo": "AdVideo",
    "account": "AdAccount",
    "user": "User",
}
FIELD_SETS: dict[str, frozenset[str]] = {
    "campaign": CAMPAIGN_FIELDS,
    "adset": ADSET_FIELDS,
    "ad": AD_FIELDS,
    "adcreative": ADCREATIVE_FIELDS,
    "adimage": ADIMAGE_FIELDS,
    "advideo": ADVIDEO_FIELDS,
    "account": ADACCOUNT_FIELDS,
    "user": frozenset({"id", "name", "adaccounts"}),
}
# Edges readable from each node type.
NODE_EDGES: dict[str, dict[str, str]] = {
    "campaign": {"adsets": "adset", "ads": "ad"},
    "adset": {"ads": "ad", "adcreatives": "adcreative"},
    "ad": {"adcreatives": "adcreative"},
}
STRING_NUMBERS = ("daily_budget", "lifetime_budget", "spend_cap", "account_id")
TIME_FIELDS = ("created_time", "updated_time", "start_time", "end_time", "stop_time")
REDACTED = "REDACTED"


@dataclass
class Call:
    method: str
    path: str  # without the version, e.g. "act_1/campaigns"
    version: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    origin: str = "http://127.0.0.1"
    authorization: str | None = None
    batch_index: int | None = None
    # The client's TCP connection ("address:port"), so tests can see connections reused.
    connection: str | None = None


@dataclass
class Outcome:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    created_ids: list[str] = field(default_factory=list)
    account_ids: list[str] = field(default_factory=list)
    drop: bool = False
    fault: str | None = None
    operations: list[dict[str, Any]] | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300 and not (
            isinstance(self.body, dict) and "error" in self.body
        )


@dataclass
class Route:
    account_id: str | None
    is_create: bool
    run: Callable[[float], Any]


def redact(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as the request log shows them: no token, no proof, no base64 payloads."""
    shown: dict[str, Any] = {}
    for key, value in params.items():
        if key in ("access_token", "appsecret_proof"):
            shown[key] = REDACTED
        elif key == "bytes" and isinstance(value, str):
            shown[key] = f"<{len(value)} base64 chars>"
        elif key == "batch":
            shown[key] = "<see operations>"
        else:
            shown[key] = value
    return shown


class Graph:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.usage = UsageTracker(state)
        self.rng = random.Random(state.config.random_seed)  # noqa: S311 - fault dice, not crypto

    # --- entry points ---------------------------------------------------------------------

    def handle_http(self, call: Call) -> Outcome:
        """Serve one HTTP request to the Graph API; always returns (errors included) and logs."""
        with self.state.lock:
            started = time.time()
            try:
                outcome = self._handle(call)
            except GraphError as exc:
                outcome = self.error_outcome(exc)
            except Exception:
                # A sandbox bug must still look like Graph: code 1 "An unknown error occurred".
                logger.exception(
                    "sandbox failed on %s /%s/%s", call.method, call.version, call.path
                )
                outcome = self.error_outcome(errors.unknown_error())
            if call.params.get("suppress_http_code") in ("1", 1, True, "true"):
                outcome.status = 200
            self._log(call, outcome, started)
            return outcome

    def _handle(self, call: Call) -> Outcome:
        version = parse_version(call.version)
        if version is None:
            raise errors.unknown_path(f"/{call.version}")
        minimum = parse_version(self.state.config.min_api_version) or (0, 0)
        if version < minimum:
            raise errors.deprecated_version(call.version)
        override = str(call.params.get("method") or "").upper()
        if override in ("GET", "POST", "DELETE"):
            call.method = override
        token = self.authenticate(call.params, call.authorization)
        if not [s for s in call.path.split("/") if s] and call.method == "POST":
            from .batch import run_batch  # batch imports Graph's types

            return run_batch(self, call, token, version)
        return self.execute(call, token, version)

    def authenticate(self, params: dict[str, Any], authorization: str | None) -> Token:
        value = params.get("access_token")
        if not value and authorization:
            scheme, _, credential = authorization.partition(" ")
            if scheme.lower() in ("oauth", "bearer"):
                value = credential.strip()
        if not value:
            raise errors.token_missing()
        token = self.state.tokens.get(str(value))
        if token is None:
            raise errors.token_invalid()
        if token.expired:
            raise self._expired_error(token.expired_at)
        secret = token.app_secret or self.state.config.app_secret
        proof = params.get("appsecret_proof")
        if secret:
            expected = hmac.new(secret.encode(), str(value).encode(), sha256).hexdigest()
            if not proof:
                raise errors.appsecret_proof_missing()
            if not hmac.compare_digest(str(proof), expected):
                raise errors.appsecret_proof_invalid()
        return token

    def _expired_error(self, expired_at: float | None) -> GraphError:
        now = time.time()
        fmt = "%A, %d-%b-%y %H:%M:%S UTC"
        return errors.token_expired(
            time.strftime(fmt, time.gmtime(expired_at or now - 60)),
            time.strftime(fmt, time.gmtime(now)),
        )

    def execute(self, call: Call, token: Token, version: tuple[int, int]) -> Outcome:
        """One Graph call: route, count against the rate limit, inject faults, run."""
        now = time.time()
        account_id: str | None = None
        fault: str | None = None
        try:
            route = self._route(call, token, version)
            account_id = route.account_id
            cost = (
                self.state.config.read_cost
                if call.method == "GET"
                else (self.state.config.write_cost)
            )
            if not self.usage.record(account_id, cost, now):
                raise errors.ads_management_throttled({})
            fault = self._pick_fault(call, route)
            drop = False
            if fault == "expired_token":
                raise self._expired_error(now - 60)
            if fault == "throttle":
                if account_id:
                    self.usage.force_block(account_id, now)
                raise errors.ads_management_throttled({})
            if fault == "transient":
                raise errors.transient()
            if fault == "permanent":
                raise errors.permanent_fault()
            if fault == "drop_after_create":
                drop = True
            result = route.run(now)
        except GraphError as exc:
            outcome = self.error_outcome(exc, [account_id] if account_id else [])
            outcome.fault = fault
            return outcome
        created: list[str] = []
        body = result
        if isinstance(result, Created):
            created = result.ids
            body = result.body
            if created and call.params.get("fields") and "id" in body:
                # Graph's read-after-write: a create with fields= answers the new node.
                obj = self.state.get_object(body["id"])
                if obj is not None:
                    body = self.render(obj, parse_fields(call.params["fields"]), call)
        return Outcome(
            status=200,
            body=body,
            headers=self.usage.headers([account_id] if account_id else [], now),
            created_ids=created,
            account_ids=[account_id] if account_id else [],
            drop=drop and bool(created),
            fault=fault,
        )

    def error_outcome(self, exc: GraphError, account_ids: list[str] | None = None) -> Outcome:
        headers = dict(exc.headers)
        # While throttled the usage headers report 100% and estimated_time_to_regain_access.
        headers.update(self.usage.headers(account_ids or []))
        return Outcome(
            status=exc.http_status,
            body=exc.body(),
            headers=headers,
            account_ids=account_ids or [],
        )

    # --- faults -----------------------------------------------------------------------------

    def _pick_fault(self, call: Call, route: Route) -> str | None:
        path = f"/{call.version}/{call.path}"
        fault = self.state.take_fault(call.method, path, is_create=route.is_create)
        if fault:
            return fault
        if route.is_create:
            name = str(call.params.get("name") or call.params.get("title") or "")
            for marker, kind in MARKERS.items():
                if marker in name and (kind, name) not in self.state.fired_markers:
                    self.state.fired_markers.add((kind, name))
                    return kind
        config = self.state.config
        roll = self.rng.random
        if config.fault_rate and roll() < config.fault_rate:
            return "transient"
        if config.expired_token_rate and roll() < config.expired_token_rate:
            return "expired_token"
        if route.is_create and config.drop_rate and roll() < config.drop_rate:
            return "drop_after_create"
        return None

    # --- routing ----------------------------------------------------------------------------

    def _route(self, call: Call, token: Token, version: tuple[int, int]) -> Route:
        segments = [s for s in call.path.split("/") if s]
        method = call.method
        params = Params(call.params)
        if not segments:
            if method == "GET" and params.present("ids"):
                ids = [i.strip() for i in str(params.str("ids")).strip("[]").split(",") if i]
                return Route(None, False, lambda now: self._read_many(call, token, ids))
            raise errors.required_param("id" if method == "GET" else "batch")
        head, rest = segments[0], segments[1:]
        if head == "me":
            return self._route_me(call, token, rest)
        if head.startswith("act_"):
            account = self.state.accounts.get(head.removeprefix("act_"))
            if account is None or account.id not in token.account_ids:
                raise errors.unsupported_request(method, head)
            return self._route_account(call, token, version, account, rest)
        run = self.state.report_runs.get(head)
        if run is not None and run.account_id in token.account_ids:
            return self._route_report_run(call, self.state.accounts[run.account_id], run, rest)
        obj = self.state.get_object(head)
        if obj is None or obj.account_id not in token.account_ids:
            raise errors.unsupported_request(method, head)
        account = self.state.accounts[obj.account_id]
        return self._route_object(call, token, version, account, obj, rest)

    # --- insights (insights.py) -------------------------------------------------------------

    def _insights_base(self, call: Call) -> str:
        return f"{call.origin}/{call.version}/{call.path.strip('/')}"

    def _route_insights(self, call: Call, account: Account, obj: GraphObject | None) -> Route:
        """`GET /act_<id>/insights` or `/<campaign|adset|ad>/insights`; `POST
        /act_<id>/insights` starts a report run."""
        if call.method == "POST" and obj is None:
            return Route(
                account.id, False, lambda now: start_report(self.state, account, call.params, now)
            )
        if call.method != "GET":
            raise errors.unsupported_request(call.method, obj.id if obj else account.act_id)

        def read(now: float) -> dict[str, Any]:
            params = Params(call.params)
            level = obj.type if obj is not None else "account"
            query = parse_query(params, account, level, now)
            ads = node_ads(self.state, obj) if obj else self.state.of_account(account.id, "ad")
            # A node's own figures include its children whatever their status.
            rows = compute_rows(self.state, account, ads, query, now, every_status=bool(obj))
            return paged(call.params, rows, self._insights_base(call))

        return Route(account.id, False, read)

    def _route_report_run(self, call: Call, account: Account, run: Any, rest: list[str]) -> Route:
        if call.method != "GET":
            raise errors.unsupported_request(call.method, run.id)
        if not rest:

            def status(now: float) -> dict[str, Any]:
                advance_report(run, now)
                return report_view(run, account, parse_fields(call.params.get("fields")))

            return Route(account.id, False, status)
        if rest == ["insights"]:
            return Route(
                account.id,
                False,
                lambda now: paged(
                    call.params,
                    report_rows(self.state, account, run),
                    self._insights_base(call),
                ),
            )
        if len(rest) == 1:
            raise errors.nonexisting_field(rest[0], "AdReportRun")
        raise errors.unknown_path("/" + "/".join(rest[1:]))

    def _route_me(self, call: Call, token: Token, rest: list[str]) -> Route:
        if call.method != "GET":
            raise errors.unsupported_request(call.method, "me")
        if not rest:
            view = {"id": token.user_id, "name": token.user_name}
            return Route(None, False, lambda now: self._project(view, call, "user"))
        if rest == ["adaccounts"]:
            return Route(None, False, lambda now: self._list_accounts(call, token))
        if len(rest) == 1:
            raise errors.nonexisting_field(rest[0], NODE_NAMES["user"])
        raise errors.unknown_path("/" + "/".join(rest[1:]))

    def _ctx(
        self, token: Token, account: Account, version: tuple[int, int], call: Call, now: float
    ) -> Ctx:
        return Ctx(self.state, token, account, version, call.origin, now)

    def _route_account(
        self,
        call: Call,
        token: Token,
        version: tuple[int, int],
        account: Account,
        rest: list[str],
    ) -> Route:
        method = call.method
        params = Params(call.params)
        if not rest:
            if method != "GET":
                raise errors.unsupported_request(method, account.act_id)
            return Route(
                account.id,
                False,
                lambda now: self._project(self.account_view(account), call, "account"),
            )
        if len(rest) > 1:
            raise errors.unknown_path("/" + "/".join(rest[1:]))
        edge = rest[0]
        if edge == "insights":
            return self._route_insights(call, account, None)
        if edge not in EDGE_TYPES:
            if method == "GET":
                raise errors.nonexisting_field(edge, NODE_NAMES["account"])
            raise errors.unsupported_request(method, account.act_id)
        object_type = EDGE_TYPES[edge]
        if method == "GET":
            return Route(
                account.id,
                False,
                lambda now: self._list(
                    call, self.state.of_account(account.id, object_type), object_type, now
                ),
            )
        if method == "POST":
            creators: dict[str, Callable[[Ctx], Created]] = {
                "campaign": lambda ctx: create_campaign(ctx, params),
                "adset": lambda ctx: create_adset(ctx, params),
                "adcreative": lambda ctx: create_creative(ctx, params),
                "ad": lambda ctx: create_ad(ctx, params),
                "adimage": lambda ctx: create_images(ctx, params, call.files),
                "advideo": lambda ctx: upload_video(ctx, params, call.files),
            }
            creator = creators[object_type]
            is_create = object_type != "advideo" or params.str("upload_phase") in (None, "start")
            return Route(
                account.id,
                is_create,
                lambda now: creator(self._ctx(token, account, version, call, now)),
            )
        if method == "DELETE" and object_type in ("adimage", "advideo"):
            return Route(
                account.id, False, lambda now: self._delete_media(account, object_type, params, now)
            )
        raise errors.unsupported_request(method, account.act_id)

    def _route_object(
        self,
        call: Call,
        token: Token,
        version: tuple[int, int],
        account: Account,
        obj: GraphObject,
        rest: list[str],
    ) -> Route:
        method = call.method
        if not rest:
            if method == "GET":
                return Route(
                    account.id,
                    False,
                    lambda now: self.render(
                        obj, parse_fields(call.params.get("fields")), call, now
                    ),
                )
            if method == "POST":
                params = Params(call.params)
                return Route(
                    account.id,
                    False,
                    lambda now: update_object(
                        self._ctx(token, account, version, call, now), obj, params
                    ),
                )
            if method == "DELETE":

                def remove(now: float) -> dict[str, Any]:
                    delete_object(self.state, obj, now)
                    return {"success": True}

                return Route(account.id, False, remove)
            raise errors.unsupported_request(method, obj.id)
        if len(rest) > 1:
            raise errors.unknown_path("/" + "/".join(rest[1:]))
        edge = rest[0]
        if edge == "insights" and obj.type in ("campaign", "adset", "ad"):
            return self._route_insights(call, account, obj)
        edges = NODE_EDGES.get(obj.type, {})
        if edge not in edges:
            if method == "GET":
                raise errors.nonexisting_field(edge, NODE_NAMES[obj.type])
            raise errors.unsupported_request(method, obj.id)
        if method != "GET":
            raise errors.unsupported_request(method, obj.id)
        return Route(
            account.id,
            False,
            lambda now: self._list(call, self._edge_objects(obj, edges[edge]), edges[edge], now),
        )

    def _edge_objects(self, obj: GraphObject, object_type: str) -> list[GraphObject]:
        if obj.type == "campaign" and object_type == "ad":
            adset_ids = {a.id for a in self.state.children(obj.id, "adset")}
            return [
                o for o in self.state.of_account(obj.account_id, "ad") if o.parent_id in adset_ids
            ]
        if object_type == "adcreative":
            ads = [obj] if obj.type == "ad" else self.state.children(obj.id, "ad")
            ids = {str(a.fields.get("creative", {}).get("id")) for a in ads}
            return [o for o in self.state.of_account(obj.account_id, "adcreative") if o.id in ids]
        return self.state.children(obj.id, object_type)

    # --- reads ------------------------------------------------------------------------------

    def account_view(self, account: Account) -> dict[str, Any]:
        return {
            "id": account.act_id,
            "account_id": account.id,
            "name": account.name,
            "account_status": account.account_status,
            "currency": account.currency,
            "timezone_name": account.timezone_name,
            "timezone_offset_hours_utc": account.timezone_offset_hours_utc,
            "amount_spent": "0",
            "balance": "0",
            "spend_cap": "0",
            "disable_reason": 0,
            "is_personal": 0,
            "created_time": format_time(account.created_time),
            "default_dsa_payor": account.default_dsa_payor,
            "default_dsa_beneficiary": account.default_dsa_beneficiary,
        }

    def effective_status(self, obj: GraphObject, now: float | None = None) -> str:
        return effective_status(self.state, obj, time.time() if now is None else now)

    def view(self, obj: GraphObject, now: float | None = None, origin: str = "") -> dict[str, Any]:
        """Every readable value of an object, in Meta's formats (numbers as numeric strings,
        datetimes as ``2026-05-12T17:45:09+0000``)."""
        now = time.time() if now is None else now
        data: dict[str, Any] = {}
        for key, value in obj.fields.items():
            if value is None:
                continue
            if key in TIME_FIELDS and isinstance(value, (int, float)):
                value = format_time(value)
            elif key in STRING_NUMBERS:
                value = str(value)
            data[key] = value
        data["id"] = obj.id
        data["created_time"] = format_time(obj.created_time)
        data["updated_time"] = format_time(obj.updated_time)
        if obj.type in ("campaign", "adset", "ad"):
            status = str(obj.fields.get("status", "ACTIVE"))
            data["status"] = status
            data["configured_status"] = status
            data["effective_status"] = self.effective_status(obj, now)
            issues = issues_info(obj)
            if issues:
                data["issues_info"] = issues
        if obj.type == "campaign":
            daily = obj.fields.get("daily_budget")
            lifetime = obj.fields.get("lifetime_budget")
            data["budget_remaining"] = str(daily or lifetime or 0)
            categories = obj.fields.get("special_ad_categories") or []
            data["special_ad_category"] = categories[0] if categories else "NONE"
            data.setdefault("pacing_type", ["standard"])
        if obj.type == "adset":
            campaign = self.state.objects[str(obj.parent_id)]
            data["campaign"] = {"id": campaign.id}
            data["bid_strategy"] = effective_bid_strategy(obj.fields, campaign)
            data["budget_remaining"] = str(
                obj.fields.get("daily_budget") or obj.fields.get("lifetime_budget") or 0
            )
        if obj.type == "ad":
            data["adset"] = {"id": obj.parent_id}
            data["campaign"] = {"id": obj.fields.get("campaign_id")}
            feedback = review_feedback(obj, now)
            if feedback is not None:
                data["ad_review_feedback"] = feedback
        if obj.type == "advideo":
            data["status"] = video_status_field(self.state, obj, now)
            data.setdefault("title", "")
            data["length"] = 0
            data["published"] = False
            if obj.blob is not None and origin:
                data["source"] = f"{origin}/__sandbox__/media/videos/{obj.id}"
            # Meta's Video node: `picture` is "the URL for the thumbnail picture of the video";
            # Meta generates thumbnails once the video is processed.
            if data["status"].get("video_status") == "ready" and origin:
                data["picture"] = f"{origin}/__sandbox__/media/videos/{obj.id}/picture.jpg"
        return data

    def render(
        self,
        obj: GraphObject,
        specs: list[FieldSpec] | None,
        call: Call,
        now: float | None = None,
        default: tuple[str, ...] = ("id",),
    ) -> dict[str, Any]:
        view = self.view(obj, now, call.origin)
        if specs is None:
            specs = [FieldSpec(name) for name in default]
        allowed = FIELD_SETS[obj.type]
        result: dict[str, Any] = {}
        for spec in specs:
            if spec.name not in allowed and spec.name != "id":
                raise errors.nonexisting_field(spec.name, NODE_NAMES[obj.type])
            edges = NODE_EDGES.get(obj.type, {})
            if spec.name in edges:
                # A nested edge lists what the edge itself lists (no DELETED/ARCHIVED), one page.
                found = self._edge_objects(obj, edges[spec.name])[::-1]
                ids = [c.id for c in found if self._visible(c, Params({}), [])]
                # The rest is read from the edge itself with the after cursor.
                ids, cursors, _, _ = page(ids, limit=spec.limit or 25, after=None, before=None)
                data = [self.render(self.state.objects[i], spec.children, call, now) for i in ids]
                result[spec.name] = {"data": data, "paging": {"cursors": cursors}}
                continue
            if spec.name not in view:
                continue
            value = view[spec.name]
            if spec.children is not None and isinstance(value, dict):
                target = self.state.get_object(str(value.get("id"))) if "id" in value else None
                if target is not None and spec.name in ("campaign", "adset", "creative"):
                    value = self.render(target, spec.children, call, now)
                else:
                    wanted = {c.name for c in spec.children}
                    value = {k: v for k, v in value.items() if k in wanted or k == "id"}
            result[spec.name] = value
        result.setdefault("id", view["id"])
        return result

    def _project(self, view: dict[str, Any], call: Call, node: str) -> dict[str, Any]:
        specs = parse_fields(call.params.get("fields"))
        if specs is None:
            return {"id": view["id"]} if node != "user" else dict(view)
        allowed = FIELD_SETS[node]
        result: dict[str, Any] = {}
        for spec in specs:
            if spec.name not in allowed:
                raise errors.nonexisting_field(spec.name, NODE_NAMES[node])
            if spec.name in view and view[spec.name] is not None:
                result[spec.name] = view[spec.name]
        result["id"] = view["id"]
        return result

    def _read_many(self, call: Call, token: Token, ids: list[str]) -> dict[str, Any]:
        result = {}
        for object_id in ids:
            obj = self.state.get_object(object_id)
            if obj is None or obj.account_id not in token.account_ids:
                raise errors.unsupported_request("GET", object_id)
            result[object_id] = self.render(obj, parse_fields(call.params.get("fields")), call)
        return result

    def _list_accounts(self, call: Call, token: Token) -> dict[str, Any]:
        views = [self.account_view(self.state.accounts[a]) for a in sorted(token.account_ids)]
        data = [self._project(v, call, "account") for v in views]
        return {"data": data, "paging": {"cursors": {}}}

    def _visible(self, obj: GraphObject, params: Params, filters: list[dict[str, Any]]) -> bool:
        status_filter = params.json("effective_status", list)
        explicit = status_filter is not None or any(
            f["field"] in ("effective_status", "status", "configured_status") for f in filters
        )
        if obj.type in ("campaign", "adset", "ad"):
            effective = self.effective_status(obj)
            if status_filter is not None and effective not in status_filter:
                return False
            # Ad Account Campaigns reference: "A request with no filters returns only campaigns
            # that were not archived or deleted." Best practices: deleted objects are not
            # returned from another object's edge.
            if not explicit and effective in ("DELETED", "ARCHIVED"):
                return False
        elif obj.deleted:
            return False
        return True

    def _list(
        self, call: Call, objects: list[GraphObject], object_type: str, now: float
    ) -> dict[str, Any]:
        params = Params(call.params)
        filters = parse_filtering(params.json("filtering", list))
        candidates = [o for o in objects if self._visible(o, params, filters)]
        if object_type == "adimage":
            hashes = params.json("hashes", list)
            if hashes is not None:
                candidates = [o for o in candidates if o.fields.get("hash") in hashes]
            if params.present("name"):
                candidates = [o for o in candidates if o.fields.get("name") == params.str("name")]
        if object_type == "advideo" and params.present("title"):
            # Ad Account Ad Videos reference, Reading: `title`, "Video name used in the video
            # names filter". An exact name here.
            title = params.str("title")
            candidates = [o for o in candidates if o.fields.get("title") == title]
        if filters:
            candidates = [
                o
                for o in candidates
                if all(matches(self.view(o, now, call.origin), f) for f in filters)
            ]
        candidates = candidates[::-1]  # newest first
        limit = parse_limit(params.raw("limit"))
        ids, cursors, has_next, has_previous = page(
            [o.id for o in candidates],
            limit=limit,
            after=params.str("after"),
            before=params.str("before"),
        )
        default = ("hash", "id") if object_type == "adimage" else ("id",)
        specs = parse_fields(params.raw("fields"))
        data = [self.render(self.state.objects[i], specs, call, now, default) for i in ids]
        paging: dict[str, Any] = {"cursors": cursors}
        base = f"{call.origin}/{call.version}/{call.path.strip('/')}"
        query = {
            k: (v if isinstance(v, str) else json.dumps(v))
            for k, v in call.params.items()
            if k not in ("after", "before")
        }
        if has_next:
            paging["next"] = f"{base}?{urlencode({**query, 'after': cursors['after']})}"
        if has_previous:
            paging["previous"] = f"{base}?{urlencode({**query, 'before': cursors['before']})}"
        body: dict[str, Any] = {"data": data, "paging": paging}
        if str(params.raw("summary") or "").lower() in ("true", "1", "total_count"):
            body["summary"] = {"total_count": len(candidates)}
        return body

    def _delete_media(
        self, account: Account, object_type: str, params: Params, now: float
    ) -> dict[str, Any]:
        if object_type == "adimage":
            image_hash = params.str("hash", required=True)
            obj = self.state.get_object(f"{account.id}:{image_hash}")
        else:
            obj = self.state.get_object(str(params.str("video_id", required=True)))
        if obj is None or obj.account_id != account.id or obj.type != object_type:
            raise errors.invalid_parameter("Not found", "No such media in this ad account.")
        delete_object(self.state, obj, now)
        return {"success": True}

    # --- request log ------------------------------------------------------------------------

    def _log(self, call: Call, outcome: Outcome, started: float) -> None:
        entry: dict[str, Any] = {
            "time": started,
            "method": call.method,
            "path": f"/{call.version}/{call.path}".rstrip("/") or "/",
            "params": redact(call.params),
            "files": [
                {"field": f.field, "filename": f.filename, "size": len(f.content)}
                for f in call.files.values()
            ],
            "status": outcome.status,
            "created_ids": list(outcome.created_ids),
            "dropped": outcome.drop,
            "fault": outcome.fault,
            "connection": call.connection,
        }
        if isinstance(outcome.body, dict) and "error" in outcome.body:
            error = outcome.body["error"]
            entry["error"] = {
                "code": error.get("code"),
                "subcode": error.get("error_subcode"),
                "message": error.get("message"),
            }
        if outcome.operations is not None:
            entry["operations"] = outcome.operations
        self.state.log_request(entry)
