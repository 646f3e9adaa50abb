"""A small typed client for Hookline's v1 API: one method per route, one exception for every API error.

    client = HooklineClient.from_environment()          # flags, else HOOKLINE_URL / HOOKLINE_API_KEY, else
    client.put_tenant("acme", "Acme Corp")              # the running local stack's state file
    endpoint = client.create_endpoint("acme", "https://example.com/hooks", event_types=["order.*"])
    for event in paginate(lambda cursor: client.search_events("acme", status="failed", cursor=cursor)):
        ...

Every method returns the API's JSON as it came (dicts and lists), so ``--json`` output, tests and scripts
see exactly what the API answers. An answer of 400 or more raises ``ApiError`` (status, code, message);
a connection failure or timeout raises ``ApiUnreachable``. ``request`` is the raw escape hatch that never
raises on a status, for tests that assert on what the API answers to bad input.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NotRequired, TypedDict, Unpack
from urllib.parse import quote

import requests

from cli.local_state import is_local_stack_process, running_stack_state

type JsonObject = dict[str, Any]
type QueryValue = str | int | None

DEFAULT_TIMEOUT: Final = 30.0
# The repository's own state file, wherever the command runs: never one in the current directory, which
# anyone who can write there could plant to collect the key.
DEFAULT_STATE_FILE: Final = Path(__file__).resolve().parent.parent / ".aws-sam" / "local-stack.json"
URL_VARIABLE: Final = "HOOKLINE_URL"
KEY_VARIABLE: Final = "HOOKLINE_API_KEY"
STATE_FILE_VARIABLE: Final = "HOOKLINE_STATE_FILE"
SCOPES: Final = (
    "endpoints:read",
    "endpoints:write",
    "events:read",
    "events:write",
    "schedules:read",
    "schedules:write",
)
KEY_SCOPES: Final = (*SCOPES, "portal:create")  # portal:create mints portal sessions; sessions never hold it
DELIVERY_STATUSES: Final = ("pending", "retrying", "succeeded", "failed")
USER_AGENT: Final = "hookline-cli/0.1.0"

# The code an error answer gets when its body has none (API Gateway's own 404 and 413, a proxy's 502).
_CODE_FOR_STATUS: Final = {
    400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
    413: "payload_too_large", 422: "unprocessable", 429: "too_many_requests", 500: "internal_error",
    502: "bad_gateway", 503: "service_unavailable", 504: "gateway_timeout",
}  # fmt: skip


class HooklineError(Exception):
    """Anything this client raises."""


class ConfigurationError(HooklineError):
    """No usable API URL: fixing the command or its environment is the remedy, not a retry."""


class ApiUnreachable(HooklineError):
    """No answer (connection refused, DNS, timeout): the same request may well succeed later."""


class ApiError(HooklineError):
    """The API answered with a status of 400 or more; ``code`` and ``message`` come from its error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    @property
    def retryable(self) -> bool:
        """Whether the same request is worth sending again (throttled or a fault on the API's side)."""
        return self.status == 429 or self.status >= 500


class Page(TypedDict):
    data: list[JsonObject]
    next_cursor: str | None
    has_more: bool


class BatchEvent(TypedDict):
    type: str
    data: JsonObject
    idempotency_key: NotRequired[str]


class EndpointSettings(TypedDict, total=False):
    event_types: list[str] | None
    filter: JsonObject | None
    description: str | None
    enabled: bool
    headers: dict[str, str]
    rate_limit: int | None


class EndpointChanges(EndpointSettings, total=False):
    url: str


# --------------------------------------------------------------------------------------------- where to


@dataclass(frozen=True)
class Connection:
    url: str
    api_key: str | None
    source: str  # where the URL came from, for messages


def resolve_connection(
    url: str | None = None,
    api_key: str | None = None,
    env: Mapping[str, str] | None = None,
    is_local_stack: Callable[[int], bool] = is_local_stack_process,
) -> Connection:
    """URL and key from the arguments, else the environment, else the running local stack's state file
    (``HOOKLINE_STATE_FILE``, else the repository's ``.aws-sam/local-stack.json``).

    The state file's key is only taken along with its URL: a key never travels to another deployment. And
    the state file is only believed when it is private to this user and its stack still runs.
    """
    env = os.environ if env is None else env
    source = "--url" if url else URL_VARIABLE
    url = url or env.get(URL_VARIABLE) or None
    api_key = api_key or env.get(KEY_VARIABLE) or None
    if url is not None and api_key is not None:
        return Connection(url.rstrip("/"), api_key, source)
    state_path = Path(env.get(STATE_FILE_VARIABLE) or DEFAULT_STATE_FILE)
    state = running_stack_state(state_path, is_local_stack)
    if url is None:
        if state is None:
            raise ConfigurationError(
                f"no API URL: pass --url, set {URL_VARIABLE}, or start the local stack (make dev), "
                f"whose state file {state_path} holds it"
            )
        stack_url = str(state["api_url"]).rstrip("/")
        stack_key = state.get("api_key")
        return Connection(
            stack_url, api_key or (stack_key if isinstance(stack_key, str) else None), str(state_path)
        )
    if state is not None and str(state["api_url"]).rstrip("/") == url.rstrip("/"):
        stack_key = state.get("api_key")
        api_key = stack_key if isinstance(stack_key, str) else None
    return Connection(url.rstrip("/"), api_key, source)


