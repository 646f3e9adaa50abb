"""The chaos run's verdict, on hand-made observations (no stack): each class of outcome is counted
where the reconciliation says it belongs."""

from __future__ import annotations

from tests.chaos.reconcile import Observed, Pair, alert_strings, reconcile

EVENT, OTHER = "evt_A", "evt_B"
HEALTHY, FLAKY = "ep_H", "ep_F"


def _observed(**overrides: object) -> Observed:
    pairs = [Pair(EVENT, HEALTHY), Pair(EVENT, FLAKY)]
    fields: dict[str, object] = {
        "pairs": pairs,
        "api_status": {pair: "succeeded" for pair in pairs},
        "deliveries": {(EVENT, HEALTHY): 1, (EVENT, FLAKY): 1},
        "bad_signatures": 0,
        "alerts": [],
        "crashed": [],
        "last_delivered_at": {(EVENT, HEALTHY): 100.0, (EVENT, FLAKY): 100.0},
        "endpoints_of_event": {EVENT: frozenset({HEALTHY, FLAKY})},
        "received_webhook_ids": frozenset({EVENT}),
    }
    fields.update(overrides)
    return Observed(**fields)  # type: ignore[arg-type]


def test_every_pair_delivered_once_passes() -> None:
    verdict = reconcile(_observed())

    assert (verdict.pairs, verdict.delivered, verdict.ok) == (2, 2, True)


def test_a_failed_pair_counts_as_reported_only_when_an_alert_names_it() -> None:
    statuses = {Pair(EVENT, HEALTHY): "succeeded", Pair(EVENT, FLAKY): "failed"}
    deliveries = {(EVENT, HEALTHY): 1}
    alert = alert_strings({"type": "x", "deliveries": [{"event_id": EVENT, "endpoint_id": FLAKY}]})

    reported = reconcile(_observed(api_status=statuses, deliveries=deliveries, alerts=[alert]))
    unreported = reconcile(_observed(api_status=statuses, deliveries=deliveries))

    assert (reported.failed_reported, reported.lost, reported.ok) == (1, 0, True)
    assert (unreported.failed_reported, unreported.lost, unreported.ok) == (0, 1, False)


def test_an_alert_naming_the_event_for_another_endpoint_does_not_report_the_pair() -> None:
    statuses = {Pair(EVENT, HEALTHY): "succeeded", Pair(EVENT, FLAKY): "failed"}
    alerts = [
        alert_strings({"endpoint_id": HEALTHY, "event_ids": [EVENT]}),
        alert_strings({"endpoint_id": FLAKY}),
    ]

    verdict = reconcile(_observed(api_status=statuses, deliveries={(EVENT, HEALTHY): 1}, alerts=alerts))

    assert verdict.lost == 1


def test_pending_is_stuck_and_succeeded_without_a_delivery_is_lost_and_a_mismatch() -> None:
    statuses = {Pair(EVENT, HEALTHY): "retrying", Pair(EVENT, FLAKY): "succeeded"}

    verdict = reconcile(_observed(api_status=statuses, deliveries={}))

    assert (verdict.stuck, verdict.lost, verdict.mismatches) == (1, 1, 1)


def test_a_duplicate_is_explained_only_by_a_killed_message_for_that_event_and_endpoint() -> None:
    deliveries = {(EVENT, HEALTHY): 2, (EVENT, FLAKY): 2}
    crashed = [(50.0, f'{{"kind": "deliver", "event_id": "{EVENT}", "endpoint_id": "{HEALTHY}"}}')]

    verdict = reconcile(_observed(deliveries=deliveries, crashed=crashed))

    assert (verdict.duplicates_explained, verdict.duplicates_unexplained) == (1, 1)


def test_a_killed_job_for_the_whole_event_explains_a_duplicate_to_any_of_its_endpoints() -> None:
    crashed = [(50.0, f'{{"kind": "fanout", "event_id": "{EVENT}"}}'), (50.0, f'{{"event_id": "{OTHER}"}}')]

    verdict = reconcile(_observed(deliveries={(EVENT, HEALTHY): 3, (EVENT, FLAKY): 1}, crashed=crashed))

    assert (verdict.duplicates_explained, verdict.duplicates_unexplained, verdict.ok) == (1, 0, True)


def test_bad_signatures_mismatches_and_unexpected_events_fail_the_run() -> None:
    delivered_but_failed = {Pair(EVENT, HEALTHY): "failed", Pair(EVENT, FLAKY): "succeeded"}

    assert not reconcile(_observed(bad_signatures=1)).ok
    assert reconcile(_observed(api_status=delivered_but_failed)).mismatches == 1
    assert reconcile(_observed(received_webhook_ids=frozenset({EVENT, OTHER}))).unexpected_events == 1


def test_a_kill_after_the_last_delivery_explains_nothing() -> None:
    crashed = [(150.0, f'{{"event_id": "{EVENT}"}}')]  # delivered at 100, killed at 150

    verdict = reconcile(_observed(deliveries={(EVENT, HEALTHY): 2, (EVENT, FLAKY): 1}, crashed=crashed))

    assert (verdict.duplicates_explained, verdict.duplicates_unexplained) == (0, 1)


def _ordered(arrivals: list[tuple[float, str, str]], answered: dict[tuple[str, str], float]) -> Observed:
    pairs = [Pair(EVENT, HEALTHY), Pair(OTHER, HEALTHY)]
    return _observed(
        pairs=pairs,
        api_status=dict.fromkeys(pairs, "succeeded"),
        deliveries={(EVENT, HEALTHY): 1, (OTHER, HEALTHY): 1},
        endpoints_of_event={EVENT: frozenset({HEALTHY}), OTHER: frozenset({HEALTHY})},
        received_webhook_ids=frozenset({EVENT, OTHER}),
        ordered_sequences=[[EVENT, OTHER]],
        arrivals=arrivals,
        first_answered_at=answered,
    )


def test_an_attempt_of_a_keys_next_event_after_the_previous_2xx_is_in_order() -> None:
    # EVENT fails once (at 1), succeeds at 2; OTHER comes at 3.
    arrivals = [(1.0, EVENT, HEALTHY), (2.0, EVENT, HEALTHY), (3.0, OTHER, HEALTHY)]
    verdict = reconcile(_ordered(arrivals, {(EVENT, HEALTHY): 2.0, (OTHER, HEALTHY): 3.0}))
    assert (verdict.ordered_attempts, verdict.out_of_order, verdict.ok) == (3, 0, True)


def test_an_attempt_before_the_previous_event_of_its_key_succeeded_is_out_of_order() -> None:
    arrivals = [(1.0, EVENT, HEALTHY), (1.5, OTHER, HEALTHY), (2.0, EVENT, HEALTHY)]
    verdict = reconcile(_ordered(arrivals, {(EVENT, HEALTHY): 2.0, (OTHER, HEALTHY): 1.5}))
    assert (verdict.out_of_order, verdict.ok) == (1, False)
    assert verdict.examples["out_of_order"]


def test_after_a_final_failure_the_key_goes_on_once_its_last_attempt_is_past() -> None:
    arrivals = [(1.0, EVENT, HEALTHY), (2.0, EVENT, HEALTHY), (3.0, OTHER, HEALTHY)]
    verdict = reconcile(_ordered(arrivals, {(OTHER, HEALTHY): 3.0}))  # EVENT never got a 2xx
    assert verdict.out_of_order == 0
