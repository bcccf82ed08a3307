"""aiohttp server: the Graph API under ``/vNN.N/...`` and the control API under ``/__sandbox__/``.

``SandboxServer`` runs the app on its own event loop in a background thread (tests);
``serve_forever`` runs it in the foreground (the ``run_meta_sandbox`` management command).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import socket
import threading
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from .errors import GraphError, new_trace_id
from .graph import Call, Graph
from .params import UploadedFile, parse_version
from .state import DEMO_ACCOUNT_ID, DEMO_ACCOUNT_NAME, DEMO_PAGE_ID, DEMO_TOKEN, SandboxState

SECRET_QUERY_RE = re.compile(r"((?:access_token|appsecret_proof)=)[^&]*")
logger = logging.getLogger("platforms.meta.sandbox")


class RedactingAccessLogger(AbstractAccessLogger):
    """One line per request, with access_token and appsecret_proof taken out of the URL."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = SECRET_QUERY_RE.sub(r"\1REDACTED", request.path_qs)
        self.logger.info("%s %s %s %.1fms", request.method, path, response.status, time * 1000)


STATE_KEY: web.AppKey[SandboxState] = web.AppKey("sandbox_state", SandboxState)
GRAPH_KEY: web.AppKey[Graph] = web.AppKey("sandbox_graph", Graph)
MAX_BODY_BYTES = 512 * 1024 * 1024
JSON_CONTENT_TYPE = "application/json"


def seed_demo(state: SandboxState) -> None:
    """The demo token, account and page of ``--seed-demo`` (they survive /__sandbox__/reset)."""
    state.register(
        DEMO_TOKEN,
        DEMO_ACCOUNT_ID,
        name=DEMO_ACCOUNT_NAME,
        currency="USD",
        timezone_name="America/Los_Angeles",
        timezone_offset_hours_utc=-8.0,
        page_ids=[DEMO_PAGE_ID],
        seed=True,
    )


# --- Graph requests -------------------------------------------------------------------------------


def _peer(request: web.Request) -> str | None:
    """The client's address and port: which TCP connection a request came on."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return f"{peer[0]}:{peer[1]}" if peer else None


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    params: dict[str, Any] = {key: value for key, value in request.query.items()}
    files: dict[str, UploadedFile] = {}
    if request.method in ("POST", "PUT", "DELETE") and request.can_read_body:
        if request.content_type == JSON_CONTENT_TYPE:
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise GraphError("(#100) The request body must be a JSON object", code=100)
            params.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(
                        field=key,
                        filename=value.filename or key,
                        content=value.file.read(),
                        content_type=value.content_type,
                    )
                else:
                    params[key] = value
    return params, files


def _json_response(status: int, body: Any, headers: dict[str, str]) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body, separators=(",", ":")),
        content_type=JSON_CONTENT_TYPE,
        charset="utf-8",
        headers=headers,
    )


async def graph_handler(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    graph = request.app[GRAPH_KEY]
    config = state.config
    delay = config.latency_ms + (
        random.uniform(0, config.latency_jitter_ms) if config.latency_jitter_ms else 0  # noqa: S311
    )
    if delay > 0:
        await asyncio.sleep(delay / 1000)
    segments = [s for s in request.path.split("/") if s]
    version = config.default_api_version
    if segments and parse_version(segments[0]) is not None:
        version, segments = segments[0], segments[1:]
    origin = f"{request.scheme}://{request.host}"
    try:
        params, files = await _read_params(request)
    except GraphError as exc:
        return _json_response(exc.http_status, exc.body(), {})
    call = Call(
        method=request.method.upper(),
        path="/".join(segments),
        version=version,
        params=params,
        files=files,
        origin=origin,
        authorization=request.headers.get("Authorization"),
        connection=_peer(request),
    )
    outcome = graph.handle_http(call)
    headers = {"facebook-api-version": version, "x-fb-trace-id": new_trace_id(), **outcome.headers}
    if outcome.drop:
        # The object exists now, but the client never hears about it: close without answering.
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=204)
    return _json_response(outcome.status, outcome.body, headers)


# --- control API ----------------------------------------------------------------------------------


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
    return web.json_response({"data": entries})


async def control_objects(request: web.Request) -> web.Response:
    object_type = request.query.get("type")
    return web.json_response({"data": request.app[STATE_KEY].snapshot(object_type)})


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


def create_app(state: SandboxState | None = None) -> web.Application:
    state = state or SandboxState()
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STATE_KEY] = state
    app[GRAPH_KEY] = Graph(state)
    app.router.add_get("/__sandbox__/health", control_health)
    app.router.add_post("/__sandbox__/accounts", control_accounts)
    app.router.add_post("/__sandbox__/reset", control_reset)
    app.router.add_get("/__sandbox__/requests", control_requests)
    app.router.add_get("/__sandbox__/objects", control_objects)
    app.router.add_route("*", "/__sandbox__/faults", control_faults)
    app.router.add_post("/__sandbox__/tokens/expire", control_expire)
    app.router.add_route("*", "/__sandbox__/config", control_config)
    app.router.add_get("/__sandbox__/usage", control_usage)
    app.router.add_get("/__sandbox__/media/{kind:images|videos}/{name}", control_media)
    app.router.add_route("*", "/{tail:.*}", graph_handler)
    return app


# --- running --------------------------------------------------------------------------------------


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class SandboxServer:
    """The sandbox on a loopback port, served from a background thread.

    >>> with SandboxServer(seed=True) as sandbox:
    ...     requests.get(f"{sandbox.base_url}/v26.0/act_100000000000001", ...)
    """

    def __init__(
        self,
        state: SandboxState | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: bool = False,
    ) -> None:
        self.state = state or SandboxState()
        if seed:
            seed_demo(self.state)
        self.host = host
        self._sock = _bind(host, port)
        self.port: int = self._sock.getsockname()[1]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self._run, name="meta-sandbox", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError("the Meta sandbox did not start") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._runner = web.AppRunner(
                create_app(self.state),
                access_log=logger,
                access_log_class=RedactingAccessLogger,
            )
            loop.run_until_complete(self._runner.setup())
            site = web.SockSite(self._runner, self._sock)
            loop.run_until_complete(site.start())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def serve_forever(state: SandboxState, host: str, port: int) -> None:
    runner = web.AppRunner(
        create_app(state), access_log=logger, access_log_class=RedactingAccessLogger
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