# --------------------------------------------------------------------------------------------- transport


def _segment(value: str) -> str:
    return quote(value, safe=":@")


def _path(*parts: str) -> str:
    """``/v1/a/b``, each id percent-encoded so that no id can reach another route."""
    return "/v1/" + "/".join(_segment(part) for part in parts)


def _short_reason(exc: BaseException) -> str:
    match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    return match.group(1).strip() if match else type(exc).__name__


def api_error_from(response: requests.Response) -> ApiError:
    status = response.status_code
    fallback = _CODE_FOR_STATUS.get(status, "server_error" if status >= 500 else f"http_{status}")
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return ApiError(status, str(error.get("code") or fallback), str(error.get("message") or ""))
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return ApiError(status, fallback, body["message"])  # API Gateway's own answers
    return ApiError(status, fallback, response.text.strip()[:200] or response.reason or f"HTTP {status}")


def _json_object(value: Any) -> JsonObject:
    if not isinstance(value, dict):
        raise HooklineError(f"expected a JSON object from the API, got {type(value).__name__}")
    return value


def _page(value: Any) -> Page:
    page = _json_object(value)
    data = page.get("data")
    if not isinstance(data, list):
        raise HooklineError("expected a page ({data, next_cursor, has_more}) from the API")
    cursor = page.get("next_cursor")
    return Page(
        data=data,
        next_cursor=cursor if isinstance(cursor, str) and cursor else None,
        has_more=bool(page.get("has_more")),
    )


def paginate(fetch: Callable[[str | None], Page]) -> Iterator[JsonObject]:
    """Every item of a paginated list, fetching the next page (``next_cursor``) only when needed."""
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page["data"]
        if not page["has_more"] or page["next_cursor"] is None:
            return
        cursor = page["next_cursor"]


# --------------------------------------------------------------------------------------------- the client


