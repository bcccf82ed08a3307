"""Which token called which ad account on the Meta sandbox, for every Graph request.

The sandbox's own request log leaves tokens out; `TokenLog` wraps `Graph.handle_http` in the
process where the sandbox runs and notes each request's token by a hash, so that a run can
tell which team's token called which account.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from platforms.meta.sandbox import SandboxServer
from platforms.meta.sandbox.graph import Graph


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


_ACT = re.compile(r"act_(\d+)")


class TokenLog:
    """Which token (by hash) asked what of which ad account, for every Graph request: the
    sandbox's own request log leaves tokens out. Installed around `Graph.handle_http` in this
    process, where the sandbox runs."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        # (token hash, account digits, path, time.time()) of every Graph request
        self.entries: list[tuple[str, str, str, float]] = []
        self.lock = threading.Lock()
        self._original: Callable | None = None
        # Called in the sandbox's thread after a request created something, before its answer
        # leaves: a run may kill the caller there, between Meta's create and mojito's commit.
        self.after_create: Callable[[Any, Any], None] | None = None

    def install(self) -> None:
        original = Graph.handle_http
        log = self

        def handle_http(graph: Graph, call: Any) -> Any:
            outcome = original(graph, call)
            with contextlib.suppress(Exception):
                log.note(call, outcome)
            hook = log.after_create
            if hook is not None and _created(outcome):
                hook(call, outcome)
            return outcome

        self._original = original
        Graph.handle_http = handle_http  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            Graph.handle_http = self._original  # type: ignore[method-assign]

    def _accounts_of(self, path: str) -> set[str]:
        accounts = set(_ACT.findall(path))
        for segment in path.strip("/").split("/"):
            if segment.isdigit() or "_" in segment:
                obj = self.server.state.objects.get(segment)
                if obj is not None and getattr(obj, "account_id", None):
                    accounts.add(str(obj.account_id))
        return accounts

    def note(self, call: Any, outcome: Any) -> None:
        token = call.params.get("access_token")
        if not token and call.authorization:
            token = call.authorization.partition(" ")[2]
        if not token:
            return
        paths = [call.path]
        if call.params.get("batch"):
            with contextlib.suppress(ValueError, TypeError):
                batch = call.params["batch"]
                for op in json.loads(batch) if isinstance(batch, str) else batch:
                    paths.append(str(op.get("relative_url", "")).split("?")[0])
        digest = token_hash(str(token))
        now = time.time()
        with self.lock:
            for account in getattr(outcome, "account_ids", None) or []:
                self.entries.append((digest, str(account).removeprefix("act_"), call.path, now))
            for path in paths:
                for account in self._accounts_of(path):
                    self.entries.append((digest, account, path, now))


def _created(outcome: Any) -> bool:
    if outcome.created_ids:
        return True
    return any(op.get("created_ids") for op in outcome.operations or [])
