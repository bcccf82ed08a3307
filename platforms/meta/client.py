"""A per-job Graph API client built on the official SDK, never the SDK's process-global one.

`FacebookAdsApi.init()` would install a default API for the whole process (shared by every
job and thread) and a crash reporter that posts tracebacks to Meta; each job builds its own
session instead, pointed at `META_GRAPH_URL`, with a timeout (the SDK has none by default).
Only the connections under it outlive the job, one pool per thread (`_graph_adapter`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from facebook_business.api import FacebookAdsApi
from facebook_business.session import FacebookSession
from requests.adapters import HTTPAdapter

from platforms.meta.ratelimit import Usage, parse_usage

logger = logging.getLogger(__name__)

_META_GRAPH = "https://graph.facebook.com"

_thread = threading.local()


def _graph_adapter() -> HTTPAdapter:
    """This thread's connections to the Graph API, kept from one job to the next.

    A new session per job would open a new TCP connection and TLS handshake to Meta for every
    job: a round trip or two and a few ms of CPU each. The adapter holds only connections; the
    token and everything else of a job stay in the job's own session. One pool per thread: a
    thread runs one job at a time, and no connection is shared between threads.
    """
    adapter = getattr(_thread, "graph_adapter", None)
    if adapter is None:
        adapter = _thread.graph_adapter = HTTPAdapter(pool_connections=2, pool_maxsize=2)
    return adapter


class GraphHTTP(requests.Session):
    """The SDK session's HTTP session, with a last check before each request goes out.

    A run sets `before_send` to its lease check: a worker that stalled (a long pause, a
    frozen VM) after its last checkpoint and lost the job meanwhile must not send the request
    it was about to send, or Meta would get the object twice (the run that took over has
    created it already). Checked here, the gap between the check and the request leaving is
    as small as it can be.
    """

    before_send: Callable[[], None] | None = None

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if self.before_send is not None:
            self.before_send()
        return super().send(request, **kwargs)


@dataclass
class MetaClient:
    api: FacebookAdsApi
    account_id: str  # act_<digits>
    # Values to scrub from anything stored or logged.
    secrets: tuple[str, ...]
    # The HTTP session under the SDK's (the run sets its `before_send`).
    http: GraphHTTP
    # Usage Meta reported on the latest response (x-business-use-case-usage and friends).
    usage: Usage | None = None

    @property
    def account_number(self) -> str:
        return self.account_id.removeprefix("act_")


def build_meta_client(*, account_id: str, credentials: dict[str, str]) -> MetaClient:
    """A client for one ad account, from its decrypted credentials.

    Call it inside the worker step that needs it; do not keep the result beyond the job.
    """
    access_token = credentials["access_token"]
    app_secret = credentials.get("app_secret") or settings.META_APP_SECRET or None
    session = FacebookSession(
        access_token=access_token, app_secret=app_secret, timeout=settings.META_REQUEST_TIMEOUT
    )
    session.GRAPH = settings.META_GRAPH_URL
    http = GraphHTTP()
    # What the SDK set on its own session: its CA bundle, and the token as a parameter.
    http.verify = session.requests.verify
    http.params.update(session.requests.params)
    session.requests = http
    adapter = _graph_adapter()
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    if settings.META_GRAPH_URL != _META_GRAPH:
        # The SDK pins verification to Meta's CA bundle; another Graph host (a proxy, a
        # sandbox behind TLS) is verified against the system's trust store instead.
        http.verify = True
    client = MetaClient(
        api=FacebookAdsApi(session, api_version=settings.META_API_VERSION),
        account_id=account_id,
        secrets=tuple(
            s for s in (access_token, app_secret, getattr(session, "appsecret_proof", None)) if s
        ),
        http=http,
    )

    def on_response(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        usage = parse_usage(response.headers, account_number=client.account_number)
        if usage is not None:
            client.usage = usage

    http.hooks["response"].append(on_response)
    return client
