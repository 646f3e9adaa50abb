"""What API Gateway and the API answer before anything is delivered: limits, auth, routing."""

from __future__ import annotations

import json

import pytest

from cli.client import ApiError, HooklineClient
from tests.e2e.conftest import Api, Target


def test_an_event_over_the_payload_limit_gets_413(api: Api, tenant: str) -> None:
    too_big = {"blob": "x" * (300 * 1024)}  # the template's default limit is 256 KiB

    with pytest.raises(ApiError) as refused:
        api.send(tenant, "file.uploaded", too_big)

    assert (refused.value.status, refused.value.code) == (413, "payload_too_large")


def test_a_request_over_api_gateways_10_mb_limit_gets_413(api: Api, tenant: str) -> None:
    body = json.dumps({"type": "file.uploaded", "data": {"blob": "x" * (10 * 1024 * 1024)}})

    response = api.request(
        "POST", f"/v1/tenants/{tenant}/events", data=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}


def test_a_request_without_the_api_key_gets_401(target: Target) -> None:
    response = HooklineClient(target.api_url, api_key=None).request(
        "PUT", "/v1/tenants/nobody", json={"name": "x"}
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_path_outside_the_api_routes_gets_api_gateways_404(api: Api) -> None:
    response = api.request("GET", "/v2/anything")

    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
