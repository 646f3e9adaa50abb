"""Delayed events, recurring schedules and replays under moto: the API, EventBridge Scheduler's stored
schedules, and dispatch's timed jobs, with real receivers on 127.0.0.1."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
from standardwebhooks.webhooks import Webhook

from hookline.core import clock, ids
from hookline.core.jobs import EventJob, FireJob, ReplayJob, decode_job, encode_job
from hookline.core.recurring import Schedule
from hookline.storage.schedules import ScheduleStore
from tests.integration.lambda_harness import ApiClient, Stack, load_event
from tests.integration.seed import Seeder
from tests.integration.test_delivery import always, post_event, setup_endpoint, status_of
from tests.receivers import Receiver

EVENTS = "/v1/tenants/acme/events"
SCHEDULES = "/v1/tenants/acme/schedules"


def _scheduler() -> Any:
    return boto3.client("scheduler", region_name="us-east-1")


def _group(stack: Stack) -> str:
    return stack.env("IngestFunction", "SCHEDULE_GROUP_NAME")


def _send_delayed(api: ApiClient, seconds: float, **extra: Any) -> tuple[str, str]:
    deliver_at = clock.iso_from_unix(time.time() + seconds)
    response = api.call(
        "POST", EVENTS, {"type": "order.created", "data": {"n": 1}, "deliver_at": deliver_at} | extra
    )
    assert response.status == 202, response
    assert response.body["deliver_at"] == deliver_at
    return str(response.body["id"]), deliver_at


# --- delayed events ----------------------------------------------------------------------------------------


def test_a_delayed_event_arrives_no_earlier_than_deliver_at(api: ApiClient, stack: Stack) -> None:
    with Receiver(always(200)) as receiver:
        endpoint_id, secret = setup_endpoint(api, receiver.url)
        event_id, deliver_at = _send_delayed(api, 2)
        shown = api.call("GET", f"{EVENTS}/{event_id}").body
        assert (
            shown["status"] == "scheduled" and shown["deliver_at"] == deliver_at and shown["deliveries"] == []
        )
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "succeeded", timeout=20)
        request = receiver.requests[0]
        assert request.received_at >= clock.parse_iso(deliver_at).timestamp()
        Webhook(secret).verify(request.body, request.headers)
        assert json.loads(request.body)["timestamp"] == clock.iso_from_unix(
            clock.parse_iso(deliver_at).timestamp()
        )
        after = api.call("GET", f"{EVENTS}/{event_id}").body
        assert "status" not in after and after["deliver_at"] == deliver_at
        assert api.call("DELETE", f"{EVENTS}/{event_id}").status == 409


def test_a_cancelled_event_is_never_delivered(api: ApiClient, stack: Stack) -> None:
    with Receiver(always(200)) as receiver:
        setup_endpoint(api, receiver.url)
        cancelled, _ = _send_delayed(api, 1)
        assert api.call("DELETE", f"{EVENTS}/{cancelled}").status == 204
        assert api.call("DELETE", f"{EVENTS}/{cancelled}").status == 204  # twice is fine
        marker, _ = _send_delayed(api, 1.5)  # sent later, due later: once it is delivered, so was the other
        stack.run_until(lambda: len(receiver.requests) >= 1, timeout=20)
        stack.drain()
        assert [r.headers["webhook-id"] for r in receiver.requests] == [marker]
        assert api.call("GET", f"{EVENTS}/{cancelled}").body["status"] == "cancelled"


def test_cancel_loses_to_a_release_that_started(api: ApiClient, stack: Stack) -> None:
    """The race: dispatch's conditional move to ``started`` wins, so the cancel that follows is a 409."""
    with Receiver(always(200)) as receiver:
        endpoint_id, _ = setup_endpoint(api, receiver.url)
        event_id, _ = _send_delayed(api, 1)
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "succeeded", timeout=20)
        now_event = post_event(api)
        stack.run_until(lambda: status_of(api, now_event, endpoint_id) == "succeeded")
    assert api.call("DELETE", f"{EVENTS}/{event_id}").status == 409
    assert api.call("DELETE", f"{EVENTS}/{now_event}").status == 409  # sent for now: started at once
    assert api.call("DELETE", f"{EVENTS}/{ids.new_event_id_at(time.time() - 3600)}").status == 404