class HooklineClient:
    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"the API URL must start with http:// or https://, not {url!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"

    @classmethod
    def from_environment(
        cls,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        env: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> HooklineClient:
        connection = resolve_connection(url, api_key, env)
        return cls(connection.url, connection.api_key, timeout=timeout, session=session)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, QueryValue] | None = None,
        headers: Mapping[str, str] | None = None,
        data: bytes | str | None = None,
    ) -> requests.Response:
        """One HTTP request to ``path`` (``/v1/...``); any status comes back as it is."""
        query = {name: str(value) for name, value in (params or {}).items() if value is not None}
        try:
            return self.session.request(
                method,
                self.url + path,
                json=json,
                data=data,
                params=query,
                headers=dict(headers or {}),
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise ApiUnreachable(f"no answer from {self.url} within {self.timeout:g} s") from exc
        except requests.ConnectionError as exc:
            raise ApiUnreachable(f"cannot reach {self.url}: {_short_reason(exc)}") from exc
        except requests.RequestException as exc:
            raise ApiUnreachable(f"request to {self.url} failed: {_short_reason(exc)}") from exc

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """``request``, then the decoded JSON body (``None`` for an empty one), or ``ApiError``."""
        response = self.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise api_error_from(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise HooklineError(
                f"{method} {path} answered {response.status_code} with a non-JSON body"
            ) from exc

    # ------------------------------------------------------------------------------------ tenants

    def put_tenant(self, tenant_id: str, name: str) -> JsonObject:
        return _json_object(self.call("PUT", _path("tenants", tenant_id), json={"name": name}))

    def get_tenant(self, tenant_id: str) -> JsonObject:
        return _json_object(self.call("GET", _path("tenants", tenant_id)))

    def delete_tenant(self, tenant_id: str) -> None:
        self.call("DELETE", _path("tenants", tenant_id))

    # ------------------------------------------------------------------------------------ endpoints

    def create_endpoint(
        self,
        tenant_id: str,
        url: str,
        *,
        secret: str | None = None,
        signature: str | None = None,
        **settings: Unpack[EndpointSettings],
    ) -> JsonObject:
        body: JsonObject = {"url": url, **settings}
        if secret is not None:
            body["secret"] = secret
        if signature is not None:
            body["signature"] = signature
        return _json_object(self.call("POST", _path("tenants", tenant_id, "endpoints"), json=body))

    def list_endpoints(self, tenant_id: str, *, limit: int | None = None, cursor: str | None = None) -> Page:
        params = {"limit": limit, "cursor": cursor}
        return _page(self.call("GET", _path("tenants", tenant_id, "endpoints"), params=params))

    def get_endpoint(self, tenant_id: str, endpoint_id: str) -> JsonObject:
        return _json_object(self.call("GET", _path("tenants", tenant_id, "endpoints", endpoint_id)))

    def update_endpoint(
        self, tenant_id: str, endpoint_id: str, **changes: Unpack[EndpointChanges]
    ) -> JsonObject:
        path = _path("tenants", tenant_id, "endpoints", endpoint_id)
        return _json_object(self.call("PATCH", path, json=dict(changes)))

    def delete_endpoint(self, tenant_id: str, endpoint_id: str) -> None:
        self.call("DELETE", _path("tenants", tenant_id, "endpoints", endpoint_id))

    def endpoint_secret(self, tenant_id: str, endpoint_id: str) -> JsonObject:
        return _json_object(self.call("GET", _path("tenants", tenant_id, "endpoints", endpoint_id, "secret")))

    def rotate_secret(self, tenant_id: str, endpoint_id: str, secret: str | None = None) -> JsonObject:
        path = _path("tenants", tenant_id, "endpoints", endpoint_id, "secret", "rotate")
        return _json_object(self.call("POST", path, json=None if secret is None else {"secret": secret}))

    def test_endpoint(
        self, tenant_id: str, endpoint_id: str, event_type: str | None = None, data: JsonObject | None = None
    ) -> JsonObject:
        """Deliver an example event (the API's own, unless given) to this endpoint only."""
        body: JsonObject = {}
        if event_type is not None:
            body["type"] = event_type
        if data is not None:
            body["data"] = data
        path = _path("tenants", tenant_id, "endpoints", endpoint_id, "test")
        return _json_object(self.call("POST", path, json=body))

    def recover_endpoint(self, tenant_id: str, endpoint_id: str, since: str) -> JsonObject:
        path = _path("tenants", tenant_id, "endpoints", endpoint_id, "recover")
        return _json_object(self.call("POST", path, json={"since": since}))

    def list_endpoint_attempts(
        self,
        tenant_id: str,
        endpoint_id: str,
        *,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page:
        path = _path("tenants", tenant_id, "endpoints", endpoint_id, "attempts")
        return _page(self.call("GET", path, params={"status": status, "limit": limit, "cursor": cursor}))

    # ------------------------------------------------------------------------------------ events

    def send_event(
        self,
        tenant_id: str,
        event_type: str,
        data: JsonObject,
        *,
        idempotency_key: str | None = None,
        ordering_key: str | None = None,
        deliver_at: str | None = None,
    ) -> JsonObject:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        body: JsonObject = {"type": event_type, "data": data}
        if ordering_key is not None:
            body["ordering_key"] = ordering_key
        if deliver_at is not None:
            body["deliver_at"] = deliver_at
        path = _path("tenants", tenant_id, "events")
        return _json_object(self.call("POST", path, json=body, headers=headers))

    def send_events(self, tenant_id: str, events: Sequence[BatchEvent]) -> JsonObject:
        """Batch ingest: one 207 answer with a result per event, in input order."""
        path = _path("tenants", tenant_id, "events", "batch")
        return _json_object(self.call("POST", path, json={"events": list(events)}))

    def search_events(
        self,
        tenant_id: str,
        *,
        event_type: str | None = None,
        status: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page:
        """Events newest first; ``event_type`` is the ``type`` filter (exact names and ``prefix.*``)."""
        params: dict[str, QueryValue] = {"type": event_type, "status": status, "since": since, "until": until}
        params |= {"limit": limit, "cursor": cursor}
        return _page(self.call("GET", _path("tenants", tenant_id, "events"), params=params))

    def get_event(self, tenant_id: str, event_id: str) -> JsonObject:
        return _json_object(self.call("GET", _path("tenants", tenant_id, "events", event_id)))

    def list_event_attempts(
        self, tenant_id: str, event_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Page:
        path = _path("tenants", tenant_id, "events", event_id, "attempts")
        return _page(self.call("GET", path, params={"limit": limit, "cursor": cursor}))

    def cancel_event(self, tenant_id: str, event_id: str) -> None:
        """Cancel a delayed event that is still scheduled (409 once it has started)."""
        self.call("DELETE", _path("tenants", tenant_id, "events", event_id))

    # ------------------------------------------------------------------------------------ schedules

    def create_schedule(self, tenant_id: str, schedule: JsonObject) -> JsonObject:
        return _json_object(self.call("POST", _path("tenants", tenant_id, "schedules"), json=schedule))

    def list_schedules(self, tenant_id: str, *, limit: int | None = None, cursor: str | None = None) -> Page:
        path = _path("tenants", tenant_id, "schedules")
        return _page(self.call("GET", path, params={"limit": limit, "cursor": cursor}))

    def get_schedule(self, tenant_id: str, schedule_id: str) -> JsonObject:
        return _json_object(self.call("GET", _path("tenants", tenant_id, "schedules", schedule_id)))

    def update_schedule(self, tenant_id: str, schedule_id: str, changes: JsonObject) -> JsonObject:
        path = _path("tenants", tenant_id, "schedules", schedule_id)
        return _json_object(self.call("PATCH", path, json=changes))

    def delete_schedule(self, tenant_id: str, schedule_id: str) -> None:
        self.call("DELETE", _path("tenants", tenant_id, "schedules", schedule_id))

    # ------------------------------------------------------------------------------------ replays

    def create_replay(self, tenant_id: str, replay: JsonObject) -> JsonObject:
        return _json_object(self.call("POST", _path("tenants", tenant_id, "replays"), json=replay))

    def get_replay(self, tenant_id: str, replay_id: str) -> JsonObject:
        return _json_object(self.call("GET", _path("tenants", tenant_id, "replays", replay_id)))

    def retry_event(self, tenant_id: str, event_id: str, endpoint_id: str | None = None) -> JsonObject:
        path = _path("tenants", tenant_id, "events", event_id, "retry")
        body = None if endpoint_id is None else {"endpoint_id": endpoint_id}
        return _json_object(self.call("POST", path, json=body))

    # ------------------------------------------------------------------------------------ keys

    def create_key(
        self, tenant_id: str, name: str, scopes: Sequence[str], *, expires_in: int | None = None
    ) -> JsonObject:
        """A tenant API key; the ``key`` value is in this answer only."""
        body: JsonObject = {"name": name, "scopes": list(scopes)}
        if expires_in is not None:
            body["expires_in"] = expires_in
        return _json_object(self.call("POST", _path("tenants", tenant_id, "keys"), json=body))

    def list_keys(self, tenant_id: str, *, limit: int | None = None, cursor: str | None = None) -> Page:
        params = {"limit": limit, "cursor": cursor}
        return _page(self.call("GET", _path("tenants", tenant_id, "keys"), params=params))

    def revoke_key(self, tenant_id: str, key_id: str) -> None:
        self.call("DELETE", _path("tenants", tenant_id, "keys", key_id))

    # ------------------------------------------------------------------------------------ event types

    def put_event_type(self, name: str, body: JsonObject) -> JsonObject:
        return _json_object(self.call("PUT", _path("event-types", name), json=body))

    def get_event_type(self, name: str) -> JsonObject:
        return _json_object(self.call("GET", _path("event-types", name)))

    def list_event_types(self, *, limit: int | None = None, cursor: str | None = None) -> Page:
        return _page(self.call("GET", _path("event-types"), params={"limit": limit, "cursor": cursor}))

    def delete_event_type(self, name: str) -> None:
        self.call("DELETE", _path("event-types", name))

    def create_portal_session(
        self, tenant_id: str, *, expires_in: int | None = None, scopes: Sequence[str] | None = None
    ) -> JsonObject:
        """``{"url", "expires_at"}``: a signed link to the tenant's portal (credential in the fragment)."""
        body: JsonObject = {}
        if expires_in is not None:
            body["expires_in"] = expires_in
        if scopes:
            body["scopes"] = list(scopes)
        return _json_object(self.call("POST", _path("tenants", tenant_id, "portal-sessions"), json=body))

    # ------------------------------------------------------------------------------------ admin, meta

    def list_dead_letters(self, *, limit: int | None = None, cursor: str | None = None) -> Page:
        return _page(
            self.call("GET", _path("admin", "dead-letters"), params={"limit": limit, "cursor": cursor})
        )

    def redrive_dead_letters(self) -> JsonObject:
        return _json_object(self.call("POST", _path("admin", "dead-letters", "redrive")))

    def openapi(self) -> JsonObject:
        """The API's OpenAPI 3.1 document (served without auth)."""
        return _json_object(self.call("GET", _path("openapi.json")))
