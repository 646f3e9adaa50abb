"""What API Gateway and the API answer before anything is delivered: limits, auth, routing."""

from __future__ import annotations

import json

import requests

from tests.e2e.conftest import Api, Target


def test_an_event_over_the_payload_limit_gets_413(api: Api, tenant: str) -> None:
    too_big = {"blob": "x" * (300 * 1024)}  # the template's default limit is 256 KiB

    response = api.send(tenant, "file.uploaded", too_big)

    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_request_over_api_gateways_10_mb_limit_gets_413(target: Target, tenant: str) -> None:
    body = json.dumps({"type": "file.uploaded", "data": {"blob": "x" * (10 * 1024 * 1024)}})

    response = requests.post(
        f"{target.api_url}/v1/tenants/{tenant}/events",
        data=body,
        headers={"Authorization": f"Bearer {target.api_key}", "Content-Type": "application/json"},
        timeout=30,
    )

    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}


def test_a_request_without_the_api_key_gets_401(target: Target) -> None:
    response = requests.put(f"{target.api_url}/v1/tenants/nobody", json={"name": "x"}, timeout=10)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_path_outside_the_api_routes_gets_api_gateways_404(target: Target) -> None:
    response = requests.get(f"{target.api_url}/v2/anything", timeout=10)

    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
