"""The cost model's report: per-scenario breakdowns, the summary table and the lines for scripts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bench import prices

if TYPE_CHECKING:
    from bench.cost import Outcome

LINES = ("API Gateway", "Lambda", "SQS", "DynamoDB writes", "DynamoDB reads", "SNS", "Secrets Manager")


def _money(value: float) -> str:
    return f"{value:.2f}"


def price_lines() -> list[str]:
    lines = [f"Prices: us-east-1, on-demand, Lambda arm64; looked up {prices.LOOKED_UP} (bench/prices.py)"]
    for service, entries in prices.TABLE.items():
        for price in entries:
            figure = (
                f"${price.usd:>9.4f} per {price.unit}"
                if price.usd >= 0.01
                else f"${price.per_million():>9.4f} per million {price.unit}"
            )
            lines.append(f"  {service:<21} {figure}\n  {'':<21} {price.source}; read in {price.read_in}")
    return lines


def scenario_lines(outcome: Outcome) -> list[str]:
    scenario, usage = outcome.scenario, outcome.usage
    title = f"{scenario.name}: {scenario.description}"
    if usage is None:
        return [title, f"  SKIPPED: {outcome.skipped}"]
    per_event = 1 / usage.events
    lines = [title]
    if outcome.note:
        lines.append(f"  NOTE: {outcome.note}")
    lines += [
        f"  {usage.events} events ({outcome.body_bytes} B request body each), {usage.deliveries} deliveries, "
        f"{usage.delivery_attempts} attempts, {outcome.seconds:.0f} s",
        f"  {'per event':<52} {'requests':>9} {'billed':>8} {'WU':>6} {'RU':>6} {'moto RCC':>8}",
        f"  {'API Gateway HTTP API request':<52} {usage.api_requests * per_event:>9.3f}",
    ]
    for name, runs in sorted(usage.functions.items()):
        lines.append(
            f"  {'Lambda ' + name + ' invocation':<52} {runs.invocations * per_event:>9.3f}"
            f"   {runs.billed_ms / runs.invocations:.1f} ms billed each at {runs.memory_mb} MB "
            f"({runs.billed_ms_with_moto / runs.invocations:.1f} ms with moto's serving), "
            f"{runs.log_bytes / runs.invocations:.0f} B printed + "
            f"{runs.platform_log_bytes / runs.invocations:.0f} B platform lines"
        )
    for (caller, name), row in sorted(usage.operations.items(), key=lambda item: (item[0][1], item[0][0])):
        label = f"{name} ({caller})"
        requests = f"  {label:<52} {row.calls * per_event:>9.3f}"
        if name.startswith("dynamodb:"):
            moto = f"{row.moto_units * per_event:>8.2f}" if row.moto_answered else f"{'-':>8}"
            writes, reads = row.units.all_writes * per_event, row.units.read * per_event
            lines.append(f"{requests} {'':>8} {writes:>6.2f} {reads:>6.2f} {moto}")
        else:
            lines.append(f"{requests} {row.billed_requests * per_event:>8.3f}")
    units = usage.dynamodb_units()
    lines.append(
        f"  DynamoDB per event: {units.all_writes * per_event:.2f} write units "
        f"({units.index_write * per_event:.2f} of them index writes), {units.read * per_event:.2f} read units"
    )
    printed = sum(f.log_bytes for f in usage.functions.values())
    platform = sum(f.platform_log_bytes for f in usage.functions.values())
    lines.append(
        f"  Logs per event: {printed * per_event:.0f} B printed + "
        f"{platform * per_event:.0f} B platform lines + "
        f"{usage.access_log_bytes * per_event:.0f} B access log, kept {usage.log_retention_days:.0f} days: "
        f"${_money(usage.logs_per_million())} per million events"
    )
    stored = usage.stored
    lines.append(
        f"  Stored per event: {stored.items * per_event:.2f} items, {stored.bytes * per_event:.0f} B "
        f"(overheads and index entries included) for {stored.byte_months / max(1, stored.bytes):.2f} months, "
        f"PITR {'on' if usage.pitr else 'off'}: ${_money(usage.storage_per_million())} per million events"
        + (f"; {stored.without_ttl} items without TTL" if stored.without_ttl else "")
    )
    lines.append(
        f"  Egress per event: {usage.egress_bytes * per_event:.0f} B: ${_money(usage.egress_per_million())} "
        "per million events"
    )
    if usage.unpriced:
        lines.append(f"  NOT PRICED: {dict(usage.unpriced)}")
    dollars = usage.per_million_events(outcome.architecture)
    lines.append(
        "  Requests, $ per million events: "
        + ", ".join(f"{line} {_money(value)}" for line, value in dollars.items())
        + f"; total {_money(sum(dollars.values()))}"
    )
    lines.append(
        f"  EventBridge API destinations for the same traffic: ${_money(usage.eventbridge_per_million())} "
        f"({usage.published_event_chunks * per_event:.2f} events + {usage.delivery_attempts * per_event:.2f} "
        "invocations per event)"
    )
    return lines


def summary_lines(outcomes: list[Outcome]) -> list[str]:
    header = (
        f"  {'scenario':<14}"
        + "".join(f"{line:>16}" for line in LINES)
        + "".join(f"{column:>10}" for column in ("requests", "logs", "storage", "all-in", "egress", "EB"))
    )
    lines = ["$ per million events, by service (requests), then all-in", header]
    for outcome in outcomes:
        if outcome.usage is None:
            lines.append(f"  {outcome.scenario.name:<14} skipped: {outcome.skipped}")
            continue
        dollars = outcome.usage.per_million_events(outcome.architecture)
        total = outcome.usage.all_in(outcome.architecture)
        lines.append(
            f"  {outcome.scenario.name:<14}"
            + "".join(f"{_money(dollars[line]):>16}" for line in LINES)
            + "".join(
                f"{_money(total[column]):>10}"
                for column in ("requests", "logs", "storage", "total", "egress", "eventbridge")
            )
        )
    return lines


def final_lines(outcomes: list[Outcome]) -> list[str]:
    lines = []
    for outcome in outcomes:
        if outcome.usage is None:
            lines.append(f"cost: {outcome.scenario.name}: skipped ({outcome.skipped})")
            continue
        total = outcome.usage.all_in(outcome.architecture)
        lines.append(
            f"cost: {outcome.scenario.name}: ${total['total']:.2f} per million events all-in "
            f"(requests ${total['requests']:.2f} + logs ${total['logs']:.2f} + "
            f"storage ${total['storage']:.2f}; "
            f"egress ${total['egress']:.2f}; EventBridge ${total['eventbridge']:.2f})"
        )
    return lines


def as_json(outcomes: list[Outcome]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for outcome in outcomes:
        usage = outcome.usage
        if usage is None:
            result[outcome.scenario.name] = {"skipped": outcome.skipped}
            continue
        dollars = usage.per_million_events(outcome.architecture)
        units = usage.dynamodb_units()
        result[outcome.scenario.name] = {
            "events": usage.events,
            "body_bytes": outcome.body_bytes,
            "note": outcome.note,
            "deliveries": usage.deliveries,
            "delivery_attempts": usage.delivery_attempts,
            "usd_per_million_events": dollars | {"total": sum(dollars.values())},
            "all_in_usd_per_million_events": usage.all_in(outcome.architecture),
            "eventbridge_usd_per_million_events": usage.eventbridge_per_million(),
            "per_event": {
                "dynamodb_write_units": units.all_writes / usage.events,
                "dynamodb_index_write_units": units.index_write / usage.events,
                "dynamodb_read_units": units.read / usage.events,
                "log_bytes": usage.log_bytes() / usage.events,
                "stored_bytes": usage.stored.bytes / usage.events,
                "egress_bytes": usage.egress_bytes / usage.events,
                "requests": {
                    f"{name} ({function})": row.calls / usage.events
                    for (function, name), row in sorted(usage.operations.items())
                },
                "invocations": {name: f.invocations / usage.events for name, f in usage.functions.items()},
                "billed_ms": {name: f.billed_ms / usage.events for name, f in usage.functions.items()},
            },
        }
    return result


def report(outcomes: list[Outcome]) -> str:
    lines = [
        "Cost model: real handlers in-process on template.yaml (its defaults) in moto, every AWS call "
        "metered and delayed by a simulated in-region round trip; receivers answer in 100 ms; "
        "each scenario in a fresh process (see python -m bench.cost --help)",
        *price_lines(),
        "",
        "Columns, per event: requests = API calls (retries included); billed = SQS requests per",
        "64 KB chunk, or SNS publishes; WU / RU = DynamoDB write (index writes included) and read units",
        "by AWS's size rules; moto RCC = moto's answer to ReturnConsumedCapacity (fixed placeholders in",
        "moto 5.2.5: a cross-check). Lambda's billed ms leave out moto's in-process serving of AWS calls",
        "but include the simulated round trips.",
    ]
    for outcome in outcomes:
        lines += ["", *scenario_lines(outcome)]
    lines += ["", *summary_lines(outcomes), "", *final_lines(outcomes)]
    return "\n".join(lines)
