"""Control API for what happens on Meta after objects are made (README, "Control API"): a
review verdict given later, delivery issues, when ads start delivering, a restated day, and
how report runs behave. Tests use these to make "a disapproval on Meta" or "a corrected day".
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from aiohttp import web

from .report_runs import FINAL
from .review import ISSUE_LEVELS, decide_review, default_issue
from .state import GraphObject, SandboxState

ISSUE_KEYS = ("level", "error_code", "error_summary", "error_message", "error_type", "mid")


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _body(request: web.Request) -> dict[str, Any] | None:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _state(request: web.Request) -> SandboxState:
    from .control import STATE_KEY  # control imports this module: imported when used

    return request.app[STATE_KEY]


def _object(state: SandboxState, object_id: str, types: tuple[str, ...]) -> GraphObject | None:
    obj = state.get_object(str(object_id))
    return obj if obj is not None and obj.type in types else None


async def control_review(request: web.Request) -> web.Response:
    """`POST /__sandbox__/objects/<ad id>/review {"verdict": "DISAPPROVED" | "APPROVED",
    "feedback"?: {"global": {"<reason>": "<text>"}, "placement_specific"?: {...}}}`."""
    state = _state(request)
    body = await _body(request)
    if body is None:
        return _bad("body must be a JSON object")
    verdict = str(body.get("verdict", "")).upper()
    if verdict not in ("DISAPPROVED", "APPROVED"):
        return _bad("verdict must be DISAPPROVED or APPROVED")
    feedback = body.get("feedback")
    if feedback is not None and not (
        isinstance(feedback, dict)
        and set(feedback) <= {"global", "placement_specific"}
        and all(isinstance(v, dict) for v in feedback.values())
    ):
        return _bad('feedback must be {"global": {"<reason>": "<text>"}, "placement_specific"?}')
    with state.lock:
        ad = _object(state, request.match_info["id"], ("ad",))
        if ad is None:
            return _bad("no such ad")
        decide_review(ad, time.time(), disapproved=verdict == "DISAPPROVED", feedback=feedback)
    return web.json_response({"success": True, "id": ad.id, "verdict": verdict})


async def control_issues(request: web.Request) -> web.Response:
    """`POST /__sandbox__/objects/<id>/issues {"issues"?: [...]}`: the object's
    `issues_info` (absent: one issue of the sandbox's; `[]`: none); `DELETE` forgets what was
    set (the name's marker counts again)."""
    state = _state(request)
    body = await _body(request) if request.method == "POST" else {}
    if body is None:
        return _bad("body must be a JSON object")
    with state.lock:
        obj = _object(state, request.match_info["id"], tuple(ISSUE_LEVELS))
        if obj is None:
            return _bad("no such campaign, ad set or ad")
        if request.method == "DELETE":
            obj.extra.pop("issues", None)
            return web.json_response({"success": True})
        issues = body.get("issues")
        if issues is None:
            issues = [default_issue(obj)]
        if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
            return _bad("issues must be a list of objects")
        base = default_issue(obj)
        obj.extra["issues"] = [{k: issue.get(k, base[k]) for k in ISSUE_KEYS} for issue in issues]
        return web.json_response({"success": True, "issues_info": obj.extra["issues"]})


def _day(value: Any) -> str | None:
    try:
        return datetime.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        return None


async def control_delivery(request: web.Request) -> web.Response:
    """`POST /__sandbox__/insights/delivery {"object_id", "since": "YYYY-MM-DD"}`: the ads
    under the object deliver from that day (else from their creation day)."""
    state = _state(request)
    body = await _body(request) or {}
    since = _day(body.get("since"))
    if since is None:
        return _bad("since must be a date YYYY-MM-DD")
    with state.lock:
        obj = _object(state, str(body.get("object_id")), tuple(ISSUE_LEVELS))
        if obj is None:
            return _bad("object_id must name a campaign, ad set or ad")
        obj.extra["delivery_since"] = since
    return web.json_response({"success": True})


async def control_restate(request: web.Request) -> web.Response:
    """`POST /__sandbox__/insights/restate {"object_id", "date", "factor"}`: the figures of
    every ad under the object on that day are multiplied by `factor` (its parents' sums with
    them), as when Meta corrects a recent day."""
    state = _state(request)
    body = await _body(request) or {}
    day = _day(body.get("date"))
    try:
        factor = float(body.get("factor", 0))
    except (TypeError, ValueError):
        factor = 0.0
    if day is None or factor <= 0:
        return _bad("date (YYYY-MM-DD) and a positive factor are required")
    with state.lock:
        obj = _object(state, str(body.get("object_id")), tuple(ISSUE_LEVELS))
        if obj is None:
            return _bad("object_id must name a campaign, ad set or ad")
        restated = obj.extra.setdefault("restated", {})
        restated[day] = float(restated.get(day, 1.0)) * factor
    return web.json_response({"success": True})


async def control_report_runs(request: web.Request) -> web.Response:
    """`GET /__sandbox__/report_runs`: every run; `POST {"polls"?, "seconds"?, "outcome"?}`:
    how new runs behave (the config's report_run_* fields)."""
    state = _state(request)
    if request.method == "POST":
        body = await _body(request)
        if body is None:
            return _bad("body must be a JSON object")
        outcome = body.get("outcome")
        if outcome is not None and outcome not in FINAL:
            return _bad(f"outcome must be one of {', '.join(FINAL)}")
        try:
            with state.lock:
                if "polls" in body:
                    state.config.report_run_polls = max(0, int(body["polls"]))
                if "seconds" in body:
                    state.config.report_run_seconds = max(0.0, float(body["seconds"]))
                if outcome is not None:
                    state.config.report_run_outcome = outcome
        except (TypeError, ValueError):
            return _bad("polls must be an integer, seconds a number")
    with state.lock:
        runs = [run.as_dict() for run in state.report_runs.values()]
        config = {
            "polls": state.config.report_run_polls,
            "seconds": state.config.report_run_seconds,
            "outcome": state.config.report_run_outcome,
        }
    return web.json_response({"data": runs, "config": config})


async def control_report_run(request: web.Request) -> web.Response:
    """`POST /__sandbox__/report_runs/<id> {"outcome": "Job Failed" | "Job Skipped" | "Job
    Completed"}`: the run ends so at its next status read."""
    state = _state(request)
    body = await _body(request) or {}
    outcome = body.get("outcome")
    if outcome not in FINAL:
        return _bad(f"outcome must be one of {', '.join(FINAL)}")
    with state.lock:
        run = state.report_runs.get(request.match_info["id"])
        if run is None:
            return _bad("no such report run")
        run.outcome = outcome
        if run.status in FINAL:
            run.status = outcome
        run.polls = min(run.polls, run.reads)
        run.seconds = 0.0
        return web.json_response(run.as_dict())


def add_delivery_routes(app: web.Application) -> None:
    app.router.add_post("/__sandbox__/objects/{id}/review", control_review)
    app.router.add_route("POST", "/__sandbox__/objects/{id}/issues", control_issues)
    app.router.add_route("DELETE", "/__sandbox__/objects/{id}/issues", control_issues)
    app.router.add_post("/__sandbox__/insights/delivery", control_delivery)
    app.router.add_post("/__sandbox__/insights/restate", control_restate)
    app.router.add_route("GET", "/__sandbox__/report_runs", control_report_runs)
    app.router.add_route("POST", "/__sandbox__/report_runs", control_report_runs)
    app.router.add_post("/__sandbox__/report_runs/{id}", control_report_run)