def test_deliver_at_is_checked(api: ApiClient, stack: Stack) -> None:
    setup_endpoint(api, "http://127.0.0.1:9/hook")
    too_far = clock.iso_from_unix(time.time() + 366 * 86_400)
    for value in (too_far, "tomorrow"):
        response = api.call("POST", EVENTS, {"type": "a.b", "data": {}, "deliver_at": value})
        assert response.status == 400 and "deliver_at" in response.body["error"]["message"]
    past = api.call("POST", EVENTS, {"type": "a.b", "data": {}, "deliver_at": "2020-01-01T00:00:00Z"})
    assert past.status == 202 and past.body["deliver_at"] == "2020-01-01T00:00:00Z"
    batch = api.call(
        "POST",
        EVENTS + "/batch",
        {"events": [{"type": "a.b", "data": {}, "deliver_at": too_far}, {"type": "a.b", "data": {}}]},
    ).body["data"]
    assert [item["status"] for item in batch] == [400, 202]


def test_beyond_fifteen_minutes_a_one_time_schedule_carries_the_event(api: ApiClient, stack: Stack) -> None:
    setup_endpoint(api, "http://127.0.0.1:9/hook")
    event_id, _ = _send_delayed(api, 3600)
    schedule = _scheduler().get_schedule(Name=event_id, GroupName=_group(stack))
    assert schedule["ScheduleExpression"].startswith("at(")
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["Target"]["Arn"] == stack.env("IngestFunction", "DELIVERY_QUEUE_ARN")
    assert json.loads(schedule["Target"]["Input"]) == {
        "kind": "release",
        "tenant_id": "acme",
        "event_id": event_id,
    }
    assert api.call("DELETE", f"{EVENTS}/{event_id}").status == 204
    listed = _scheduler().list_schedules(GroupName=_group(stack))["Schedules"]
    assert event_id not in {s["Name"] for s in listed}


# --- recurring schedules ---------------------------------------------------------------------------------


