"""The control API under ``/__sandbox__/``: not Graph, no auth, no latency. Tests and operators
register accounts, reset state, read the request log and stored objects, schedule faults, change
the configuration, and fetch stored media through it (README, "Control API").
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .control_delivery import add_delivery_routes
from .graph import Graph
from .state import SandboxState

STATE_KEY: web.AppKey[SandboxState] = web.AppKey("sandbox_state", SandboxState)
GRAPH_KEY: web.AppKey[Graph] = web.AppKey("sandbox_graph", Graph)
JSON_CONTENT_TYPE = "application/json"


async def _json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"error": "body must be JSON"}', content_type=JSON_CONTENT_TYPE
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error": "body must be a JSON object"}', content_type=JSON_CONTENT_TYPE
        )
    return body


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def control_accounts(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await _json_body(request)
    token = body.get("token")
    account_ids = body.get("account_ids") or (
        [body["account_id"]] if body.get("account_id") else []
    )
    if not token or not account_ids:
        return _bad_request("token and account_id (or account_ids) are required")
    registered = []
    try:
        for account_id in account_ids:
            account = state.register(
                str(token),
                str(account_id),
                name=body.get("name"),
                currency=body.get("currency", "USD"),
                timezone_name=body.get("timezone_name", "America/Los_Angeles"),
                timezone_offset_hours_utc=float(body.get("timezone_offset_hours_utc", -8.0)),
                page_ids=[str(p) for p in body.get("page_ids") or []],
                app_secret=body.get("app_secret"),
                default_dsa_payor=body.get("default_dsa_payor"),
                default_dsa_beneficiary=body.get("default_dsa_beneficiary"),
                seed=bool(body.get("persist")),
            )
            registered.append(
                {"id": account.act_id, "name": account.name, "currency": account.currency}
            )
    except ValueError as exc:
        return _bad_request(str(exc))
    return web.json_response({"accounts": registered})


async def control_reset(request: web.Request) -> web.Response:
    body = await _json_body(request)
    request.app[STATE_KEY].reset(accounts=bool(body.get("accounts")))
    return web.json_response({"success": True})


async def control_requests(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        since = int(request.query.get("since", "0"))
    except ValueError:
        return _bad_request("since must be a request sequence number")
    entries = state.request_log(since)
    if "path_contains" in request.query:
        entries = [e for e in entries if request.query["path_contains"] in e["path"]]
    if "method" in request.query:
        entries = [e for e in entries if e["method"] == request.query["method"].upper()]
    # `count` (what matched) and `last_seq` (the mark to read on from): a test or a benchmark
    # counts the Graph requests of what it did between two marks.
    with state.lock:
        last_seq = state.last_seq
    return web.json_response({"data": entries, "count": len(entries), "last_seq": last_seq})


async def control_objects(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    graph = request.app[GRAPH_KEY]
    data = state.snapshot(request.query.get("type"))
    # What a read would say of each campaign, ad set and ad now.
    with state.lock:
        for item in data:
            obj = state.get_object(item["id"])
            if obj is not None and obj.type in ("campaign", "adset", "ad"):
                view = graph.view(obj)
                for name in ("effective_status", "issues_info", "ad_review_feedback"):
                    if name in view:
                        item[name] = view[name]
    return web.json_response({"data": data})


async def control_faults(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    if request.method == "GET":
        with state.lock:
            data = [fault.__dict__.copy() for fault in state.faults]
        return web.json_response({"data": data})
    if request.method == "DELETE":
        with state.lock:
            state.faults.clear()
        return web.json_response({"success": True})
    body = await _json_body(request)
    try:
        fault = state.schedule_fault(
            str(body.get("fault")),
            path_contains=body.get("path_contains"),
            method=body.get("method"),
            count=int(body.get("count", 1)),
        )
    except ValueError as exc:
        return _bad_request(str(exc))
    return web.json_response(fault.__dict__)


async def control_expire(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await _json_body(request)
    token = body.get("token")
    if token is not None and token not in state.tokens:
        return _bad_request("unknown token")
    users = state.expire_token(token, expired=bool(body.get("expired", True)))
    return web.json_response({"success": True, "users": users})


async def control_config(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    if request.method == "POST":
        body = await _json_body(request)
        try:
            with state.lock:
                state.config.update(body)
                if "random_seed" in body:
                    request.app[GRAPH_KEY].rng.seed(state.config.random_seed)
        except (KeyError, TypeError, ValueError) as exc:
            return _bad_request(f"bad config value: {exc}")
    with state.lock:
        return web.json_response(state.config.as_dict())


async def control_usage(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    graph = request.app[GRAPH_KEY]
    with state.lock:
        data = {f"act_{a}": graph.usage.account_stats(a) for a in state.accounts}
    return web.json_response(data)


async def control_media(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    kind = request.match_info["kind"]
    name = request.match_info["name"]
    with state.lock:
        if kind == "images":
            image_hash = name.split(".")[0]
            blob = next(
                (
                    o.blob
                    for o in state.objects.values()
                    if o.type == "adimage" and o.fields.get("hash") == image_hash
                ),
                None,
            )
            content_type = f"image/{name.rsplit('.', 1)[-1]}" if "." in name else "image/jpeg"
        else:
            video = state.objects.get(name)
            blob = video.blob if video is not None and video.type == "advideo" else None
            content_type = "video/mp4"
    if blob is None:
        raise web.HTTPNotFound()
    return web.Response(body=blob, content_type=content_type)


async def control_health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def _listed_or_added(request: web.Request, kind: str, owner: str, text: str) -> web.Response:
    """GET lists the state's `kind` (posts, instagram_media); POST adds one for `owner`, with an
    optional `text`, through the state's `add_<kind>` (add_post, add_instagram_media)."""
    state = request.app[STATE_KEY]
    if request.method == "GET":
        with state.lock:
            data = [item.__dict__.copy() for item in getattr(state, kind).values()]
        return web.json_response({"data": data})
    body = await _json_body(request)
    value = body.get(text)
    add = getattr(state, f"add_{kind.removesuffix('s')}")
    try:
        item = add(str(body.get(owner, "")), None if value is None else str(value))
    except ValueError as exc:
        return _bad_request(str(exc))
    return web.json_response({"id": item.id})


