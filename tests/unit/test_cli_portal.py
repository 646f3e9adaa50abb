"""``hookline portal --tenant T``: a fresh signed link to the tenant's portal, printed alone on stdout."""

from __future__ import annotations

import io

import pytest

from cli.main import run
from tests.unit.fake_transport import Sent, fake_client

ANSWER = {
    "url": "https://api.example.com/v1/portal#session=hkp_x.y",
    "expires_at": "2026-12-06T22:00:00.000Z",
}


def portal(*argv: str) -> tuple[int, str, str, list[Sent]]:
    client, transport = fake_client(lambda sent: (201, ANSWER))
    out, err = io.StringIO(), io.StringIO()
    code = run(["portal", *argv], client_factory=lambda args: client, out=out, err=err)
    return code, out.getvalue(), err.getvalue(), transport.sent


def test_portal_prints_only_the_link_on_stdout() -> None:
    code, out, err, sent = portal("--tenant", "acme")
    assert code == 0 and out == ANSWER["url"] + "\n"
    assert "2026-12-06T22:00:00.000Z" in err
    assert (sent[0].method, sent[0].path, sent[0].body) == ("POST", "/v1/tenants/acme/portal-sessions", {})


def test_portal_passes_the_lifetime_and_scopes() -> None:
    _, _, _, sent = portal(
        "-t", "acme", "--expires-in", "600", "--scope", "events:read", "--scope", "endpoints:read"
    )
    assert sent[0].body == {"expires_in": 600, "scopes": ["events:read", "endpoints:read"]}


def test_portal_refuses_a_scope_a_session_cannot_hold(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        portal("-t", "acme", "--scope", "portal:create")
    assert "invalid choice" in capsys.readouterr().err
