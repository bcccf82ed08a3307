"""aiohttp server: the Graph API under ``/vNN.N/...`` and the control API (control.py) under
``/__sandbox__/``.

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

from .control import GRAPH_KEY, JSON_CONTENT_TYPE, STATE_KEY, add_control_routes
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


MAX_BODY_BYTES = 512 * 1024 * 1024


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


def create_app(state: SandboxState | None = None) -> web.Application:
    state = state or SandboxState()
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STATE_KEY] = state
    app[GRAPH_KEY] = Graph(state)
    add_control_routes(app)
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
