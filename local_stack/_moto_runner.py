"""moto's server in a process of its own (so its work never competes with the stack's for one GIL).

Run as a script: ``python -P _moto_runner.py <host> <port> [--iam] [--fault-rate R [--fault-seed S]]
[--no-fair-queues]``, with the repository on ``PYTHONPATH``. It prints ``{"port": N, "fault_port": M}`` once
it listens (port 0 picks a free one) and stops when its stdin reaches EOF, which happens when the parent
closes it or dies: the server never outlives the stack that started it.

With ``--iam`` every request is held to its caller's IAM policies (``local_stack.iam_enforcement``).

With ``--fault-rate`` it listens on a second port (``fault_port``) in front of the same backends, where
``local_stack.aws_faults`` answers that share of the calls with throttling and server errors. Only the
functions are given that port; the stack's own deployment and its pollers (Lambda's event source mappings,
which retry their own calls on AWS) use the clean one. ``GET``/``PUT`` ``/_local_stack/aws-faults`` on the
clean port reads the counts or changes the rate.

Six narrow changes to moto 5.2.5 (pinned) keep a long-running local stack fast and correct (none changes what
an API call answers):

- ``TransactWriteItems`` deep-copies every table it touches, to roll back on failure: its cost grows with
  the table, so a stack slowed down the longer it ran (and the copy could race a concurrent write). An
  undo log of just the items the transaction touches replaces that copy.
- A ``Query`` on a table (not an index) collected and sorted every item of the table to pick one
  partition: it now reads just that partition (which moto then sorts by range key, as before).
- DynamoDB requests are served one at a time, as one lock-protected store: moto's tables are plain dicts
  that other threads could change in the middle of a query or a transaction. (Each request is short;
  the server shares one GIL anyway.)
- SQS (and SNS, which delivers into queues) requests are served one at a time too, except while a long
  poll waits for messages: moto changes a queue's message list and in-flight set without a lock, so
  concurrent receives and deletes lost messages, re-delivered deleted ones, and failed with "Set changed
  size during iteration". AWS does none of that, so the local stack must not either.
- SQS work that grew with the queue's depth: every received message re-computed all of its queue's
  attributes (three counts over every message) just to read the retention period, which is now read
  directly; and SQS's clock (asked once per message per scan) reads ``time.time()`` instead of building
  two datetimes.
- moto lists its own package directory on disk for every request to find the service; that list and
  the host -> service lookup are cached.
- A FIFO long poll decided once, when it began, which message groups were held, and kept that answer
  while it waited: a group's first message taken by another consumer meanwhile did not stop the waiting
  receive from handing out the group's next one (found by ``make chaos``'s order check). A FIFO long poll
  is now a series of short receives, each deciding afresh. And a message visible again still held its
  group until a receive's scan met it, so of two messages of a group that came back together the second
  could be handed out first: visible messages now release their group before each scan.

One more change does alter what a receive answers, as AWS would: SQS fair queues (``local_stack._fair_sqs``,
the rule in ``local_stack.fair_queue``, docs/fairness.md). On a standard queue, while one message group
(tenant) is a noisy neighbour, receives return the other groups' visible messages first. moto 5.2.5
accepts ``MessageGroupId`` on a standard queue but plays no fairness. ``--no-fair-queues`` leaves it out,
to measure what it changes.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import inspect
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

# The moto these patches were written for (requirements-dev.txt pins it; tests/unit/test_moto_pin.py checks).
WRITTEN_FOR_MOTO = "5.2.5"


class MotoVersionError(RuntimeError):
    """The installed moto is not the one the patches here replace internals of."""


def require_moto_version(installed: str | None = None) -> None:
    """Fail loudly before patching a moto these patches were not written for: they replace private
    functions, and on another version they would silently patch the wrong thing or nothing."""
    if installed is None:
        from importlib.metadata import version

        installed = version("moto")
    if installed != WRITTEN_FOR_MOTO:
        raise MotoVersionError(
            f"local_stack/_moto_runner.py patches moto {WRITTEN_FOR_MOTO}'s internals, but moto {installed} "
            f"is installed: install the pinned one (make setup), or re-check each patch against {installed} "
            "and change WRITTEN_FOR_MOTO and requirements-dev.txt together"
        )


_INSTALLED: set[str] = set()


def patch_dynamodb() -> None:
    """The first two changes above (transactions, table queries). The integration tests' in-process moto
    takes them too, to answer as fast as the local stack's. Installing them twice is a no-op."""
    if "dynamodb" in _INSTALLED:
        return
    _INSTALLED.add("dynamodb")
    require_moto_version()
    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class _KeepTables:
        """``copy`` as moto.dynamodb.models sees it, except that a Table is not copied."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    vars(dynamodb_models)["copy"] = _KeepTables()
    original_transact = dynamodb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        undo: list[tuple[Any, Any, Any, Any]] = []
        for entry in transact_items:
            try:
                _, operation = next(iter(entry.items()))
                table = self.get_table(operation["TableName"])
                key = operation.get("Item") or operation.get("Key") or {}
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                current = table.get_item(hash_key, range_key)
            except Exception:  # noqa: BLE001, S112 - moto's own validation reports a malformed operation
                continue
            undo.append((table, hash_key, range_key, copy.deepcopy(current)))
        try:
            original_transact(self, transact_items)
        except BaseException:
            for table, hash_key, range_key, item in reversed(undo):
                if item is None:
                    table.delete_item(hash_key, range_key)
                elif range_key is not None:
                    table.items[hash_key][range_key] = item
                else:
                    table.items[hash_key] = item
            raise

    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]

    # Query on the table itself: hand Table.query only the queried partition instead of all_items().
    partition = threading.local()
    original_all_items = Table.all_items
    original_query = Table.query
    query_signature = inspect.signature(original_query)

    def all_items(self: Any) -> Any:
        wanted = getattr(partition, "key", None)
        if wanted is None or wanted[0] is not self:
            return original_all_items(self)
        entry = self.items.get(wanted[1])
        if entry is None:
            return []
        return list(entry.values()) if self.range_key_attr else [entry]

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = query_signature.bind(self, *args, **kwargs)
        hash_key = bound.arguments.get("hash_key")
        if bound.arguments.get("index_name") or not isinstance(hash_key, DynamoType):
            return original_query(self, *args, **kwargs)
        partition.key = (self, hash_key)
        try:
            return original_query(self, *args, **kwargs)
        finally:
            partition.key = None

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]


def serialise_dynamodb() -> None:
    """Serve moto's DynamoDB requests one at a time, as the one store AWS is: a conditional write checks and
    writes under the lock. The integration tests' in-process moto needs it as much as the server does (two
    threads both passed a ``size(holders) < :limit`` condition and both wrote). Installing it twice is a
    no-op."""
    require_moto_version()
    from moto.dynamodb.responses import DynamoHandler

    if "dynamodb-serialised" in _INSTALLED:
        return
    _INSTALLED.add("dynamodb-serialised")
    lock = threading.RLock()
    original_call_action = DynamoHandler.call_action

    @functools.wraps(original_call_action)
    def call_action(self: Any) -> Any:
        with lock:
            return original_call_action(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


class _StoreLock:
    """One lock over the SQS store, re-entrant per thread, that a long poll gives up while it waits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            self._lock.acquire()
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                self._lock.release()

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = 0
            self._lock.release()
        try:
            yield
        finally:
            if depth:
                self._lock.acquire()
                self._local.depth = depth


def _serialise_sqs() -> None:
    from moto.core.responses import BaseResponse
    from moto.sns.responses import SNSResponse
    from moto.sqs import models as sqs_models
    from moto.sqs.responses import SQSResponse

    store = _StoreLock()
    original_call_action = BaseResponse.call_action

    @functools.wraps(original_call_action)
    def call_action(self: Any) -> Any:
        with store.held():
            return original_call_action(self)

    SQSResponse.call_action = call_action  # type: ignore[method-assign]
    SNSResponse.call_action = call_action  # type: ignore[method-assign]
    original_wait = sqs_models.Queue.wait_for_messages

    def wait_for_messages(self: Any, timeout: int) -> None:
        # A long poll sleeps here: let the others in meanwhile (it re-reads the queue after waking).
        with store.released():
            original_wait(self, timeout)

    sqs_models.Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]


def _patch_sqs() -> None:
    from moto.sqs import models as sqs_models

    original_unix_time = vars(sqs_models)["unix_time"]

    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else float(original_unix_time(dt))

    def unix_time_millis(dt: Any = None) -> float:
        return unix_time(dt) * 1000.0

    vars(sqs_models)["unix_time"] = unix_time
    vars(sqs_models)["unix_time_millis"] = unix_time_millis

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = float(self.get_queue(queue_name).message_retention_period)
        return bool(retention_period + message.sent_timestamp / 1000 > time.time())

    sqs_models.SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period
    )

    # A FIFO receive decides which groups are held (a message in flight) once, when it starts, and a long
    # poll keeps that answer while it waits: another consumer can take a group's first message meanwhile,
    # and the waiting receive then hands out the group's next one too, out of order. (Waits let other
    # requests in: see _serialise_sqs.) So a FIFO long poll is a series of short receives, each deciding
    # afresh, with the same waits in between, as on AWS, where a group's in-flight message holds it.
    original_receive = sqs_models.SQSBackend.receive_message

    def receive_message(
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:
        queue = self.get_queue(queue_name)
        if queue.fifo_queue:
            _release_visible(queue)
        if not queue.fifo_queue or not wait_seconds_timeout:
            return list(
                original_receive(
                    self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names
                )
            )
        deadline = time.time() + wait_seconds_timeout
        while True:
            received = list(
                original_receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            )
            if received or time.time() >= deadline:
                return received
            queue.wait_for_messages(1)
            _release_visible(queue)

    sqs_models.SQSBackend.receive_message = receive_message  # type: ignore[method-assign]


def _release_visible(queue: Any) -> None:
    """A FIFO group is held while one of its messages is in flight. moto counts a message in flight until a
    receive's scan meets it visible again, so when two messages of a group came back together (a crashed
    batch whose visibility ran out), the scan skipped the first, its group still held by the second, and
    then handed out the second: out of order (found by ``make chaos``'s order check). Whatever is visible
    again is not in flight: let it go before the scan, and the group's first message comes first."""
    for message in [m for m in queue.pending_messages if m.visible]:
        queue.pending_messages.discard(message)


def _patch_dispatch() -> None:
    from moto import backends
    from moto.moto_server import werkzeug_app

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    original = werkzeug_app.DomainDispatcherApplication.get_backend_for_host
    cache: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host not in cache:
            cache[host] = original(self, host)
        return cache[host]

    werkzeug_app.DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]


