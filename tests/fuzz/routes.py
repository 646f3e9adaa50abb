"""Every route of the API contract (both tables of the brief, plus the extras in docs/api.md), and the ids a
fuzz run owns: a live tenant with a real endpoint and event, scratch tenants that fuzzed endpoints and
events land in, and disposable tenants for destructive calls."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # {t} tenant, {e} endpoint, {v} event, {k} key
    body: str = ""  # which body strategy: "" for none
    query: str = ""  # which query strategy: "" for none
    destructive: bool = False  # never aimed at the live ids
    auth: bool = True


ROUTES: tuple[Route, ...] = (
    Route("PUT", "/v1/tenants/{t}", body="tenant"),
    Route("GET", "/v1/tenants/{t}"),
    Route("DELETE", "/v1/tenants/{t}", destructive=True),
    Route("POST", "/v1/tenants/{t}/endpoints", body="endpoint"),
    Route("GET", "/v1/tenants/{t}/endpoints", query="page"),
    Route("GET", "/v1/tenants/{t}/endpoints/{e}"),
    Route("PATCH", "/v1/tenants/{t}/endpoints/{e}", body="endpoint_patch"),
    Route("DELETE", "/v1/tenants/{t}/endpoints/{e}", destructive=True),
    Route("GET", "/v1/tenants/{t}/endpoints/{e}/secret"),
    Route("POST", "/v1/tenants/{t}/endpoints/{e}/secret/rotate", body="rotate"),
    Route("GET", "/v1/tenants/{t}/endpoints/{e}/attempts", query="attempts"),
    Route("POST", "/v1/tenants/{t}/endpoints/{e}/recover", body="recover"),
    Route("POST", "/v1/tenants/{t}/endpoints/{e}/test", body="test_send"),
    Route("POST", "/v1/tenants/{t}/events", body="event"),
    Route("POST", "/v1/tenants/{t}/events/batch", body="batch"),
    Route("GET", "/v1/tenants/{t}/events", query="events"),
    Route("GET", "/v1/tenants/{t}/events/{v}"),
    Route("GET", "/v1/tenants/{t}/events/{v}/attempts", query="page"),
    Route("POST", "/v1/tenants/{t}/events/{v}/retry", body="retry"),
    Route("POST", "/v1/tenants/{t}/keys", body="key"),
    Route("GET", "/v1/tenants/{t}/keys", query="page"),
    Route("DELETE", "/v1/tenants/{t}/keys/{k}", destructive=True),
    Route("GET", "/v1/admin/dead-letters", query="page"),
    Route("POST", "/v1/admin/dead-letters/redrive", body="empty"),
    Route("GET", "/v1/openapi.json", auth=False),
    Route("GET", "/v1/docs", auth=False),
)

SCRATCH_TENANTS = 5
DISPOSABLE_TENANTS = 20


@dataclass(frozen=True)
class Live:
    """What the fuzz run set up before it started."""

    api_key: str
    tenant: str
    endpoint_id: str
    event_id: str
    receiver_url: str  # where fuzzed endpoints point when their URL is meant to be valid
    run_id: str
    scratch_endpoint_id: str  # an endpoint of the first scratch tenant, for the named PATCH cases

    @property
    def scratch_tenants(self) -> tuple[str, ...]:
        return tuple(f"fuzz-{self.run_id}-scratch-{number}" for number in range(SCRATCH_TENANTS))

    @property
    def disposable_tenants(self) -> tuple[str, ...]:
        return tuple(f"fuzz-{self.run_id}-gone-{number}" for number in range(DISPOSABLE_TENANTS))
