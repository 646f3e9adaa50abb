"""Guarded HTTP connections: resolve once, vet every address, connect to a vetted one; and a deadline.

urllib3 2.x opens every socket in ``HTTPConnection._new_conn`` from ``_dns_host``; our subclasses override it
to resolve the name once, vet *every* address (``core.targets``), drop the refused ones and connect to a
vetted address itself. Nothing resolves the name a second time, so DNS rebinding has no window. TLS still
runs in ``HTTPSConnection.connect`` against ``self.host``, the URL's host name, so SNI and certificate checks
are untouched. If some addresses are refused and others are not, only the vetted ones are used; only when
none is left is the connection refused.

Refusals raise ``SsrfBlockedError`` and unresolvable names ``DnsError``. Both derive from
``ConnectionRefusedByPolicy``, not ``OSError``, so urllib3 neither retries nor wraps them and requests lets
them through unchanged: the sender catches them by type.

The session never uses proxies (``trust_env=False``, and the adapter refuses them), never follows redirects
(a 3xx target would skip registration checks), and keeps no cookies.

``AttemptDeadline`` lives here because only the connection layer can enforce it: per-socket timeouts restart
on every byte, so a server that drips bytes could hold an attempt forever. While a deadline is active,
guarded connections register with it, name resolution is bounded by it, and when it passes a watchdog shuts
the connection's socket down, which wakes any blocked read or write at once.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import functools
import heapq
import ipaddress
import itertools
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from types import TracebackType
from typing import Any, ClassVar, NamedTuple, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import allowed_gai_family

from hookline.core.config import TargetPolicy
from hookline.core.errors import DnsError, SsrfBlockedError
from hookline.core.targets import IpAddress, is_allowed_address, refusal_reason


class VettedAddress(NamedTuple):
    family: socket.AddressFamily
    type: socket.SocketKind
    proto: int
    sockaddr: tuple[Any, ...]  # exactly what getaddrinfo returned: connect() gets the vetted one
    ip: IpAddress


@functools.cache
def _resolver_pool() -> concurrent.futures.ThreadPoolExecutor:
    # Threads start on first use, so a pool made and dropped in a race costs nothing.
    return concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="hookline-dns")


# Resolves a name as ``socket.getaddrinfo(host, port, family, type)`` does. Injected (``guarded_session``,
# ``HttpSender``, ``resolve_and_vet``) so that tests give answers of their own instead of patching sockets.
Resolver = Callable[[str, int, int, int], Sequence[tuple[Any, ...]]]


def system_resolver(host: str, port: int, family: int, kind: int) -> Sequence[tuple[Any, ...]]:
    return socket.getaddrinfo(host, port, family, kind)


@dataclass(frozen=True, slots=True)
class NameService:
    """The resolver a connection class uses (held in a value, so that it is not bound as a method)."""

    resolve: Resolver


def _getaddrinfo(
    host: str, port: int, timeout: float | None, resolver: Resolver
) -> Sequence[tuple[Any, ...]]:
    family = allowed_gai_family()
    if timeout is None:
        return resolver(host, port, family, socket.SOCK_STREAM)
    # getaddrinfo takes no timeout; run it aside so a slow name server cannot outlast the attempt.
    future = _resolver_pool().submit(resolver, host, port, family, socket.SOCK_STREAM)
    try:
        return future.result(timeout=max(timeout, 0.0))
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise DnsError(f"resolving {host} timed out after {max(timeout, 0.0):.3g}s") from None


def resolve_and_vet(
    host: str,
    port: int,
    policy: TargetPolicy,
    *,
    timeout: float | None = None,
    resolver: Resolver = system_resolver,
) -> list[VettedAddress]:
    """Resolve ``host`` once and return only the addresses the policy allows, in resolver order.

    Raises ``DnsError`` when the name does not resolve (in ``timeout`` seconds, when given) and
    ``SsrfBlockedError`` when every address it resolves to is refused.
    """
    name = host.strip("[]")
    try:
        infos = _getaddrinfo(name, port, timeout, resolver)
    except socket.gaierror as exc:
        raise DnsError(f"{name} does not resolve: {exc.strerror or exc}") from None
    except UnicodeError:
        raise DnsError(f"{name} is not a valid host name") from None
    vetted: list[VettedAddress] = []
    refused: list[str] = []
    for family, kind, proto, _canonical, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = ipaddress.ip_address(sockaddr[0])
        if is_allowed_address(ip, policy):
            vetted.append(VettedAddress(family, kind, proto, sockaddr, ip))
        else:
            refused.append(f"{ip} ({refusal_reason(ip)})")
    if vetted:
        return vetted
    if not refused:
        raise DnsError(f"{name} resolved to no IPv4 or IPv6 address")
    shown = ", ".join(list(dict.fromkeys(refused))[:4])
    raise SsrfBlockedError(f"refusing to connect: {name} resolves only to non-public addresses: {shown}")


_current_deadline: contextvars.ContextVar[AttemptDeadline | None] = contextvars.ContextVar(
    "hookline_attempt_deadline", default=None
)


class _Watchdog:
    """One daemon thread that expires every overdue attempt deadline of the process.

    A ``threading.Timer`` per attempt would start a thread per delivery (about 0.3-0.5 ms each, more than
    the rest of the sender); this keeps the deadlines in a heap instead.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, AttemptDeadline] = {}
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, when: float, deadline: AttemptDeadline) -> int:
        token = next(self._tokens)
        with self._condition:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="hookline-deadlines", daemon=True)
                self._thread.start()
            self._armed[token] = deadline
            heapq.heappush(self._heap, (when, token))
            if self._heap[0][1] == token:
                self._condition.notify()
        return token

    def disarm(self, token: int) -> None:
        with self._condition:
            self._armed.pop(token, None)  # its heap entry is skipped when it comes due

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._condition.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                _, token = heapq.heappop(self._heap)
                deadline = self._armed.pop(token, None)
            if deadline is not None:
                deadline._expire()


