"""Routes for tenants, their API keys and their endpoints (see ``api.routes`` for the scopes)."""

from __future__ import annotations

from hookline.api import binding, container
from hookline.api.auth import ADMIN_ONLY, ANY_TENANT_KEY, ENDPOINTS_READ, ENDPOINTS_WRITE, EVENTS_READ
from hookline.api.binding import PAGING, QueryParam
from hookline.api.event_queries import ATTEMPT_STATUSES
from hookline.api.models import (
    ApiKeyIn,
    EndpointIn,
    EndpointPatch,
    EndpointTestIn,
    RecoverIn,
    RotateSecretIn,
    TenantIn,
)
from hookline.api.router import ENDPOINT, TENANT, Reply, Request, Result, route
from hookline.api.views import (
    ApiKeyCreated,
    ApiKeyPage,
    AttemptPage,
    EndpointOut,
    EndpointPage,
    EndpointTestOut,
    RecoverOut,
    RotatedSigningKeyOut,
    SigningKeyOut,
    TenantOut,
)

ATTEMPT_STATUS = QueryParam(
    "status", {"type": "string", "enum": [s.value for s in ATTEMPT_STATUSES]}, "Only these attempts."
)


# --- tenants and keys -----------------------------------------------------------------------------------


@route(
    "PUT",
    TENANT,
    summary="Create or rename a tenant",
    tag="Tenants",
    access=ADMIN_ONLY,
    body=TenantIn,
    responses={200: TenantOut, 201: TenantOut},
    errors=(409,),
)
def put_tenant(request: Request) -> Result:
    """A tenant whose delete is still running (or failed half-way) is purged first, then created anew
    (201): nothing of the old tenant comes back."""
    tenant, created = container.tenant_service().put(request.tenant_id, request.body_as(TenantIn))
    return Reply(201 if created else 200, tenant)


@route(
    "GET", TENANT, summary="Read a tenant", tag="Tenants", access=ANY_TENANT_KEY, responses={200: TenantOut}
)
def get_tenant(request: Request) -> Result:
    return container.tenant_service().get(request.tenant_id)


@route(
    "DELETE",
    TENANT,
    summary="Delete a tenant with its endpoints and keys",
    tag="Tenants",
    access=ADMIN_ONLY,
    responses={204: None},
    errors=(409,),
)
def delete_tenant(request: Request) -> Result:
    """The tenant is marked deleted first, so keys and endpoints created meanwhile are refused; then its
    keys and endpoints go, then the tenant. A 409 means it was re-created during the delete."""
    container.tenant_service().delete(request.tenant_id)
    return None


@route(
    "POST",
    TENANT + "/keys",
    summary="Create a tenant API key (shown once)",
    tag="API keys",
    access=ADMIN_ONLY,
    body=ApiKeyIn,
    responses={201: ApiKeyCreated},
)
def create_key(request: Request) -> Result:
    return container.tenant_service().create_key(request.tenant_id, request.body_as(ApiKeyIn))


@route(
    "GET",
    TENANT + "/keys",
    summary="List a tenant's API keys (never their values)",
    tag="API keys",
    access=ADMIN_ONLY,
    query=PAGING,
    responses={200: ApiKeyPage},
)
def list_keys(request: Request) -> Result:
    limit = binding.page_size(request.query)
    return container.tenant_service().list_keys(request.tenant_id, limit, request.cursor)


@route(
    "DELETE",
    TENANT + "/keys/{key_id}",
    summary="Revoke an API key",
    tag="API keys",
    access=ADMIN_ONLY,
    responses={204: None},
)
def revoke_key(request: Request) -> Result:
    container.tenant_service().revoke_key(request.tenant_id, binding.key_id(request.params["key_id"]))
    return None


# --- endpoints ------------------------------------------------------------------------------------------


@route(
    "POST",
    TENANT + "/endpoints",
    summary="Register an endpoint",
    tag="Endpoints",
    access=ENDPOINTS_WRITE,
    body=EndpointIn,
    responses={201: EndpointOut},
)
def create_endpoint(request: Request) -> Result:
    return container.endpoint_service().create(request.tenant_id, request.body_as(EndpointIn))


@route(
    "GET",
    TENANT + "/endpoints",
    summary="List endpoints",
    tag="Endpoints",
    access=ENDPOINTS_READ,
    query=PAGING,
    responses={200: EndpointPage},
)
def list_endpoints(request: Request) -> Result:
    limit = binding.page_size(request.query)
    return container.endpoint_service().list(request.tenant_id, limit, request.cursor)


