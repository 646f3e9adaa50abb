"""Routes of the tenant portal (``api.portal``): signed sessions, the page and its assets."""

from __future__ import annotations

from typing import Any

from hookline.api import container, portal
from hookline.api.auth import PORTAL_CREATE, PUBLIC
from hookline.api.models import PortalSessionIn
from hookline.api.router import TENANT, Request, Result, route
from hookline.api.views import PortalSessionOut
from hookline.core.config import portal_settings

_HTML: dict[str, Any] = {"content": {"text/html": {"schema": {"type": "string"}}}}


@route(
    "POST",
    TENANT + "/portal-sessions",
    summary="Create a signed link to the tenant's portal",
    tag="Portal",
    access=PORTAL_CREATE,
    body=PortalSessionIn,
    body_optional=True,
    responses={201: PortalSessionOut},
)
def create_portal_session(request: Request) -> Result:
    """The admin key, or a tenant key with `portal:create`. The link's credential lives in the URL fragment
    and works as a bearer token for this tenant with `scopes` until `expires_at`; it cannot be revoked
    earlier. A key with `portal:create` can grant any of the four portal scopes."""
    container.known_tenants().require(request.tenant_id)
    keyring = container.keyring_source().keyring()
    body = request.body_as(PortalSessionIn)
    return portal.create_session(keyring, request.tenant_id, body, request.headers)


@route(
    "GET",
    portal.PAGE_PATH,
    summary="The tenant portal (open it with a portal session's URL)",
    tag="Portal",
    access=PUBLIC,
    responses={200: None},
    extra={"response": _HTML},
)
def get_portal(request: Request) -> Result:
    return portal.page(portal_settings())


@route(
    "GET",
    portal.PAGE_PATH + "/assets/{asset}",
    summary="The tenant portal's script and styles",
    tag="Portal",
    access=PUBLIC,
    responses={200: None},
    extra={"response": {"content": {"*/*": {}}}, "hidden": True},
)
def get_portal_asset(request: Request) -> Result:
    return portal.asset(request.params["asset"], portal_settings())