_WATCHDOG = _Watchdog()


class AttemptDeadline:
    """Bound one whole HTTP attempt made through a guarded session in this thread (a context manager).

    On entry it becomes the thread's current deadline; guarded connections used inside the block register
    with it. ``seconds`` after entry (plus a small grace, so ordinary socket timeouts report first), a
    watchdog shuts those connections' sockets down, failing whatever is blocked on them; ``expired`` then
    reads True.
    """

    _GRACE_SECONDS = 0.1

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends_at = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._connections: list[GuardedHTTPConnection] = []
        self._expired = False
        self._watch_token: int | None = None
        self._token: contextvars.Token[AttemptDeadline | None] | None = None

    def __enter__(self) -> Self:
        self._ends_at = time.monotonic() + self.seconds
        self._token = _current_deadline.set(self)
        self._watch_token = _WATCHDOG.arm(self._ends_at + self._GRACE_SECONDS, self)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._watch_token is not None:
            _WATCHDOG.disarm(self._watch_token)
        if self._token is not None:
            _current_deadline.reset(self._token)
        with self._lock:
            for connection in self._connections:
                if connection.hookline_deadline is self:
                    connection.hookline_deadline = None
            self._connections.clear()

    @property
    def expired(self) -> bool:
        """True once the watchdog has fired."""
        return self._expired

    def remaining(self) -> float:
        return self._ends_at - time.monotonic()

    def watch(self, connection: GuardedHTTPConnection) -> None:
        with self._lock:
            if connection.hookline_deadline is not self:
                connection.hookline_deadline = self
                self._connections.append(connection)
            expired = self._expired
        if expired:
            _abort(connection)

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            # A connection already handed to a later attempt belongs to that attempt's deadline.
            mine = [c for c in self._connections if c.hookline_deadline is self]
        for connection in mine:
            _abort(connection)


def _abort(connection: HTTPConnection) -> None:
    sock = connection.sock
    if sock is None:
        return
    # The plain socket method on purpose: SSLSocket.shutdown also drops its SSL object, which another thread
    # may be using. Shutting the descriptor down makes blocked reads return EOF and writes fail.
    with contextlib.suppress(OSError):  # already closed, or never connected
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _connect_timeout(configured: object, deadline: AttemptDeadline | None) -> float | None:
    timeout = float(configured) if isinstance(configured, int | float) else None
    if deadline is not None:
        remaining = deadline.remaining()
        timeout = remaining if timeout is None else min(timeout, remaining)
    return timeout


