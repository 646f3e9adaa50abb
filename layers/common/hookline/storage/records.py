"""Event records and deliveries as DynamoDB items.

An event record holds the event, its fan-out and — for the common case — every delivery inline, in the map
``d`` keyed by endpoint id, so one event to one endpoint costs one item write in all. Attribute names are
short on purpose: write units are billed per kilobyte, names included.

Record attributes: ``k`` "event", ``t`` tenant, ``ty`` type, ``ts`` timestamp, ``bz`` body (zlib, binary)
or ``b`` body (text: records written before bodies were compressed, and bodies that do not shrink), ``f``
fan-out state, ``eps`` matched endpoint ids (left out when they are the keys of ``d``: a done fan-out with
every delivery inline), ``d`` inline deliveries, ``c`` delivery counts by status (what
event search filters on), ``ov`` deliveries stored as items of their own, ``only`` a test send's endpoint.

A delivery kept apart from an inline record (``changes_kept_apart``) is an item with ``k`` "apart" under the
delivery's key (``{event}#D#{endpoint}``: tenant, event and endpoint are read from the keys) holding the
delivery fields and ``expires_at``: every change after the record's first round (a claim, a retry's outcome,
a resend, a dead letter) writes it, and it wins over the record's inline entry, which stays as the first
round left it (and so do the record's counters ``c``: search checks the items, ``event_search``).

Delivery fields (inside ``d.{endpoint}``, or at the top of a delivery item, ``k`` "delivery" or "apart"):
``s`` status, ``n`` attempts, ``rb`` round base (left out when 0), ``nx`` next attempt (Unix s), ``ek``/``em``
last error kind and message, ``h`` recent attempts (JSON), ``cl``/``co``/``cu`` the attempt claim (number,
owner, until), ``rt``/``ru`` a resend claim (token, until), ``u`` updated at.

Times are stored as Unix milliseconds (``u`` a number, attempt times integers in ``h``) whenever that reads
back to the very ISO text the clock wrote, and as that text otherwise; ``h`` is compact JSON, each attempt a
list ``[number, at, outcome, latency_ms, status_code, error_kind, message, excerpt]`` with the outcome as a
code (``_OUTCOME_CODES``) and trailing empty fields left out. A delivery of one successful attempt takes
about 90 B instead of 150 (a fan-out of 10 fits its record in 2 write units instead of 3). Records written
before keep ISO text, full outcome names and every field, and read back the same: the reader takes either.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hookline.core.body_codec import compressed_body
from hookline.core.clock import parse_iso
from hookline.core.models import (
    Attempt,
    AttemptOutcome,
    Claim,
    Delivery,
    DeliveryStatus,
    Event,
    EventRecord,
    FailureKind,
    FanoutState,
    ResendClaim,
)
from hookline.storage.table import (
    Item,
    boolean,
    delivery_key,
    delivery_key_parts,
    event_key,
    get_bool,
    get_opt_float,
    get_opt_int,
    get_opt_str,
    get_str,
    n,
    s,
    tenant_of_events_pk,
)

DELIVERY_KIND = "delivery"  # a large fan-out's delivery item
APART_KIND = "apart"  # a delivery item kept apart from its inline record
HISTORY_LIMIT = 12  # attempts kept per delivery (the count of all attempts is kept apart)
STATUS_COUNTERS = {
    DeliveryStatus.PENDING: "p",
    DeliveryStatus.RETRYING: "r",
    DeliveryStatus.SUCCEEDED: "s",
    DeliveryStatus.FAILED: "f",
}
# Attempt outcomes as stored in ``h``: part of the stored format, so a code is never reused or renumbered
# (an outcome without a code is stored by name).
_OUTCOME_CODES = {AttemptOutcome.SUCCEEDED: 0, AttemptOutcome.RETRY: 1, AttemptOutcome.GONE: 2}
_OUTCOMES_BY_CODE = {code: outcome for outcome, code in _OUTCOME_CODES.items()}
# A stored attempt holds at least its number, time, outcome and latency; the other fields may be left out
# when they hold these defaults (status code, error kind, message, excerpt).
_REQUIRED_ATTEMPT_FIELDS = 4
_ATTEMPT_DEFAULTS: tuple[Any, ...] = (None, None, None, None, None, None, None, "")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def delivery_attributes(delivery: Delivery) -> dict[str, Any]:
    """The delivery's fields as DynamoDB attribute values (a map's members, or an item's attributes)."""
    fields: dict[str, Any] = {
        "s": s(delivery.status.value),
        "n": n(delivery.attempts),
        "h": s(history_text(delivery.history[-HISTORY_LIMIT:])),
        "u": _time_attribute(delivery.updated_at),
    }
    if delivery.round_base:
        fields["rb"] = n(delivery.round_base)
    if delivery.next_attempt_at is not None:
        fields["nx"] = n(round(delivery.next_attempt_at, 3))
    if delivery.last_error_kind is not None:
        fields["ek"] = s(delivery.last_error_kind.value)
    if delivery.last_error:
        fields["em"] = s(delivery.last_error)
    if delivery.claim is not None:
        fields["cl"] = n(delivery.claim.attempt)
        fields["cu"] = n(round(delivery.claim.until, 3))
        fields["co"] = s(delivery.claim.owner)
    if delivery.resend is not None:
        fields["rt"] = s(delivery.resend.token)
        fields["ru"] = n(round(delivery.resend.until, 3))
    return fields


