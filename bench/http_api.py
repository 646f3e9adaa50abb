"""API Gateway HTTP API (payload format 2.0) events, as API Gateway hands a request to the function.

The route key and path parameters come from the template's own routes (``FunctionSpec.http_api_routes``,
e.g. ``ANY /v1/{proxy+}``), so the events follow the template if its routes change.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

HOST = "bench.execute-api.us-east-1.amazonaws.com"


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]

    @classmethod
    def of(cls, response: dict[str, Any]) -> ApiResponse:
        content = response.get("body") or ""
        return cls(
            response["statusCode"], json.loads(content) if content else None, response.get("headers", {})
        )


def route_parameters(route_key: str, method: str, path: str) -> dict[str, str] | None:
    """The path parameters of ``path`` under an HTTP API route key such as ``ANY /v1/{proxy+}``, or None."""
    route_method, _, route_path = route_key.partition(" ")
    if route_method not in ("ANY", method):
        return None
    pattern = ""
    for segment in route_path.strip("/").split("/"):
        greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
        single = re.fullmatch(r"\{(\w+)\}", segment)
        if greedy:
            pattern += rf"/(?P<{greedy[1]}>.+)"
        elif single:
            pattern += rf"/(?P<{single[1]}>[^/]+)"
        else:
            pattern += "/" + re.escape(segment)
    matched = re.fullmatch(pattern, path)
    return None if matched is None else matched.groupdict()


def http_api_event(
    route_keys: Sequence[str], method: str, path: str, body: str | None, headers: dict[str, str]
) -> dict[str, Any]:
    """The event for ``method path`` (with its query string) under the first route that matches."""
    raw_path, _, query = path.partition("?")
    route_key, parameters = next(
        (route, found)
        for route in route_keys
        if (found := route_parameters(route, method, raw_path)) is not None
    )
    request_headers = {
        "content-type": "application/json",
        "host": HOST,
        "user-agent": "hookline-bench",
    } | {name.lower(): value for name, value in headers.items()}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": request_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": HOST,
            "domainPrefix": "bench",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "hookline-bench",
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "pathParameters": parameters,
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(urllib.parse.parse_qsl(query))
    if body is not None:
        event["body"] = body
    return event
