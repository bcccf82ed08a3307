"""Stand-ins for what tests cannot reach from this machine (no public hosts)."""

from __future__ import annotations

import io

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict


class FakeRedirectAdapter(BaseAdapter):
    """Stands in for a public host (no such host can be reached here): answers 302 to target."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target
        self.sent: list[str] = []

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        self.sent.append(request.url)
        response = requests.Response()
        response.status_code = 302
        response.headers = CaseInsensitiveDict({"Location": self.target})
        response.raw = io.BytesIO(b"")
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass
