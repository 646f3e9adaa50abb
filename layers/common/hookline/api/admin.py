"""Operator routes (admin key only): dead letters and their redrive, and re-sealing after a key rotation."""

from __future__ import annotations

from collections.abc import Callable

from hookline.api import paging
from hookline.api.paging import Pager
from hookline.api.views import DeadLetterPage, QueuedOut, ResealOut, dead_letter_view
from hookline.core.jobs import RedriveJob
from hookline.storage.dead_letter_store import DeadLetterStore
from hookline.storage.endpoints import EndpointStore
from hookline.storage.queue import DeliveryQueues

RESEAL_PAGE = 100


class AdminService:
    def __init__(
        self,
        letters: DeadLetterStore,
        queue: DeliveryQueues,
        pager: Pager,
        resealer: Callable[[], EndpointStore],
    ) -> None:
        self._resealer = resealer
        self._letters = letters
        self._queue = queue
        self._pager = pager

    def dead_letters(self, limit: int, cursor: str | None) -> DeadLetterPage:
        list_scope = paging.scope("dead-letters")
        after = paging.text_field(self._pager.position(list_scope, cursor), "after")
        letters = self._letters.page_after(limit + 1, after)
        shown = letters[:limit]
        more = len(letters) > limit
        return DeadLetterPage(
            data=[dead_letter_view(letter) for letter in shown],
            next_cursor=self._pager.cursor(list_scope, {"after": shown[-1].key} if more and shown else None),
            has_more=more,
        )

    def redrive(self) -> QueuedOut:
        """Queue a redrive job: dispatch moves the dead letters back a page at a time."""
        self._queue.send(RedriveJob())
        return QueuedOut(status="queued")

    def reseal(self, cursor: str | None) -> ResealOut:
        """Re-seal a page of endpoint secrets and header values under the keyring's current key. Call it
        until ``next_cursor`` is null after putting a new key first in the encryption-keys secret; then the
        old key can be dropped."""
        list_scope = paging.scope("reseal")
        position = self._pager.position(list_scope, cursor)
        pk, sk = paging.text_field(position, "pk"), paging.text_field(position, "sk")
        # A store with a freshly read keyring: the new key was just put first into the secret, and this
        # container's own keyring may have been read before that.
        resealed, next_position = self._resealer().reseal_page(
            RESEAL_PAGE, {"pk": pk, "sk": sk} if pk and sk else None
        )
        return ResealOut(resealed=resealed, next_cursor=self._pager.cursor(list_scope, next_position))