def delivery_from_attributes(endpoint_id: str, fields: Mapping[str, Any]) -> Delivery:
    kind = get_opt_str(fields, "ek")
    claim_attempt, claim_until = get_opt_int(fields, "cl"), get_opt_float(fields, "cu")
    claim_owner = get_opt_str(fields, "co")
    token, token_until = get_opt_str(fields, "rt"), get_opt_float(fields, "ru")
    return Delivery(
        endpoint_id=endpoint_id,
        status=DeliveryStatus(get_str(fields, "s", DeliveryStatus.PENDING.value)),
        attempts=get_opt_int(fields, "n") or 0,
        round_base=get_opt_int(fields, "rb") or 0,
        next_attempt_at=get_opt_float(fields, "nx"),
        last_error_kind=FailureKind(kind) if kind else None,
        last_error=get_opt_str(fields, "em"),
        history=history_from_text(get_str(fields, "h", "[]")),
        claim=Claim(claim_attempt, claim_until, claim_owner)
        if claim_attempt is not None and claim_until and claim_owner
        else None,
        resend=ResendClaim(token, token_until) if token and token_until else None,
        updated_at=_time_from_attribute(fields.get("u")),
    )


def history_text(history: Sequence[Attempt]) -> str:
    """Recent attempts as stored in ``h`` (the module's docstring has the layout)."""
    return json.dumps([_stored_attempt(a) for a in history], separators=(",", ":"), ensure_ascii=False)


def history_from_text(text: str) -> tuple[Attempt, ...]:
    """Attempts from ``h``, compact or as written before (ISO times, outcome names, all eight fields)."""
    return tuple(_attempt_from_stored(raw) for raw in json.loads(text))


def _stored_attempt(attempt: Attempt) -> list[Any]:
    fields: list[Any] = [
        attempt.number,
        _compact_time(attempt.attempted_at),
        _OUTCOME_CODES.get(attempt.outcome, attempt.outcome.value),
        attempt.latency_ms,
        attempt.status_code,
        attempt.failure.value if attempt.failure else None,
        attempt.message,
        attempt.excerpt,
    ]
    while len(fields) > _REQUIRED_ATTEMPT_FIELDS and fields[-1] == _ATTEMPT_DEFAULTS[len(fields) - 1]:
        fields.pop()
    return fields


def _attempt_from_stored(raw: Any) -> Attempt:
    if not isinstance(raw, list) or not _REQUIRED_ATTEMPT_FIELDS <= len(raw) <= len(_ATTEMPT_DEFAULTS):
        raise ValueError("a stored attempt is a list of four to eight fields")
    number, at, outcome, latency, code, failure, message, excerpt = (
        *raw,
        *_ATTEMPT_DEFAULTS[len(raw) :],
    )
    return Attempt(
        number=int(number),
        attempted_at=_time_from_compact(at),
        outcome=_OUTCOMES_BY_CODE[outcome] if isinstance(outcome, int) else AttemptOutcome(outcome),
        latency_ms=int(latency),
        status_code=None if code is None else int(code),
        failure=None if failure is None else FailureKind(failure),
        message=None if message is None else str(message),
        excerpt=str(excerpt or ""),
    )


def _compact_time(text: str) -> int | str:
    """An ISO time as Unix milliseconds, when those read back to exactly this text; else the text."""
    try:
        millis = (parse_iso(text) - _EPOCH) // _MILLISECOND
    except ValueError:
        return text
    return millis if _time_from_compact(millis) == text else text


def _time_from_compact(value: Any) -> str:
    if isinstance(value, int):
        return (_EPOCH + value * _MILLISECOND).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return str(value)


def _time_attribute(text: str) -> dict[str, Any]:
    compact = _compact_time(text)
    return n(compact) if isinstance(compact, int) else s(compact)


def _time_from_attribute(attribute: Mapping[str, Any] | None) -> str:
    if attribute and "N" in attribute:
        return _time_from_compact(int(attribute["N"]))
    return str(attribute["S"]) if attribute and "S" in attribute else ""


def status_counts(deliveries: Mapping[str, Delivery]) -> dict[str, Any]:
    counts = dict.fromkeys(STATUS_COUNTERS.values(), 0)
    for delivery in deliveries.values():
        counts[STATUS_COUNTERS[delivery.status]] += 1
    return {"M": {name: n(count) for name, count in counts.items()}}


