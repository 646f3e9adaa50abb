"""``hookline schedules``, ``replays``, ``events cancel`` and ``send --deliver-at`` without a network."""

from __future__ import annotations

from tests.unit.test_cli import hookline

SCHEDULE = {
    "id": "sch_1",
    "type": "report.daily",
    "cron": "0 9 * * MON-FRI",
    "rate": None,
    "timezone": "Europe/Berlin",
    "enabled": True,
    "next_run_at": "2026-12-07T08:00:00.000Z",
}


def test_send_with_deliver_at_delays_the_event() -> None:
    ran = hookline(
        "send", "--tenant", "acme", "invoice.due", "--deliver-at", "2026-12-24T09:00:00Z",
        handler=lambda sent: (202, {"id": "evt_1", "deliver_at": "2026-12-24T09:00:00Z"}),
    )  # fmt: skip
    assert ran.code == 0, ran.err
    [sent] = ran.sent
    assert sent.body == {"type": "invoice.due", "data": {}, "deliver_at": "2026-12-24T09:00:00Z"}


def test_events_cancel_deletes_the_event_and_a_409_is_one_line() -> None:
    ran = hookline("events", "cancel", "--tenant", "acme", "evt_1", handler=lambda sent: (204, None))
    assert ran.code == 0 and "Cancelled event evt_1" in ran.out
    assert [(s.method, s.path) for s in ran.sent] == [("DELETE", "/v1/tenants/acme/events/evt_1")]
    late = hookline(
        "events", "cancel", "--tenant", "acme", "evt_1",
        handler=lambda sent: (409, {"error": {"code": "conflict", "message": "it has already started"}}),
    )  # fmt: skip
    assert late.code == 1 and late.err == "error: conflict: it has already started\n"


def test_schedules_create_sends_only_the_flags_given() -> None:
    ran = hookline(
        "schedules", "create", "--tenant", "acme", "report.daily", "--cron", "0 9 * * MON-FRI",
        "--timezone", "Europe/Berlin", "--data", '{"r": 1}',
        handler=lambda sent: (201, SCHEDULE),
    )  # fmt: skip
    assert ran.code == 0, ran.err
    [sent] = ran.sent
    assert (sent.method, sent.path) == ("POST", "/v1/tenants/acme/schedules")
    assert sent.body == {
        "type": "report.daily",
        "cron": "0 9 * * MON-FRI",
        "timezone": "Europe/Berlin",
        "data": {"r": 1},
    }
    assert "next_run_at" in ran.out


def test_schedules_update_list_and_delete() -> None:
    paused = hookline(
        "schedules", "update", "--tenant", "acme", "sch_1", "--disable", "--rate", "5 minutes",
        handler=lambda sent: (200, SCHEDULE | {"enabled": False}),
    )  # fmt: skip
    [sent] = paused.sent
    assert (sent.method, sent.path, sent.body) == (
        "PATCH",
        "/v1/tenants/acme/schedules/sch_1",
        {"enabled": False, "rate": "5 minutes"},
    )
    nothing = hookline("schedules", "update", "--tenant", "acme", "sch_1")
    assert nothing.code == 2 and nothing.sent == []
    listed = hookline(
        "schedules", "list", "--tenant", "acme",
        handler=lambda sent: (200, {"data": [SCHEDULE], "next_cursor": None, "has_more": False}),
    )  # fmt: skip
    assert "sch_1" in listed.out and "0 9 * * MON-FRI" in listed.out and "Europe/Berlin" in listed.out
    gone = hookline("schedules", "delete", "--tenant", "acme", "sch_1", handler=lambda sent: (204, None))
    assert gone.code == 0 and [(s.method, s.path) for s in gone.sent] == [
        ("DELETE", "/v1/tenants/acme/schedules/sch_1")
    ]


def test_replays_create_and_show() -> None:
    ran = hookline(
        "replays", "create", "--tenant", "acme", "--since", "2026-12-01T00:00:00Z",
        "--until", "2026-12-02T00:00:00Z", "--type", "order.*", "--status", "failed",
        handler=lambda sent: (202, {"id": "rpl_1", "status": "running"}),
    )  # fmt: skip
    [sent] = ran.sent
    assert sent.body == {
        "since": "2026-12-01T00:00:00Z",
        "until": "2026-12-02T00:00:00Z",
        "types": ["order.*"],
        "status": "failed",
    }
    shown = hookline(
        "replays", "show", "--tenant", "acme", "rpl_1",
        handler=lambda sent: (200, {"id": "rpl_1", "status": "done", "matched": 2, "queued": 2}),
    )  # fmt: skip
    assert shown.code == 0 and "done" in shown.out
    assert [(s.method, s.path) for s in shown.sent] == [("GET", "/v1/tenants/acme/replays/rpl_1")]