def _open_vetted_socket(connection: GuardedHTTPConnection) -> socket.socket:
    deadline = _current_deadline.get()
    if deadline is not None:
        deadline.watch(connection)
    host = connection._dns_host  # what urllib3 would resolve: the URL host, trailing dot kept
    port = connection.port
    addresses = resolve_and_vet(
        host,
        port,
        connection.policy,
        timeout=None if deadline is None else deadline.remaining(),
        resolver=connection.names.resolve,
    )
    last_error: OSError | None = None
    for address in addresses:
        timeout = _connect_timeout(connection.timeout, deadline)
        if timeout is not None and timeout <= 0:
            break
        sock = socket.socket(address.family, address.type, address.proto)
        try:
            for option in connection.socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(timeout)
            if connection.source_address:
                sock.bind(connection.source_address)
            sock.connect(address.sockaddr)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        sys.audit("http.client.connect", connection, connection.host, connection.port)
        return sock
    # The same urllib3 errors the stock _new_conn raises, so requests maps them as usual; chained, so the
    # errno stays visible to whoever classifies the failure.
    if last_error is None or isinstance(last_error, TimeoutError):
        raise ConnectTimeoutError(
            connection, f"connection to {connection.host}:{port} timed out"
        ) from last_error
    raise NewConnectionError(
        connection, f"connection to {connection.host}:{port} failed: {last_error}"
    ) from last_error


class GuardedHTTPConnection(HTTPConnection):
    """An urllib3 connection that only ever connects to an address ``policy`` allows."""

    # Bound per session by ``guarded_session``; the default refuses every non-public address.
    policy: ClassVar[TargetPolicy] = TargetPolicy(allow_http=False, allowed_private_networks=())
    names: ClassVar[NameService] = NameService(system_resolver)
    hookline_deadline: AttemptDeadline | None = None

    def _new_conn(self) -> socket.socket:
        return _open_vetted_socket(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        # A pooled connection skips _new_conn, so the attempt deadline learns about it here.
        deadline = _current_deadline.get()
        if deadline is not None:
            deadline.watch(self)
        super().request(*args, **kwargs)


class GuardedHTTPSConnection(HTTPSConnection, GuardedHTTPConnection):
    """HTTPS flavour. HTTPSConnection.connect calls the guarded ``_new_conn`` (next in the MRO) for the
    socket, then verifies the certificate against ``self.host``, the URL's host name."""


def _pool_classes(bound: TargetPolicy, resolver: Resolver) -> dict[str, type[HTTPConnectionPool]]:
    service = NameService(resolver)

    class PolicyHTTPConnection(GuardedHTTPConnection):
        policy = bound
        names = service

    class PolicyHTTPSConnection(GuardedHTTPSConnection):
        policy = bound
        names = service

    class GuardedHTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = PolicyHTTPConnection

    class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = PolicyHTTPSConnection

    return {"http": GuardedHTTPConnectionPool, "https": GuardedHTTPSConnectionPool}


class GuardedAdapter(HTTPAdapter):
    """A requests transport whose pools only open guarded connections, with no retries and no proxies."""

    def __init__(self, policy: TargetPolicy, pool_size: int, resolver: Resolver = system_resolver) -> None:
        # Set before super().__init__, which builds the pool manager through init_poolmanager.
        self.policy = policy
        self._pool_classes = _pool_classes(policy, resolver)
        super().__init__(
            # Distinct hosts kept warm; each host's pool keeps up to pool_size sockets.
            pool_connections=max(pool_size, 32),
            pool_maxsize=pool_size,
            max_retries=0,
            pool_block=False,
        )

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise SsrfBlockedError("proxies are never used for webhook deliveries")

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Any = None,
    ) -> requests.Response:
        if proxies and any(proxies.values()):
            raise SsrfBlockedError("proxies are never used for webhook deliveries")
        if (request.url or "").lower().startswith("http:") and not self.policy.allow_http:
            raise SsrfBlockedError("plain http:// deliveries are not allowed by this deployment")
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=None)


class GuardedSession(requests.Session):
    """A session that never follows, nor even looks into, redirects.

    Even with ``allow_redirects=False``, requests asks ``get_redirect_target`` and, for a 3xx with a Location,
    reads the whole body into memory to prepare the next hop. Saying "no target" skips all of that.
    """

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None


def guarded_session(
    policy: TargetPolicy, pool_size: int, resolver: Resolver = system_resolver
) -> requests.Session:
    """A pooled requests session that only connects to addresses ``policy`` allows (see module docstring)."""
    session = GuardedSession()
    session.trust_env = False  # no proxies, netrc or CA bundles from the environment
    session.max_redirects = 0
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # keep no cookies between tenants
    # Caller headers are sent as given; ask for an unencoded body so an excerpt is readable as it arrives.
    session.headers.clear()
    session.headers["Accept-Encoding"] = "identity"
    adapter = GuardedAdapter(policy, pool_size, resolver)
    for prefix in list(session.adapters):
        session.adapters.pop(prefix).close()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
