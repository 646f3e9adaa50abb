"""The v1 API: every route, declared once (``api.router.route``) in ``tenant_routes``, ``event_routes`` and
``catalog_routes``, with who may call it, its body, query and responses; ``handle`` is the ingest function's
entry point.

Who may call what:

- the **admin key**: everything; tenant ``PUT`` and ``DELETE``, ``.../keys`` and ``/v1/admin/*`` need it;
- a **tenant key**, under its own tenant's path only (another tenant's path is a 404), with scopes:
  ``endpoints:read`` (list and read endpoints, read a secret), ``endpoints:write`` (create, change, delete,
  rotate, recover, test), ``events:read`` (search events, read one, its attempts, an endpoint's attempts),
  ``events:write`` (send events and batches, retry, cancel a delayed event, replays), ``schedules:read`` and
  ``schedules:write`` (recurring schedules). Any key of the tenant may read the tenant itself. A
  missing scope or an admin-only route is a 403;
- any valid key: the event-type catalog (``GET /v1/event-types``, ``GET /v1/event-types/{name}``); writing
  it needs the admin key;
- a **tenant key** with ``portal:create`` (or the admin key): ``.../portal-sessions``, whose signed links
  act as a tenant key with the session's scopes until they expire (``api.portal``);
- nobody at all: ``/v1/openapi.json``, ``/v1/docs`` and ``/v1/portal`` (the page and its assets).
"""

from __future__ import annotations

from hookline.api import catalog_routes, event_routes, portal_routes, tenant_routes, timed_routes
from hookline.api.router import ROUTES, handle

ROUTE_MODULES = (tenant_routes, event_routes, catalog_routes, portal_routes, timed_routes)

__all__ = ["ROUTES", "ROUTE_MODULES", "handle"]
