"""SQS fair queues played inside moto 5.2.5's server (``_moto_runner`` installs it; moto has no fairness).

A narrow patch: on a standard queue, ``ReceiveMessage`` walks the visible messages in the order
``local_stack.fair_queue`` gives (quiet tenants first while one is noisy) instead of arrival order; what
moto then does with each message (receive counts, redrive to the DLQ, visibility) is unchanged. Around it,
each queue keeps what the rule needs: per tenant (``MessageGroupId``), the messages in flight and waiting,
read from the queue itself on every receive, and the processing time of each received message, from its
receive to its delete, its visibility change, or the end of its visibility timeout. FIFO queues are left
alone (their groups already mean order, which moto plays).

Everything here runs under the SQS store lock of ``_moto_runner`` (one request at a time), except while a
long poll sleeps, when the ordering is switched off for that thread.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from local_stack.fair_queue import FairQueue, GroupLoad

_ATTRIBUTE = "_hookline_fair_queue"


@dataclass
class _Received:
    message_id: str
    group: str
    at: float


@dataclass
class QueueState:
    policy: FairQueue = field(default_factory=FairQueue)
    by_receipt: dict[str, _Received] = field(default_factory=dict)
    receipt_of: dict[str, str] = field(default_factory=dict)  # message id -> its latest receipt handle

    def received(self, message: Any, now: float) -> None:
        receipt = str(message.receipt_handle)
        self.by_receipt[receipt] = _Received(message.id, group_of(message), now)
        self.receipt_of[message.id] = receipt

    def finished(self, receipt_handle: str, now: float) -> None:
        entry = self.by_receipt.pop(receipt_handle, None)
        if entry is None:
            return
        if self.receipt_of.get(entry.message_id) == receipt_handle:
            del self.receipt_of[entry.message_id]
        self.policy.processed(entry.group, now - entry.at, now)


def group_of(message: Any) -> str:
    """A message's tenant: its MessageGroupId; a message without one is a tenant of its own."""
    group = message.group_id
    return str(group) if group is not None else f"\x00{message.id}"


def queue_state(queue: Any) -> QueueState:
    state: QueueState | None = getattr(queue, _ATTRIBUTE, None)
    if state is None:
        state = QueueState()
        setattr(queue, _ATTRIBUTE, state)
    return state


def fair_order(queue: Any, now: float) -> list[Any]:
    """The queue's receivable messages, in fair order; settles the spans of messages that timed out."""
    state = queue_state(queue)
    now_ms = now * 1000.0
    loads: dict[str, list[float]] = {}  # group -> [in flight, backlog, last sent]
    receivable: list[Any] = []
    present: set[str] = set()
    for message in queue._messages:
        group = group_of(message)
        load = loads.setdefault(group, [0, 0, 0.0])
        load[2] = max(load[2], float(message.sent_timestamp or 0) / 1000.0)
        present.add(message.id)
        if now_ms < message.delayed_until:
            continue
        if now_ms > message.visible_at:
            receivable.append(message)
            load[1] += 1
            receipt = state.receipt_of.get(message.id)
            if receipt is not None:  # received before and visible again: its consumer gave up on it
                state.finished(receipt, min(now, message.visible_at / 1000.0))
        elif message.approximate_receive_count:
            load[0] += 1
    for message_id in [m for m in state.receipt_of if m not in present]:  # deleted or moved elsewhere
        state.by_receipt.pop(state.receipt_of.pop(message_id), None)
    snapshot = {group: GroupLoad(int(v[0]), int(v[1]), v[2]) for group, v in loads.items()}
    return state.policy.order(receivable, group_of, snapshot, now)


def install() -> None:
    """Patch moto's SQS models (call once, after ``_moto_runner``'s own SQS patches)."""
    from moto.sqs import models as sqs_models

    ordering = threading.local()
    original_messages = sqs_models.Queue.messages
    original_receive = sqs_models.SQSBackend.receive_message
    original_wait = sqs_models.Queue.wait_for_messages
    original_delete = sqs_models.Queue.delete_message
    original_change = sqs_models.SQSBackend.change_message_visibility

    def messages(self: Any) -> list[Any]:
        if getattr(ordering, "queue", None) is self:
            return fair_order(self, time.time())
        return original_messages.fget(self)  # type: ignore[attr-defined,no-any-return]

    def receive_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> list[Any]:
        queue = self.get_queue(queue_name)
        if queue.fifo_queue:
            return list(original_receive(self, queue_name, *args, **kwargs))
        ordering.queue = queue
        try:
            result = list(original_receive(self, queue_name, *args, **kwargs))
        finally:
            ordering.queue = None
        state, now = queue_state(queue), time.time()
        for message in result:
            state.received(message, now)
        return result

    def wait_for_messages(self: Any, timeout: int) -> None:
        # A long poll's sleep only asks "anything visible?" (and lets other requests in): no ordering.
        waiting_on, ordering.queue = getattr(ordering, "queue", None), None
        try:
            original_wait(self, timeout)
        finally:
            ordering.queue = waiting_on

    def delete_message(self: Any, receipt_handle: str) -> None:
        original_delete(self, receipt_handle)
        queue_state(self).finished(receipt_handle, time.time())

    def change_message_visibility(
        self: Any, queue_name: str, receipt_handle: str, visibility_timeout: int
    ) -> None:
        original_change(self, queue_name, receipt_handle, visibility_timeout)
        queue_state(self.get_queue(queue_name)).finished(receipt_handle, time.time())

    sqs_models.Queue.messages = property(messages)  # type: ignore[method-assign,assignment]
    sqs_models.SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    sqs_models.Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]
    sqs_models.Queue.delete_message = delete_message  # type: ignore[method-assign]
    sqs_models.SQSBackend.change_message_visibility = change_message_visibility  # type: ignore[method-assign]
