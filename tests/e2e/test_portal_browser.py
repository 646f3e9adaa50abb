"""The tenant portal (``/v1/portal``) in a real browser: Debian's headless Chromium, driven by Playwright,
against the local stack, with every request to any other host aborted and recorded.

- the journey a tenant's developer makes: a signed link, add an endpoint (a receiver on 127.0.0.1), send a
  test and see its attempt, reveal and rotate the secret, search events, open one, retry a delivery;
- XSS probes in every field a tenant (or its receiver) sets: they must show as text, never as markup;
- tenancy (a session of one tenant cannot see another's endpoint), a read-only session (the page hides
  writes; the API refuses them), and an expired or forged session (a clear page);
- axe-core on every page: no serious or critical violation;
- screenshots of each page (into ``docs/portal/`` for docs/portal.md with ``HOOKLINE_UPDATE_SCREENSHOTS=1``).

Skipped without Chromium or axe-core here; failing in CI (``tests/e2e/browser.py``).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from hookline.core import portal_session
from hookline.core.crypto import Keyring
from hookline.core.models import Scope
from local_stack.process import REPO_ROOT
from tests.e2e.browser import axe_violations, browser_context
from tests.e2e.conftest import Api, Target
from tests.receivers import Receiver, RecordedRequest, Reply

# The docs' screenshots are rewritten only when asked (HOOKLINE_UPDATE_SCREENSHOTS=1, docs/portal.md), so a
# test run leaves the checkout as it found it; otherwise each page is still rendered, out of the tree.
SCREENSHOTS = (
    REPO_ROOT / "docs" / "portal"
    if os.environ.get("HOOKLINE_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "hookline-portal-screenshots"
)
TIMEOUT_MS = 30_000
# Markup that would run or show if any of these strings were ever rendered as HTML. The handler cannot run
# under the page's CSP anyway, so the tests also look for the element itself.
PROBE = '<img src=x class=xss-probe onerror="window.__xss=1"><script>window.__xss=2</script>'
HEADER_PROBE = "x-probe'&|`~"  # what a header name may hold (RFC 7230 token characters)
pytestmark = pytest.mark.usefixtures("local_target")


def excerpt_reply(request: RecordedRequest) -> Reply:
    return Reply(200, {"content-type": "text/html"}, ("accepted " + PROBE).encode())


def portal_url(api: Api, tenant: str, **body: Any) -> str:
    response = api.request("POST", f"/v1/tenants/{tenant}/portal-sessions", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["url"])


def open_page(context: Any) -> tuple[Any, list[str]]:
    page = context.pages[0] if context.pages else context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    return page, problems


def check(page: Any, name: str) -> None:
    """No markup from a probe in the page, no serious accessibility problem, and a screenshot."""
    assert page.locator(".xss-probe").count() == 0
    assert page.evaluate("window.__xss") is None
    assert axe_violations(page) == [], name
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_the_journey_from_a_signed_link_to_a_retried_delivery(
    target: Target, api: Api, tenant: str, tmp_path: Path
) -> None:
    with (
        Receiver(excerpt_reply) as receiver,
        browser_context(target.api_url, tmp_path / "profile") as (context, traffic),
    ):
        page, problems = open_page(context)
        page.goto(portal_url(api, tenant))
        page.get_by_text("No endpoints yet").wait_for()
        assert "#session=" not in page.url  # the credential leaves the address bar at once
        check(page, "endpoints-empty")

        page.get_by_role("link", name="Add endpoint").click()
        page.get_by_label("URL").fill(receiver.url + "/hook")
        page.get_by_label("Description").fill("Orders " + PROBE)
        page.get_by_label("Event types").fill("order.created, order.*")
        page.get_by_label("Headers").fill(f"{HEADER_PROBE}: 1\nX-Team: billing")
        page.get_by_label("Rate limit").fill("50")
        check(page, "endpoint-form")
        page.get_by_role("button", name="Add endpoint").click()

        page.locator("#endpoint-title").wait_for()
        assert page.locator(".description").inner_text() == "Orders " + PROBE
        assert HEADER_PROBE in page.locator(".header-names").inner_text()
        page.get_by_role("button", name="Reveal secret").click()
        first_secret = page.locator("code.secret").inner_text()
        assert first_secret.startswith("whsec_")

        page.get_by_role("button", name="Send test event").click()
        # The test send's attempt appears in the test panel with the receiver's answer, as text.
        test_attempt = page.locator("#test-title ~ .table-wrap .attempt-row").first
        test_attempt.locator(".status-code", has_text="200").wait_for()
        assert ("accepted " + PROBE) in test_attempt.locator(".excerpt").inner_text()
        [delivered] = receiver.wait_for_requests(1, timeout=30)
        Webhook(first_secret).verify(delivered.body, dict(delivered.headers))
        check(page, "endpoint-detail")

        page.get_by_role("button", name="Rotate secret").click()
        page.get_by_text("Rotated. The previous secret keeps signing").wait_for()
        assert page.locator("code.secret").inner_text() not in {"", first_secret}

        sent = api.send(tenant, "order.created", {"note": PROBE, "amount": 42})
        api.wait_settled(tenant, sent["id"], timeout=30)
        page.get_by_role("link", name="Events").click()
        page.get_by_label("Type").fill("order.*")
        page.get_by_role("button", name="Search").click()
        page.locator(".event-row", has_text="order.created").wait_for()
        assert "type=order.*" in page.url  # the search is in the fragment: a link to share in the session
        assert page.locator(".event-row").count() == 1  # the test event is a webhook.test
        check(page, "events")

        page.get_by_role("link", name=sent["id"]).click()
        page.locator(".delivery-row").wait_for()
        page.get_by_text("Payload").click()
        assert json.dumps(PROBE) in page.locator(".payload").inner_text()
        check(page, "event-detail")
        page.get_by_role("button", name="Retry").click()
        page.get_by_text("Queued a new attempt").wait_for()
        again = receiver.wait_for_requests(3, timeout=30)
        assert [request.headers["webhook-id"] for request in again].count(sent["id"]) == 2

        page.goto(target.api_url + "/v1/portal#/endpoints")  # a reload keeps the session of this tab
        page.locator(".endpoint-row").wait_for()
        check(page, "endpoints")

        # The rest of an endpoint's life: edit, disable and enable, recover, delete.
        page.get_by_role("link", name=receiver.url + "/hook").click()
        page.get_by_role("link", name="Edit").click()
        page.get_by_label("Description").fill("Orders, renamed")
        page.get_by_role("button", name="Save").click()
        page.locator(".description", has_text="Orders, renamed").wait_for()
        page.get_by_role("button", name="Disable").click()
        page.locator("#endpoint-title ~ .badge", has_text="disabled").wait_for()
        page.get_by_role("button", name="Enable").click()
        page.locator("#endpoint-title ~ .badge", has_text="enabled").wait_for()
        page.get_by_label("Resend everything that failed since").fill("2026-01-01T00:00")
        page.get_by_role("button", name="Recover").click()
        page.get_by_text("Queued: failed deliveries since").wait_for()
        page.get_by_role("button", name="Delete").click()
        page.get_by_role("button", name="Yes, delete it").click()
        page.get_by_text("No endpoints yet").wait_for()

    assert not traffic.elsewhere, f"the portal asked another host: {traffic.elsewhere}"
    assert not problems
    # The credential never travels in a URL, so no server log or Referer can hold it.
    assert not [url for url in traffic.requested if "hkp_" in url]


def test_a_session_sees_only_its_own_tenant(target: Target, api: Api, tmp_path: Path) -> None:
    acme, globex = api.tenant(), api.tenant()
    acme_endpoint, _ = api.endpoint(acme, "https://acme.example/hook", description="acme only")
    api.endpoint(globex, "https://globex.example/hook", description="globex only")
    with browser_context(target.api_url, tmp_path / "profile") as (context, traffic):
        page, problems = open_page(context)
        page.goto(portal_url(api, globex))
        page.locator(".endpoint-row").wait_for()
        assert page.locator(".endpoint-row").all_inner_texts() == [page.locator(".endpoint-row").inner_text()]
        assert "globex only" in page.locator(".endpoint-row").inner_text()
        page.goto(f"{target.api_url}/v1/portal#/endpoints/{acme_endpoint}")
        page.get_by_role("alert").filter(has_text="Not found").wait_for()
        assert "acme" not in page.locator("main").inner_text()
    assert not traffic.elsewhere and not problems


def test_a_read_only_session_hides_writes_and_the_api_refuses_them(
    target: Target, api: Api, tenant: str, tmp_path: Path
) -> None:
    endpoint_id, _ = api.endpoint(tenant, "https://example.com/hook", description="read me")
    url = portal_url(api, tenant, scopes=["endpoints:read", "events:read"], expires_in=600)
    with browser_context(target.api_url, tmp_path / "profile") as (context, _traffic):
        page, problems = open_page(context)
        page.goto(url)
        page.locator(".endpoint-row").wait_for()
        assert page.get_by_role("link", name="Add endpoint").count() == 0
        page.get_by_role("link", name="https://example.com/hook").click()
        page.get_by_role("button", name="Reveal secret").wait_for()
        for hidden in ("Edit", "Disable", "Delete", "Rotate secret", "Send test event", "Recover"):
            assert page.get_by_role("button", name=hidden).count() == 0, hidden
        assert page.get_by_role("link", name="Edit").count() == 0
        check(page, "endpoint-read-only")
        page.goto(target.api_url + "/v1/portal#/endpoints/new")
        page.get_by_text("does not give access").wait_for()
        # What the page hides, the API refuses: the same bearer, from the page itself.
        status = page.evaluate(
            """async ([tenant, endpoint]) => {
                const token = sessionStorage.getItem("hookline-portal-session");
                const response = await fetch(`/v1/tenants/${tenant}/endpoints/${endpoint}`, {
                    method: "DELETE", headers: {Authorization: "Bearer " + token}});
                return response.status;
            }""",
            [tenant, endpoint_id],
        )
        assert status == 403
    assert api.client.get_endpoint(tenant, endpoint_id)["id"] == endpoint_id
    assert not problems


@pytest.mark.parametrize(
    ("name", "lifetime"),
    [
        ("session-expired", -60),
        # A link that looks current but that this deployment did not sign: the API's 401 ends it.
        ("session-forged", 3600),
    ],
)
def test_an_expired_or_forged_link_shows_a_clear_page(
    target: Target, tmp_path: Path, name: str, lifetime: int
) -> None:
    expires_at = int(time.time()) + lifetime
    token = portal_session.issue(
        Keyring(["not-this-deployment-" * 3]), "acme", [Scope.EVENTS_READ], expires_at
    )
    with browser_context(target.api_url, tmp_path / "profile") as (context, traffic):
        page, problems = open_page(context)
        page.goto(f"{target.api_url}/v1/portal#session={token}")
        page.get_by_role("heading", name="This portal link has expired").wait_for()
        assert page.locator("nav").count() == 0
        check(page, name)
    assert not traffic.elsewhere and not problems


def test_the_page_and_its_assets_carry_the_security_headers(target: Target) -> None:
    for path in ("/v1/portal", "/v1/portal/assets/portal.js", "/v1/portal/assets/portal.css"):
        response = requests.get(target.api_url + path, timeout=30)
        assert response.status_code == 200, path
        policy = response.headers["Content-Security-Policy"]
        assert (
            "script-src 'self';" in policy
            and "'unsafe-inline'" not in policy
            and "'unsafe-eval'" not in policy
        )
        assert "frame-ancestors 'none'" in policy
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = requests.get(target.api_url + "/v1/portal", timeout=30).text
    assert "<script>" not in page and "http" not in page  # no inline script, nothing from elsewhere