def _endpoint_id(request: Request) -> str:
    return binding.endpoint_id(request.params["endpoint_id"])


@route(
    "GET",
    ENDPOINT,
    summary="Read an endpoint",
    tag="Endpoints",
    access=ENDPOINTS_READ,
    responses={200: EndpointOut},
)
def get_endpoint(request: Request) -> Result:
    return container.endpoint_service().get(request.tenant_id, _endpoint_id(request))


@route(
    "PATCH",
    ENDPOINT,
    summary="Change an endpoint",
    tag="Endpoints",
    access=ENDPOINTS_WRITE,
    body=EndpointPatch,
    responses={200: EndpointOut},
    errors=(409,),
)
def update_endpoint(request: Request) -> Result:
    """Any subset of the fields; `enabled: true` re-enables a disabled endpoint with a clean slate."""
    patch = request.body_as(EndpointPatch)
    return container.endpoint_service().update(request.tenant_id, _endpoint_id(request), patch)


@route(
    "DELETE",
    ENDPOINT,
    summary="Delete an endpoint",
    tag="Endpoints",
    access=ENDPOINTS_WRITE,
    responses={204: None},
)
def delete_endpoint(request: Request) -> Result:
    container.endpoint_service().delete(request.tenant_id, _endpoint_id(request))
    return None


@route(
    "GET",
    ENDPOINT + "/secret",
    summary="Read an endpoint's signing secret (v1) or public key (v1a)",
    tag="Endpoints",
    access=ENDPOINTS_READ,
    responses={200: SigningKeyOut},
)
def get_endpoint_secret(request: Request) -> Result:
    return container.endpoint_service().secret(request.tenant_id, _endpoint_id(request))


@route(
    "POST",
    ENDPOINT + "/secret/rotate",
    summary="Rotate an endpoint's signing secret",
    tag="Endpoints",
    access=ENDPOINTS_WRITE,
    body=RotateSecretIn,
    body_optional=True,
    responses={200: RotatedSigningKeyOut},
    errors=(409,),
)
def rotate_endpoint_secret(request: Request) -> Result:
    """The previous secret keeps signing (a second signature) for the rotation grace window. A `v1a`
    endpoint gets a new ed25519 key pair (its `secret` field cannot be given) and answers the new public
    key."""
    rotate = request.body_as(RotateSecretIn)
    return container.endpoint_service().rotate_secret(request.tenant_id, _endpoint_id(request), rotate)


@route(
    "GET",
    ENDPOINT + "/attempts",
    summary="An endpoint's delivery attempts, newest event first",
    tag="Endpoints",
    access=EVENTS_READ,
    query=(ATTEMPT_STATUS, *PAGING),
    responses={200: AttemptPage},
)
def list_endpoint_attempts(request: Request) -> Result:
    endpoint_id = _endpoint_id(request)
    container.endpoint_service().require(request.tenant_id, endpoint_id)
    return container.event_queries().endpoint_attempts(request.tenant_id, endpoint_id, request.query)


@route(
    "POST",
    ENDPOINT + "/recover",
    summary="Resend what failed to an endpoint since a time",
    tag="Endpoints",
    access=ENDPOINTS_WRITE,
    body=RecoverIn,
    responses={202: RecoverOut},
    errors=(409,),
)
def recover_endpoint(request: Request) -> Result:
    recover = request.body_as(RecoverIn)
    return container.endpoint_service().recover(request.tenant_id, _endpoint_id(request), recover)


@route(
    "POST",
    ENDPOINT + "/test",
    summary="Send a test event to this endpoint only",
    tag="Endpoints",
    access=ENDPOINTS_WRITE,
    body=EndpointTestIn,
    body_optional=True,
    responses={202: EndpointTestOut},
    errors=(409, 422),
)
def test_endpoint(request: Request) -> Result:
    """A new event, signed, logged and retried like any other, that bypasses the endpoint's type and
    content filters. Both fields are optional."""
    endpoint_id = _endpoint_id(request)
    container.endpoint_service().require_enabled(request.tenant_id, endpoint_id, "testing it")
    sent = container.ingest_service().test_send(
        request.tenant_id, endpoint_id, request.body_as(EndpointTestIn)
    )
    return EndpointTestOut(id=sent["id"])
