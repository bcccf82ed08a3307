"""The Graph API batch endpoint (POST to the version root with ``batch=[...]``).

Graph API Batch Requests (https://developers.facebook.com/docs/graph-api/batch-requests):
- "Batch requests are limited to 50 requests per batch. Each call within the batch is counted
  separately for the purposes of calculating API call limits" -> each operation goes through
  ``Graph.execute`` (rate limit, faults) on its own.
- "Batch requests cannot include multiple Adsets under the same Campaign." The page states the
  limit, not Meta's answer, and makes no exception for updates; the sandbox runs the first ad
  set (created or changed) of a campaign and answers every further one in the same batch with
  code 100 (see README).
- Each operation: ``method``, ``relative_url``, optional ``body`` (form-encoded string), ``name``,
  ``depends_on``, ``omit_response_on_success``, ``attached_files``, ``headers``; the response is
  an array, in request order, of ``{"code", "headers", "body": "<JSON string>"}`` (``headers``
  left out with ``include_headers=false``).
- Dependencies use JSONPath: ``{result=<name>:$.id}`` in ``relative_url`` or ``body``. The
  response of a referenced named operation is left out (``null``) unless it sets
  ``"omit_response_on_success": false``. Operations that depend on a failed operation are not
  run; their slot is ``null``, like operations a timed-out batch did not complete.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from . import errors
from .errors import GraphError
from .graph import Call, Graph, Outcome, redact
from .params import Params, parse_version
from .state import Token

MAX_OPERATIONS = 50
RESULT_RE = re.compile(r"\{result=([^:}]+):(\$[^}]*)\}")
ADSET_CREATE_RE = re.compile(r"^act_\d+/adsets/?$")
NODE_RE = re.compile(r"^/?\d+/?$")
BATCH_CONTENT_TYPE = "text/javascript; charset=UTF-8"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _references(text: str) -> set[str]:
    found = {m.group(1) for m in RESULT_RE.finditer(text)}
    found |= {m.group(1) for m in RESULT_RE.finditer(unquote_plus(text))}
    return found


def _op_text(op: dict[str, Any]) -> str:
    body = op.get("body")
    body_text = body if isinstance(body, str) else json.dumps(body) if body else ""
    return f"{op.get('relative_url', '')} {body_text}"


def _depends_on(op: dict[str, Any]) -> set[str]:
    value = op.get("depends_on")
    if value is None:
        return set()
    if isinstance(value, list):
        return {str(v) for v in value}
    return {part.strip() for part in str(value).split(",") if part.strip()}


def _jsonpath(document: Any, expression: str) -> Any:
    """The JSONPath subset Graph batch references use: ``$.a.b``, ``$.a[0]``, ``$.a.*.b``."""
    tokens = re.findall(r"\.([^.\[\]]+)|\[(\d+|\*)\]", expression[1:])
    values = [document]
    multiple = False
    for name, index in tokens:
        key = name or index
        following: list[Any] = []
        for value in values:
            if key == "*":
                multiple = True
                if isinstance(value, dict):
                    following.extend(value.values())
                elif isinstance(value, list):
                    following.extend(value)
            elif isinstance(value, list) and key.isdigit():
                if int(key) < len(value):
                    following.append(value[int(key)])
            elif isinstance(value, dict) and key in value:
                following.append(value[key])
        values = following
    if not values:
        return None

    def text(value: Any) -> str:
        return json.dumps(value) if isinstance(value, (dict, list)) else str(value)

    if multiple or len(values) > 1:
        return ",".join(text(v) for v in values)
    return text(values[0])


def _substitute(text: str, named: dict[str, tuple[bool, Any]]) -> str:
    def replace(match: re.Match[str]) -> str:
        name, expression = match.group(1), match.group(2)
        _, body = named[name]
        value = _jsonpath(body, expression)
        if value is None:
            raise GraphError(
                f"(#100) The batch reference {{result={name}:{expression}}} matched nothing in "
                f"the response of operation {name}",
                code=100,
            )
        return value

    return RESULT_RE.sub(replace, text)


def _op_error(exc: GraphError, include_headers: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": exc.http_status, "body": _compact(exc.body())}
    if include_headers:
        entry["headers"] = [{"name": "Content-Type", "value": BATCH_CONTENT_TYPE}]
    return entry


def run_batch(graph: Graph, call: Call, token: Token, version: tuple[int, int]) -> Outcome:
    params = Params(call.params)
    operations = params.json("batch", list, required=True)
    if len(operations) > MAX_OPERATIONS:
        raise errors.batch_too_large()
    include_headers = params.bool("include_headers")
    include_headers = True if include_headers is None else include_headers
    referenced: set[str] = set()
    for op in operations:
        if isinstance(op, dict):
            referenced |= _references(_op_text(op)) | _depends_on(op)

    named: dict[str, tuple[bool, Any]] = {}
    claimed_campaigns: set[str] = set()
    responses: list[dict[str, Any] | None] = []
    summaries: list[dict[str, Any]] = []
    succeeded: list[bool] = []
    created: list[str] = []
    accounts: list[str] = []
    drop = False

    for index, op in enumerate(operations):
        summary: dict[str, Any] = {"index": index}
        summaries.append(summary)
        name = str(op["name"]) if isinstance(op, dict) and op.get("name") else None
        summary["name"] = name
        try:
            sub_call, sub_token, sub_version = _prepare(
                graph, call, token, version, index, op, named, claimed_campaigns
            )
        except _Skip:
            summary["skipped"] = "a dependency failed"
            responses.append(None)
            succeeded.append(False)
            if name:
                named[name] = (False, None)
            continue
        except GraphError as exc:
            summary["status"] = exc.http_status
            summary["error"] = {"code": exc.code, "subcode": exc.subcode, "message": exc.message}
            responses.append(_op_error(exc, include_headers))
            succeeded.append(False)
            if name:
                named[name] = (False, exc.body())
            continue
        outcome = graph.execute(sub_call, sub_token, sub_version)
        summary.update(
            {
                "method": sub_call.method,
                "path": f"/{sub_call.version}/{sub_call.path}",
                "params": redact(sub_call.params),
                "status": outcome.status,
                "created_ids": outcome.created_ids,
                "fault": outcome.fault,
            }
        )
        if not outcome.ok and isinstance(outcome.body, dict):
            error = outcome.body.get("error", {})
            summary["error"] = {
                "code": error.get("code"),
                "subcode": error.get("error_subcode"),
                "message": error.get("message"),
            }
        created.extend(outcome.created_ids)
        accounts.extend(outcome.account_ids)
        drop = drop or outcome.drop
        entry: dict[str, Any] = {"code": outcome.status, "body": _compact(outcome.body)}
        if include_headers:
            headers = {"Content-Type": BATCH_CONTENT_TYPE, **outcome.headers}
            entry["headers"] = [{"name": k, "value": v} for k, v in headers.items()]
        responses.append(entry)
        succeeded.append(outcome.ok)
        if name:
            named[name] = (outcome.ok, outcome.body)

    for index, op in enumerate(operations):
        if not isinstance(op, dict) or not op.get("name") or not succeeded[index]:
            continue
        omit_value = op.get("omit_response_on_success")
        if omit_value is None:
            omit = str(op["name"]) in referenced
        else:
            omit = str(omit_value).lower() not in ("false", "0")
        if omit:
            responses[index] = None
            summaries[index]["omitted"] = True

    return Outcome(
        status=200,
        body=responses,
        headers=graph.usage.headers(accounts),
        created_ids=created,
        account_ids=accounts,
        drop=drop,
        operations=summaries,
    )


class _Skip(Exception):
    """An operation not run because an operation it depends on failed."""


def _prepare(
    graph: Graph,
    call: Call,
    token: Token,
    version: tuple[int, int],
    index: int,
    op: Any,
    named: dict[str, tuple[bool, Any]],
    claimed_campaigns: set[str],
) -> tuple[Call, Token, tuple[int, int]]:
    if not isinstance(op, dict):
        raise errors.not_json(f"batch[{index}]", "object")
    method = str(op.get("method") or "GET").upper()
    if method == "PUT":
        method = "POST"
    if method not in ("GET", "POST", "DELETE"):
        raise errors.enum_param(f"batch[{index}][method]", ("GET", "POST", "PUT", "DELETE"))
    relative_url = op.get("relative_url")
    if not relative_url:
        raise errors.required_param(f"batch[{index}][relative_url]")
    dependencies = _references(_op_text(op)) | _depends_on(op)
    for dependency in dependencies:
        if dependency not in named:
            raise GraphError(
                f"(#100) Batch operation {index} depends on operation {dependency!r}, which is "
                "not an earlier operation of this batch",
                code=100,
            )
        if not named[dependency][0]:
            raise _Skip
    relative_url = _substitute(str(relative_url), named)
    path, _, query = relative_url.lstrip("/").partition("?")
    first, _, remainder = path.partition("/")
    op_version_text = call.version
    if parse_version(first) is not None:
        op_version_text, path = first, remainder
    op_version = parse_version(op_version_text) or version
    minimum = parse_version(graph.state.config.min_api_version) or (0, 0)
    if op_version < minimum:
        raise errors.deprecated_version(op_version_text)
    op_params: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        op_params[key] = _substitute(value, named)
    body = op.get("body")
    if isinstance(body, str):
        for key, value in parse_qsl(_substitute(body, named), keep_blank_values=True):
            op_params[key] = _substitute(value, named)
    elif isinstance(body, dict):
        op_params.update(body)
    files = {}
    attached = op.get("attached_files")
    if attached:
        for field_name in str(attached).split(","):
            field_name = field_name.strip()
            if field_name not in call.files:
                raise errors.invalid_parameter(
                    "Attached file missing",
                    f"attached_files names {field_name!r}, which is not a file of this request.",
                    blame_fields=["attached_files"],
                )
            files[field_name] = call.files[field_name]
    op_token = token
    if op_params.get("access_token") and op_params["access_token"] != token.value:
        op_token = graph.authenticate(op_params, None)
    campaign_id = ""
    if method == "POST" and ADSET_CREATE_RE.match(path):
        campaign_id = str(op_params.get("campaign_id") or "")
    elif method == "POST" and NODE_RE.match(path):
        # The page makes no exception for updates: an ad set changed counts as one too.
        node = graph.state.objects.get(path.strip("/"))
        if node is not None and node.type == "adset":
            campaign_id = str(node.parent_id or "")
    if campaign_id:
        if campaign_id in claimed_campaigns:
            raise errors.invalid_parameter(
                "Multiple ad sets of one campaign in a batch",
                "Batch requests cannot include multiple Adsets under the same Campaign. Send "
                "this ad set in another request.",
                blame_fields=["campaign_id"],
            )
        claimed_campaigns.add(campaign_id)
    sub_call = Call(
        method=method,
        path=path,
        version=op_version_text,
        params=op_params,
        files=files,
        origin=call.origin,
        batch_index=index,
        connection=call.connection,
    )
    return sub_call, op_token, op_version