def _serve(host: str, port: int, app: Any) -> Any:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, name=f"moto-{port}", daemon=True).start()
    return server


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--iam", action="store_true", help="enforce IAM from the first request")
    parser.add_argument("--fault-rate", type=float, default=None)
    parser.add_argument("--fault-seed", type=int, default=None)
    parser.add_argument("--no-fair-queues", action="store_true")
    args = parser.parse_args()
    # Ctrl-C reaches the whole process group; the parent decides when moto stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request

    require_moto_version()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from local_stack import _fair_sqs, iam_enforcement
    from local_stack.aws_faults import FaultControl, FaultInjector

    patch_dynamodb()
    serialise_dynamodb()
    _serialise_sqs()
    _patch_sqs()
    if not args.no_fair_queues:
        _fair_sqs.install()
    _patch_dispatch()
    if args.iam:
        from moto.core.models import DEFAULT_ACCOUNT_ID

        iam_enforcement.enable(DEFAULT_ACCOUNT_ID, os.environ.get(iam_enforcement.AUDIT_LOG_VARIABLE) or None)
    app = DomainDispatcherApplication(create_backend_app)
    ports: dict[str, int] = {}
    clean_app: Any = app
    if args.fault_rate is not None:
        injector = FaultInjector(app, args.fault_rate, args.fault_seed)
        clean_app = FaultControl(app, injector)
        ports["fault_port"] = int(_serve(args.host, 0, injector).server_address[1])
    ports["port"] = int(_serve(args.host, args.port, clean_app).server_address[1])
    sys.stdout.write(json.dumps(ports) + "\n")
    sys.stdout.flush()
    sys.stdin.buffer.read()
    # Everything moto holds is in memory and dies with the process: no need to drain the server.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