def body_attributes(body: str) -> dict[str, Any]:
    """The body as stored (``core.body_codec``): compressed (``bz``) when that is smaller, as text (``b``)."""
    packed = compressed_body(body)
    return {"b": s(body)} if packed is None else {"bz": {"B": packed}}


def _endpoints_implied(record: EventRecord) -> bool:
    """Can ``eps`` be left out? Once the fan-out is done and every matched endpoint has its delivery
    inline, the endpoints are the keys of ``d`` (about 30 B per endpoint not written, nor stored)."""
    return (
        record.fanout is FanoutState.DONE
        and not record.overflow
        and record.endpoint_ids == tuple(sorted(record.deliveries))
    )


def body_from_item(item: Mapping[str, Any]) -> str:
    """The body of a record, compressed or not: records written before compression keep ``b``."""
    packed = item.get("bz")
    if packed is not None and "B" in packed:
        return zlib.decompress(bytes(packed["B"])).decode()
    return get_str(item, "b")


def record_item(record: EventRecord, expires_at: int) -> Item:
    event = record.event
    item = event_key(event.tenant_id, event.event_id)
    item.update(
        {
            "k": s("event"),
            "t": s(event.tenant_id),
            "ty": s(event.event_type),
            "ts": s(event.timestamp),
            **body_attributes(event.body),
            "f": s(record.fanout.value),
            "expires_at": n(expires_at),
        }
    )
    if record.endpoint_ids is not None and not _endpoints_implied(record):
        item["eps"] = {"L": [s(endpoint_id) for endpoint_id in record.endpoint_ids]}
    if record.overflow:
        item["ov"] = boolean(True)
    else:
        item["d"] = {"M": {ep: {"M": delivery_attributes(d)} for ep, d in record.deliveries.items()}}
        item["c"] = status_counts(record.deliveries)
    if record.only_endpoint:
        item["only"] = s(record.only_endpoint)
    if event.ordering_key is not None:
        item["ok"] = s(event.ordering_key)
    if event.traceparent:
        item["tp"] = s(event.traceparent)
    return item


def record_from_item(item: Mapping[str, Any]) -> EventRecord:
    sk = get_str(item, "sk")
    event = Event(
        tenant_id=get_str(item, "t"),
        event_id=sk,
        event_type=get_str(item, "ty"),
        timestamp=get_str(item, "ts"),
        body=body_from_item(item),
        ordering_key=get_opt_str(item, "ok"),
        traceparent=get_opt_str(item, "tp"),
    )
    fanout = FanoutState(get_str(item, "f", FanoutState.PENDING.value))
    overflow = get_bool(item, "ov", default=False)
    inline = item.get("d", {}).get("M", {})
    listed = item.get("eps")
    if listed is not None:
        endpoint_ids: tuple[str, ...] | None = tuple(v["S"] for v in listed.get("L", []))
    elif fanout is FanoutState.DONE and not overflow and "d" in item:
        endpoint_ids = tuple(sorted(inline))  # left out as implied (``_endpoints_implied``)
    else:
        endpoint_ids = None
    return EventRecord(
        event=event,
        fanout=fanout,
        endpoint_ids=endpoint_ids,
        deliveries={ep: delivery_from_attributes(ep, value.get("M", {})) for ep, value in inline.items()},
        overflow=overflow,
        only_endpoint=get_opt_str(item, "only"),
    )


def delivery_item(event: Event, delivery: Delivery, expires_at: int) -> Item:
    """A delivery stored on its own (overflow), with enough of the event for search to show it."""
    item = delivery_key(event.tenant_id, event.event_id, delivery.endpoint_id)
    item.update(
        {
            "k": s(DELIVERY_KIND),
            "t": s(event.tenant_id),
            "e": s(event.event_id),
            "ep": s(delivery.endpoint_id),
            "ty": s(event.event_type),
            "ts": s(event.timestamp),
            "expires_at": n(expires_at),
            **delivery_attributes(delivery),
        }
    )
    return item


def is_delivery_item(item: Mapping[str, Any]) -> bool:
    """An item holding one delivery: a large fan-out's, or one kept apart from its inline record."""
    return get_str(item, "k") in {DELIVERY_KIND, APART_KIND}


def is_apart_item(item: Mapping[str, Any]) -> bool:
    return get_str(item, "k") == APART_KIND


def delivery_owner(item: Mapping[str, Any]) -> tuple[str, str]:
    """(tenant, event) of a delivery item; an item kept apart has them in its keys only."""
    if is_apart_item(item):
        return tenant_of_events_pk(get_str(item, "pk")), delivery_key_parts(get_str(item, "sk"))[0]
    return get_str(item, "t"), get_str(item, "e")


def delivery_from_item(item: Mapping[str, Any]) -> Delivery:
    if is_apart_item(item):
        return delivery_from_attributes(delivery_key_parts(get_str(item, "sk"))[1], item)
    return delivery_from_attributes(get_str(item, "ep"), item)
