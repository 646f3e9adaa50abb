"""Dead letters kept for an operator's redrive: every job kind, with the job body to send again.

The DLQ handler consumes the DLQ (to mark, count and alert), so SQS's own message-move task would find it
empty; these items are what a redrive moves back. A dead letter's key is derived from the job, so handling
the same DLQ message twice keeps one item.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hookline.core.models import DeadLetter
from hookline.storage.table import DEAD_LETTERS_PK, Item, Table, get_opt_str, get_str, key, n, s


class DeadLetterStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def keep(self, letter: DeadLetter, expires_at: int) -> None:
        item = key(DEAD_LETTERS_PK, letter.key) | {
            "k": s("dead_letter"),
            "kind": s(letter.kind),
            "at": s(letter.dead_lettered_at),
            "reason": s(letter.reason),
            "job": s(letter.job),
            "expires_at": n(expires_at),
        }
        for name, value in (
            ("tenant_id", letter.tenant_id),
            ("event_id", letter.event_id),
            ("endpoint_id", letter.endpoint_id),
        ):
            if value:
                item[name] = s(value)
        self._table.put(item, "keep dead letter")

    def page(self, limit: int, start: Item | None) -> tuple[list[DeadLetter], Item | None]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": s(DEAD_LETTERS_PK)},
            "Limit": limit,
            "ConsistentRead": True,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        items, last = self._table.query("list dead letters", **kwargs)
        letters = [
            DeadLetter(
                key=get_str(item, "sk"),
                kind=get_str(item, "kind"),
                tenant_id=get_opt_str(item, "tenant_id"),
                event_id=get_opt_str(item, "event_id"),
                endpoint_id=get_opt_str(item, "endpoint_id"),
                dead_lettered_at=get_str(item, "at"),
                reason=get_str(item, "reason"),
                job=get_str(item, "job"),
            )
            for item in items
        ]
        return letters, last

    def page_after(self, limit: int, after: str | None) -> list[DeadLetter]:
        """Up to ``limit`` dead letters in key order, after the one whose key is ``after``."""
        return self.page(limit, None if after is None else key(DEAD_LETTERS_PK, after))[0]

    def forget(self, keys: Sequence[str]) -> None:
        self._table.batch_write(
            [{"DeleteRequest": {"Key": key(DEAD_LETTERS_PK, k)}} for k in keys], "forget dead letters"
        )
