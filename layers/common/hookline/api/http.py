"""API Gateway HTTP API (payload format 2.0) in and out: the request as the API reads it, and the answer.

Why not powertools' resolver: importing ``aws_lambda_powertools.event_handler`` loads every resolver it has
(AppSync's pulls in asyncio): about 33 ms of the ingest function's cold start, a fifth of its whole import
budget, for route matching this module and ``api.router`` do in a few lines.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # names in lower case, as HTTP API sends them
    query: Mapping[str, str]
    body: str | None
    is_base64: bool

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> HttpRequest:
        http = (event.get("requestContext") or {}).get("http") or {}
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        return cls(
            method=str(http.get("method") or "GET").upper(),
            path=str(event.get("rawPath") or http.get("path") or "/"),
            headers=headers,
            query={str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()},
            body=event.get("body"),
            is_base64=bool(event.get("isBase64Encoded")),
        )


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: str | bytes = ""
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def to_event(self) -> dict[str, Any]:
        """The Lambda answer HTTP API turns into the HTTP response (bytes travel base64-encoded)."""
        headers = dict(self.headers)
        if self.content_type is not None:
            headers["Content-Type"] = self.content_type
        if isinstance(self.body, bytes):
            return {
                "statusCode": self.status,
                "headers": headers,
                "body": base64.b64encode(self.body).decode("ascii"),
                "isBase64Encoded": True,
            }
        return {"statusCode": self.status, "headers": headers, "body": self.body, "isBase64Encoded": False}
