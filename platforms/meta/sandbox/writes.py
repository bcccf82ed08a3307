"""What every write shares: the call it serves (``Ctx``), its answer (``Created``), which
parameters are stored as fields, and the checks several object types make alike (status on
creation, budgets, ad labels, ownership of referenced objects).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from . import errors
from .enums import CREATE_STATUSES
from .params import Params
from .state import Account, GraphObject, SandboxState, Token

# Parameters that steer the call rather than describe the object; never stored as fields.
CONTROL_PARAMS: frozenset[str] = frozenset(
    {
        "access_token",
        "appsecret_proof",
        "fields",
        "execution_options",
        "method",
        "format",
        "pretty",
        "suppress_http_code",
        "locale",
        "summary",
        "limit",
        "after",
        "before",
        "filtering",
        "include_headers",
        "debug",
        "fb_api_req_friendly_name",
        "fb_api_caller_class",
        "redownload",
    }
)
JSON_OBJECT_PARAMS: frozenset[str] = frozenset(
    {
        "targeting",
        "promoted_object",
        "object_story_spec",
        "asset_feed_spec",
        "creative",
        "bid_constraints",
        "degrees_of_freedom_spec",
        "call_to_action",
        "contextual_multi_ads",
        "regional_regulation_identities",
        "tracking_and_conversion_with_defaults",
        "poll_spec",
        "interactive_components_spec",
    }
)
JSON_LIST_PARAMS: frozenset[str] = frozenset(
    {
        "special_ad_categories",
        "special_ad_category_country",
        "adlabels",
        "attribution_spec",
        "frequency_control_specs",
        "tracking_specs",
        "conversion_specs",
        "pacing_type",
        "adset_schedule",
        "budget_schedule_specs",
        "regional_regulated_categories",
        "creative_sequence",
    }
)


@dataclass
class Ctx:
    """What a write needs to know about the call it serves."""

    state: SandboxState
    token: Token
    account: Account
    version: tuple[int, int]
    origin: str
    now: float


@dataclass
class Created:
    body: dict[str, Any]
    ids: list[str]


def stored(params: Params, skip: set[str]) -> dict[str, Any]:
    """Parameters kept verbatim as readable fields (JSON strings decoded)."""
    fields: dict[str, Any] = {}
    for name, value in params.values.items():
        if name in CONTROL_PARAMS or name in skip or value is None:
            continue
        if isinstance(value, str) and (name in JSON_OBJECT_PARAMS or name in JSON_LIST_PARAMS):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        fields[name] = value
    return fields


def validate_only(params: Params) -> bool:
    options = params.json("execution_options", list)
    return bool(options) and "validate_only" in options


def create_status(params: Params) -> str:
    # "Only ACTIVE and PAUSED are valid during creation." When absent the sandbox stores ACTIVE,
    # Graph's default for new objects.
    return params.enum("status", CREATE_STATUSES) or "ACTIVE"


def positive_budget(params: Params, name: str) -> int | None:
    value = params.int(name)
    if value is None or value == 0:
        return None
    if value < 0:
        raise errors.invalid_parameter(
            "Invalid budget",
            f"{name} must be a positive amount in the account currency's minor unit.",
            blame_fields=[name],
        )
    return value


def adlabels(ctx: Ctx, params: Params) -> list[dict[str, str]] | None:
    labels = params.json("adlabels", list)
    if labels is None:
        return None
    result = []
    known = ctx.state.adlabels.get(ctx.account.id, {})
    by_id = {label_id: name for name, label_id in known.items()}
    for index, label in enumerate(labels):
        if isinstance(label, str):
            label = {"name": label}
        if not isinstance(label, dict) or not (label.get("name") or label.get("id")):
            raise errors.invalid_parameter(
                "Invalid ad label",
                "Each ad label needs a name or an id.",
                blame_fields=[f"adlabels[{index}]"],
            )
        if label.get("name"):
            name = str(label["name"])
            result.append({"id": ctx.state.label_id(ctx.account.id, name), "name": name})
        else:
            label_id = str(label["id"])
            if label_id not in by_id:
                raise errors.invalid_parameter(
                    "Invalid ad label",
                    f"Ad label {label_id} does not exist in this ad account.",
                    blame_fields=["adlabels"],
                )
            result.append({"id": label_id, "name": by_id[label_id]})
    return result


def owned(ctx: Ctx, object_id: Any, object_type: str) -> GraphObject | None:
    obj = ctx.state.get_object(str(object_id)) if object_id is not None else None
    if obj is None or obj.type != object_type or obj.account_id != ctx.account.id:
        return None
    return obj


def new_object(
    ctx: Ctx, object_type: str, parent_id: str | None, fields: dict[str, Any]
) -> GraphObject:
    object_id = ctx.state.new_id(object_type)
    fields = {**fields, "id": object_id}
    return GraphObject(
        id=object_id,
        type=object_type,
        account_id=ctx.account.id,
        parent_id=parent_id,
        fields=fields,
        created_time=ctx.now,
        updated_time=ctx.now,
    )
