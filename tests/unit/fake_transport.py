"""A requests transport adapter that answers from Python instead of the network, for the CLI's tests.

Mounted on a ``requests.Session``, it records every request the client prepares and answers each from a
handler: ``handler(request) -> (status, json body or None)``, or raises a ``requests`` exception.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from cli.client import HooklineClient

URL = "http://hookline.test"


@dataclass
class Sent:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: Any
    timeout: Any


type Handler = Callable[[Sent], tuple[int, Any]]


@dataclass
class FakeTransport(BaseAdapter):
    handler: Handler = field(default=lambda sent: (200, {}))
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        raw = request.body
        text = raw.decode() if isinstance(raw, bytes) else raw
        sent = Sent(
            method=request.method or "",
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=request.headers,
            body=json.loads(text) if text else None,
            timeout=kwargs.get("timeout"),
        )
        self.sent.append(sent)
        status, body = self.handler(sent)
        response = requests.Response()
        response.status_code = status
        response.reason = "Fake"
        response.url = request.url or ""
        response.request = request
        if body is None:
            response._content = b""
            response.headers = CaseInsensitiveDict()
        elif isinstance(body, bytes):
            response._content = body
            response.headers = CaseInsensitiveDict({"content-type": "text/plain"})
        else:
            response._content = json.dumps(body).encode()
            response.headers = CaseInsensitiveDict({"content-type": "application/json"})
        return response

    def close(self) -> None:
        return None


def fake_client(
    handler: Handler, *, api_key: str | None = "k_test", timeout: float = 7.0
) -> tuple[HooklineClient, FakeTransport]:
    transport = FakeTransport(handler)
    session = requests.Session()
    session.mount("http://", transport)
    session.mount("https://", transport)
    return HooklineClient(URL, api_key, timeout=timeout, session=session), transport


def routes(table: Mapping[tuple[str, str], Handler]) -> Handler:
    """A handler that answers by (method, path), and 404s like the API for anything else."""

    def handle(sent: Sent) -> tuple[int, Any]:
        route = table.get((sent.method, sent.path))
        if route is None:
            return 404, {"error": {"code": "not_found", "message": "no such route"}}
        return route(sent)

    return handle
