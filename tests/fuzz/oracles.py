"""What every answer must satisfy, whatever was asked.

- an answer at all (no reset, no hang);
- no 5xx;
- every 4xx has ``{"error": {"code": str, "message": str}}``, except API Gateway's own answers
  (``{"message": "..."}`` for the statuses the gateway produces before the function runs);
- no traceback and no internal name (module path, exception class, file name) that the request did not
  itself contain;
- a known-bad input (``must_refuse``) gets a 4xx, not a 2xx;
- a 2xx with a JSON content type has a JSON body.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from tests.fuzz.wire import FuzzRequest, FuzzResponse

GATEWAY_ANSWERS = {
    400: "Bad Request",
    404: "Not Found",
    408: "Request Timeout",
    413: "Request Entity Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
}
DOCUMENTATION_ROUTES = frozenset({"/v1/openapi.json", "/v1/docs"})
LEAKS = (
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r'File "[^"]+", line \d+'),
    re.compile(r"\b[A-Za-z_][\w/.-]*\.py\b"),
    re.compile(
        r"\b(?:hookline|botocore|boto3|aws_lambda_powertools|moto|urllib3|requests|samtranslator)\.[a-z_]\w*"
    ),
    re.compile(r"\b[A-Z][A-Za-z0-9]*(?:Error|Exception)\b"),
    re.compile(r"\bself\.\w+|\bNoneType\b|object has no attribute|takes \d+ positional argument"),
)


@dataclass(frozen=True)
class Violation:
    oracle: str
    detail: str


def _leaks(request: FuzzRequest, response: FuzzResponse) -> list[str]:
    sent = request.target + " " + (request.body or b"").decode("latin-1")
    sent += " ".join(value.decode("latin-1") for _, value in request.headers)
    answer = response.body.decode("utf-8", "replace") + " " + " ".join(response.headers.values())
    found = []
    for pattern in LEAKS:
        for match in pattern.finditer(answer):
            text = match.group(0)
            if text not in sent:
                found.append(text)
    return found


def _error_shape_ok(response: FuzzResponse) -> bool:
    try:
        document = response.json()
    except ValueError:
        return False
    if isinstance(document, dict) and set(document) == {"message"}:
        return bool(document["message"] == GATEWAY_ANSWERS.get(response.status))
    if not isinstance(document, dict) or not isinstance(document.get("error"), dict):
        return False
    error = document["error"]
    return isinstance(error.get("code"), str) and isinstance(error.get("message"), str)


def _unrefused_items(request: FuzzRequest, response: FuzzResponse) -> list[Violation]:
    """A batch answered 2xx must give each known-bad item a 4xx of its own."""
    try:
        results = response.json()["data"]
    except (ValueError, KeyError, TypeError):
        return [Violation("known-bad input refused", f"a batch answered {response.status} without results")]
    violations = []
    for index, reason in request.refuse_items:
        status = (
            results[index].get("status")
            if index < len(results) and isinstance(results[index], dict)
            else None
        )
        if not (isinstance(status, int) and 400 <= status < 500):
            violations.append(
                Violation("known-bad input refused", f"{reason}, in a batch item: got {status}")
            )
    return violations


def check(request: FuzzRequest, response: FuzzResponse) -> list[Violation]:
    if response.error:
        return [Violation("an answer", response.error)]
    violations: list[Violation] = []
    if response.status >= 500:
        violations.append(Violation("no 5xx", f"{response.status} {response.body[:200]!r}"))
    elif 400 <= response.status < 500 and request.method != "HEAD" and not _error_shape_ok(response):
        violations.append(Violation("the error shape on a 4xx", f"{response.status} {response.body[:200]!r}"))
    if request.must_refuse and response.status < 400:
        violations.append(
            Violation("known-bad input refused", f"{request.must_refuse}: got {response.status}")
        )
    if request.refuse_items and 200 <= response.status < 300:
        violations += _unrefused_items(request, response)
    # The API's own documentation (OpenAPI, Swagger UI) names schemas and ships JavaScript: not a leak.
    documentation = request.route in DOCUMENTATION_ROUTES and response.status < 300
    leaks = [] if documentation else _leaks(request, response)
    if leaks:
        violations.append(
            Violation("no internal detail", f"{sorted(set(leaks))[:3]} in {response.body[:200]!r}")
        )
    if 200 <= response.status < 300 and "json" in response.headers.get("content-type", "") and response.body:
        try:
            json.loads(response.body)
        except ValueError:
            violations.append(Violation("JSON answers parse", f"{response.body[:200]!r}"))
    return violations


def strict_json(body: bytes) -> str:
    """ "" when ``body`` is JSON per RFC 8259 (no NaN or Infinity), else why not."""

    def refuse(token: str) -> float:
        raise ValueError(f"non-standard token {token}")

    try:
        json.loads(body.decode("utf-8"), parse_constant=refuse)
    except (UnicodeDecodeError, ValueError) as exc:
        return str(exc)[:120]
    return ""