async def control_posts(request: web.Request) -> web.Response:
    """Page posts an ad may promote with object_story_id (and the unpublished ones creatives
    made)."""
    return await _listed_or_added(request, "posts", owner="page_id", text="message")


async def control_instagram_media(request: web.Request) -> web.Response:
    """Instagram posts an ad may promote with source_instagram_media_id."""
    return await _listed_or_added(
        request, "instagram_media", owner="instagram_user_id", text="caption"
    )


def add_control_routes(app: web.Application) -> None:
    app.router.add_get("/__sandbox__/health", control_health)
    app.router.add_post("/__sandbox__/accounts", control_accounts)
    app.router.add_post("/__sandbox__/reset", control_reset)
    app.router.add_get("/__sandbox__/requests", control_requests)
    app.router.add_get("/__sandbox__/objects", control_objects)
    app.router.add_route("*", "/__sandbox__/faults", control_faults)
    app.router.add_post("/__sandbox__/tokens/expire", control_expire)
    app.router.add_route("*", "/__sandbox__/config", control_config)
    app.router.add_get("/__sandbox__/usage", control_usage)
    app.router.add_route("GET", "/__sandbox__/posts", control_posts)
    app.router.add_route("POST", "/__sandbox__/posts", control_posts)
    app.router.add_route("GET", "/__sandbox__/instagram_media", control_instagram_media)
    app.router.add_route("POST", "/__sandbox__/instagram_media", control_instagram_media)
    app.router.add_get("/__sandbox__/media/{kind:images|videos}/{name}", control_media)
    add_delivery_routes(app)