def test_schedules_are_created_listed_changed_and_deleted_with_their_aws_schedule(
    api: ApiClient, stack: Stack
) -> None:
    setup_endpoint(api, "http://127.0.0.1:9/hook")
    created = api.call(
        "POST",
        SCHEDULES,
        {"type": "report.daily", "data": {"r": 1}, "cron": "0 9 * * MON-FRI", "timezone": "Europe/Berlin"},
    )
    assert created.status == 201, created
    schedule_id = created.body["id"]
    assert schedule_id.startswith("sch_") and created.body["next_run_at"]
    aws = _scheduler().get_schedule(Name=schedule_id, GroupName=_group(stack))
    assert aws["ScheduleExpression"] == "cron(0 9 ? * MON,TUE,WED,THU,FRI *)"
    assert aws["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert json.loads(aws["Target"]["Input"])["scheduled_time"] == "<aws.scheduler.scheduled-time>"
    assert aws["Target"]["RoleArn"] == stack.env("IngestFunction", "SCHEDULER_ROLE_ARN")

    patched = api.call("PATCH", f"{SCHEDULES}/{schedule_id}", {"enabled": False, "rate": "5 minutes"})
    assert patched.status == 200 and patched.body["next_run_at"] is None and patched.body["cron"] is None
    aws = _scheduler().get_schedule(Name=schedule_id, GroupName=_group(stack))
    assert (aws["State"], aws["ScheduleExpression"]) == ("DISABLED", "rate(5 minutes)")
    assert [s["id"] for s in api.call("GET", SCHEDULES).body["data"]] == [schedule_id]
    assert api.call("DELETE", f"{SCHEDULES}/{schedule_id}").status == 204
    assert api.call("GET", f"{SCHEDULES}/{schedule_id}").status == 404
    assert _scheduler().list_schedules(GroupName=_group(stack))["Schedules"] == []


def test_bad_schedules_are_400s_that_say_why(api: ApiClient, stack: Stack) -> None:
    setup_endpoint(api, "http://127.0.0.1:9/hook")
    for body, words in (
        ({"cron": "0 9 * *"}, "5 fields"),
        ({"cron": "0 25 * * *"}, "hour"),
        ({"rate": "5 fortnights"}, "rate"),
        ({"cron": "0 9 * * *", "rate": "5 minutes"}, "exactly one"),
        ({}, "exactly one"),
        ({"rate": "1 hour", "timezone": "Mars/Olympus"}, "timezone"),
    ):
        response = api.call("POST", SCHEDULES, {"type": "a.b"} | body)
        assert response.status == 400, (body, response)
        assert words in response.body["error"]["message"]
    assert _scheduler().list_schedules(GroupName=_group(stack))["Schedules"] == []


def _fire(stack: Stack, schedule_id: str, scheduled_time: str) -> None:
    """What EventBridge Scheduler sends: the target's Input with the scheduled time filled in."""
    stored = _scheduler().get_schedule(Name=schedule_id, GroupName=_group(stack))["Target"]["Input"]
    body = stored.replace("<aws.scheduler.scheduled-time>", scheduled_time)
    assert isinstance(decode_job(body), FireJob)
    stack.sqs.send_message(QueueUrl=stack.delivery_queue_url, MessageBody=body)


def test_a_firing_is_one_event_even_when_it_is_retried(api: ApiClient, stack: Stack) -> None:
    with Receiver(always(200)) as receiver:
        endpoint_id, secret = setup_endpoint(api, receiver.url)
        schedule_id = api.call(
            "POST", SCHEDULES, {"type": "report.tick", "data": {"k": "v"}, "rate": "1 minute"}
        ).body["id"]
        for scheduled in ("2026-12-06T10:00:00Z", "2026-12-06T10:00:00Z", "2026-12-06T10:01:00Z"):
            _fire(stack, schedule_id, scheduled)
        first = ids.firing_event_id(schedule_id, 1796551200000)
        second = ids.firing_event_id(schedule_id, 1796551260000)
        stack.run_until(lambda: all(status_of(api, e, endpoint_id) == "succeeded" for e in (first, second)))
        stack.drain()
        _fire(stack, schedule_id, "2026-12-06T10:00:00Z")  # a late retry of the first firing
        stack.drain()
        assert sorted(r.headers["webhook-id"] for r in receiver.requests) == sorted([first, second])
        for request in receiver.requests:
            Webhook(secret).verify(request.body, request.headers)
        shown = api.call("GET", f"{EVENTS}/{first}").body
        assert shown["schedule_id"] == schedule_id and shown["data"] == {"k": "v"}
        assert shown["timestamp"] == "2026-12-06T10:00:00.000Z"
        api.call("PATCH", f"{SCHEDULES}/{schedule_id}", {"enabled": False})
        _fire(stack, schedule_id, "2026-12-06T10:02:00Z")  # an in-flight firing after the disable
        stack.drain()
        assert len(receiver.requests) == 2


# --- replays ----------------------------------------------------------------------------------------------


def test_a_replay_resends_matching_deliveries_once_and_nothing_to_later_endpoints(
    api: ApiClient, stack: Stack
) -> None:
    with Receiver(always(200)) as early, Receiver(always(200)) as late:
        early_id, _ = setup_endpoint(api, early.url)
        since = clock.iso_from_unix(time.time() - 1)
        events = [
            post_event(api, "order.created"),
            post_event(api, "order.paid"),
            post_event(api, "user.made"),
        ]
        stack.run_until(lambda: all(status_of(api, e, early_id) == "succeeded" for e in events))
        until = clock.iso_from_unix(time.time() + 1)
        setup_endpoint(api, late.url)
        started = api.call(
            "POST", "/v1/tenants/acme/replays", {"since": since, "until": until, "types": ["order.*"]}
        )
        assert started.status == 202 and started.body["status"] == "running"
        replay_id = started.body["id"]
        # The first page's job, delivered twice (SQS is at least once): each delivery is still sent once.
        stack.sqs.send_message(
            QueueUrl=stack.delivery_queue_url, MessageBody=encode_job(ReplayJob("acme", replay_id))
        )
        path = f"/v1/tenants/acme/replays/{replay_id}"
        stack.run_until(lambda: api.call("GET", path).body["status"] == "done", timeout=30)
        stack.drain()
        report = api.call("GET", path).body
        assert (report["matched"], report["queued"], report["skipped"]) == (2, 2, 0)
        resent = [r.headers["webhook-id"] for r in early.requests[3:]]
        assert sorted(resent) == sorted(events[:2])
        assert late.requests == []
        failed_only = api.call(
            "POST", "/v1/tenants/acme/replays", {"since": since, "until": until, "status": "failed"}
        ).body["id"]
        stack.run_until(
            lambda: api.call("GET", f"/v1/tenants/acme/replays/{failed_only}").body["status"] == "done"
        )
        assert api.call("GET", f"/v1/tenants/acme/replays/{failed_only}").body["matched"] == 0


def test_replays_need_a_time_range(api: ApiClient, stack: Stack) -> None:
    setup_endpoint(api, "http://127.0.0.1:9/hook")
    assert api.call("POST", "/v1/tenants/acme/replays", {"since": "2026-01-01T00:00:00Z"}).status == 400
    backwards = {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
    assert api.call("POST", "/v1/tenants/acme/replays", backwards).status == 400
    assert api.call("GET", "/v1/tenants/acme/replays/rpl_nope").status == 404


def test_event_jobs_stay_readable(stack: Stack) -> None:
    job = EventJob("acme", "evt_01JDEMO0000000000000000000", "a.b", "2026-01-01T00:00:00Z", "{}")
    assert decode_job(encode_job(job)) == job


def test_the_schedule_firing_fixture_becomes_one_event_of_its_schedule(api: ApiClient, stack: Stack) -> None:
    """events/schedule_firing.json (what ``sam local invoke`` gets): the firing of a stored schedule."""
    batch = load_event("schedule_firing.json")
    fired = json.loads(batch["Records"][0]["body"])
    with Receiver(always(200)) as receiver:
        endpoint_id, secret = setup_endpoint(api, receiver.url)
        store = ScheduleStore(Seeder(stack).table)
        now = clock.now_iso()
        store.put(
            Schedule("acme", fired["schedule_id"], "report.daily", {"r": 1}, "0 9 * * *", None, "UTC", None,
                     None, None, True, now, now),
            new=True,
        )  # fmt: skip
        assert stack.functions["DispatchFunction"].invoke(batch) == {"batchItemFailures": []}
        event_id = ids.firing_event_id(fired["schedule_id"], 1_795_770_000_000)
        stack.run_until(lambda: status_of(api, event_id, endpoint_id) == "succeeded")
        [request] = receiver.requests
        assert Webhook(secret).verify(request.body, request.headers)["data"] == {"r": 1}
        assert api.call("GET", f"{EVENTS}/{event_id}").body["schedule_id"] == fired["schedule_id"]


NASTY_SCHEDULES: list[Any] = [
    {"type": "a.b", "rate": "999999 days"},
    {"type": "a.b", "rate": "1 minute", "start_at": "0001-01-01T00:00:00Z"},
    {"type": "a.b", "rate": "1 minute", "end_at": "9999-12-31T23:59:59-14:00"},
    {"type": "a.b", "cron": "0 0 29 2 ?", "start_at": "2199-12-31T00:00:00Z"},
    {"type": "a.b", "cron": "*/99999999999999999999 * * * *"},
    {"type": "a.b", "cron": "0 9 * * *", "timezone": "localtime"},
    {"type": "a.b", "cron": "0 9 * * *", "timezone": "\u0000"},
    {"type": "a.b", "cron": "x" * 5000},
    {"type": "a.b", "rate": "1 minute", "start_at": "2027-01-01T00:00:00Z", "end_at": "2026-01-01T00:00:00Z"},
    {"type": "a.b", "rate": "1 minute", "ordering_key": "a\nb"},
    {"type": "a.b", "rate": "1 minute", "data": {"big": "x" * 70_000}},
    {"type": "a.b", "rate": "1 minute", "enabled": "yes"},
    {"type": "a.b", "rate": None, "cron": None},
]


def test_bad_timed_inputs_are_4xx_never_5xx(api: ApiClient, stack: Stack) -> None:
    setup_endpoint(api, "http://127.0.0.1:9/hook")
    answers = [api.call("POST", SCHEDULES, body).status for body in NASTY_SCHEDULES]
    assert all(400 <= status < 500 for status in answers), answers
    schedule_id = api.call("POST", SCHEDULES, {"type": "a.b", "rate": "1 minute"}).body["id"]
    for patch in (
        {"type": None},
        {"data": None},
        {"cron": "0 9 * * *", "rate": "1 hour"},
        {"timezone": "Nowhere"},
    ):
        assert api.call("PATCH", f"{SCHEDULES}/{schedule_id}", patch).status == 400, patch
    cleared = api.call(
        "PATCH", f"{SCHEDULES}/{schedule_id}", {"cron": "0 9 * * *", "ordering_key": None}
    ).body
    assert (cleared["cron"], cleared["rate"]) == ("0 9 * * *", None)
    for replay in (
        {"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T23:59:59Z", "status": "pending"},
        {"since": "x", "until": "y"},
        {"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z", "types": ["bad type"]},
    ):
        assert api.call("POST", "/v1/tenants/acme/replays", replay).status == 400, replay
    wide = {"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T23:59:59Z"}
    assert api.call("POST", "/v1/tenants/acme/replays", wide).status == 202
    for deliver_at in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "2026-02-30T00:00:00Z", ""):
        status = api.call("POST", EVENTS, {"type": "a.b", "data": {}, "deliver_at": deliver_at}).status
        assert status in {202, 400}, (deliver_at, status)
    for path in (f"{SCHEDULES}/sch_nope", "/v1/tenants/acme/replays/rpl_" + "0" * 26, f"{EVENTS}/evt_nope"):
        assert api.call("GET", path).status == 404
    assert api.call("DELETE", f"{EVENTS}/evt_nope").status == 404
    assert api.call("GET", "/v1/tenants/nobody/schedules").status == 404


def test_a_replay_skips_endpoints_that_are_disabled_now(api: ApiClient, stack: Stack) -> None:
    with Receiver(always(200)) as kept, Receiver(always(200)) as paused:
        kept_id, _ = setup_endpoint(api, kept.url)
        paused_id, _ = setup_endpoint(api, paused.url)
        since = clock.iso_from_unix(time.time() - 1)
        event_id = post_event(api)
        stack.run_until(lambda: all(status_of(api, event_id, e) == "succeeded" for e in (kept_id, paused_id)))
        api.call("PATCH", f"/v1/tenants/acme/endpoints/{paused_id}", {"enabled": False})
        body = {"since": since, "until": clock.iso_from_unix(time.time() + 1), "status": "succeeded"}
        replay_id = api.call("POST", "/v1/tenants/acme/replays", body).body["id"]
        path = f"/v1/tenants/acme/replays/{replay_id}"
        stack.run_until(lambda: api.call("GET", path).body["status"] == "done", timeout=30)
        stack.drain()
        report = api.call("GET", path).body
        assert (report["matched"], report["queued"], report["skipped"]) == (2, 1, 1)
        assert [r.headers["webhook-id"] for r in kept.requests] == [event_id, event_id]
        assert len(paused.requests) == 1
