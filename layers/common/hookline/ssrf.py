"""The SSRF guard: which URLs may be registered, and which addresses a delivery may connect to.

Two lines of defence, sharing one address rule (``is_public_address`` plus the policy's allow-list):

1. **Registration** (``validate_endpoint_url``). Pure string work, no network. Only ``https://`` (or
   ``http://`` when the deployment allows it), no user-info, a syntactically sound host and port. A host that
   is an IP literal in *any* spelling the C resolver accepts (``2130706433``, ``0177.0.0.1``, ``0x7f.1``,
   ``127.1``, ``[::ffff:127.0.0.1]``...) is normalised and vetted; so are ``localhost`` names (RFC 6761).
   Other host names are not resolved here: what they resolve to today says nothing about delivery time.
   The URL is returned unchanged, so users see back exactly what they registered.

2. **Delivery** (``guarded_session``). urllib3 2.x opens every socket in ``HTTPConnection._new_conn`` from
   ``_dns_host``; our subclasses override it to resolve the name once, vet *every* address, drop the refused
   ones and connect to a vetted address itself. Nothing resolves the name a second time, so DNS rebinding has
   no window. TLS still runs in ``HTTPSConnection.connect`` against ``self.host``, the URL's host name, so
   SNI and certificate checks are untouched. If some addresses are refused and others are not, we connect
   only to the vetted ones; only when none is left do we refuse. Connecting to a vetted address is what makes
   a request safe, and refusing mixed answers would only break hosts with harmless stray records.

Refusals raise ``SsrfBlockedError`` and unresolvable names ``DnsError``. Both derive from ``HooklineError``,
not ``OSError``, so urllib3 neither retries nor wraps them and requests lets them through unchanged: callers
catch them by type.

The session never uses proxies (``trust_env=False``, and the adapter refuses them), never follows redirects
(a 3xx target would skip registration checks, and requests would read a 3xx body without bound to find the
next hop), and keeps no cookies.

``AttemptDeadline`` also lives here because only the connection layer can enforce it: per-socket timeouts
restart on every byte, so a server that drips bytes could hold an attempt forever. While a deadline is
active, guarded connections register with it, name resolution is bounded by it, and when it passes a
watchdog shuts the connection's socket down, which wakes any blocked read or write at once.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import functools
import heapq
import ipaddress
import itertools
import re
import socket
import sys
import threading
import time
import unicodedata
from http.cookiejar import DefaultCookiePolicy
from types import TracebackType
from typing import Any, ClassVar, NamedTuple, Self
from urllib.parse import urlsplit

import idna
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, LocationParseError, NewConnectionError
from urllib3.util import parse_url
from urllib3.util.connection import allowed_gai_family

from hookline.config import TargetPolicy
from hookline.errors import DnsError, InvalidRequestError, SsrfBlockedError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048

# ---------------------------------------------------------------------------------------------------------
# The address rule
# ---------------------------------------------------------------------------------------------------------

# IANA special-purpose ranges that are not globally reachable, with the name a refusal reports. First match
# wins, so narrower entries come before the ranges that contain them. Python's own ``is_global`` is checked
# as well, but its tables change between versions and it calls multicast and NAT64 global.
_REFUSED_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(net), label)
    for net, label in (
        ("0.0.0.0/8", "'this network' (0.0.0.0/8)"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignment"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    )
)
_REFUSED_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(net), label)
    for net, label in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible (deprecated)"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001:db8::/32", "documentation"),
        ("2001::/23", "IETF protocol assignment"),  # includes Teredo, whose client address is obfuscated
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing"),
        ("fc00::/7", "unique local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)

# IPv6 forms that carry an IPv4 address in their low 32 bits and reach it when a gateway translates them:
# such an address is exactly as safe as the IPv4 address it carries.
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT, RFC 2765
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "IPv4-mapped"
    if ip in _IPV4_TRANSLATED:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF), "IPv4-translated"
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF), "NAT64"
    if ip.sixtofour is not None:
        return ip.sixtofour, "6to4"
    return None


def refusal_reason(ip: IpAddress | str) -> str | None:
    """Why ``ip`` is not a public address (e.g. ``"loopback"``), or None when it is public."""
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner, form = embedded
            inner_reason = refusal_reason(inner)
            return None if inner_reason is None else f"{form} form of {inner} ({inner_reason})"
        for network6, label in _REFUSED_V6:
            if address in network6:
                return label
        if address.is_site_local:
            return "site-local"
    else:
        for network4, label in _REFUSED_V4:
            if address in network4:
                return label
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_private or address.is_reserved or not address.is_global:
        return "not globally routable"
    return None


def is_public_address(ip: IpAddress | str) -> bool:
    """True when ``ip`` is a globally routable unicast address (IPv4-in-IPv6 forms judged by their IPv4)."""
    return refusal_reason(ip) is None


def _in_allow_list(address: IpAddress, policy: TargetPolicy) -> bool:
    candidates: list[IpAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            candidates.append(embedded[0])
    return any(
        candidate.version == network.version and candidate in network
        for candidate in candidates
        for network in policy.allowed_private_networks
    )


def is_allowed_address(ip: IpAddress | str, policy: TargetPolicy) -> bool:
    """The one address rule both checks use: public, or inside the policy's explicit allow-list."""
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    return is_public_address(address) or _in_allow_list(address, policy)


# ---------------------------------------------------------------------------------------------------------
# Registration: validate_endpoint_url
# ---------------------------------------------------------------------------------------------------------

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")
_INET_ATON_PART = re.compile(r"0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*")


def _inet_aton_number(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    return int(part, 8 if part.startswith("0") else 10)


def parse_ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """Parse ``host`` the way inet_aton (and so getaddrinfo) does: 1-4 dotted parts, each decimal, octal
    (leading 0) or hex (0x); the last part fills the remaining bytes. One trailing dot is ignored, as
    browsers do. Returns None when ``host`` is not such a literal."""
    text = host.lower().removesuffix(".")
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_INET_ATON_PART.fullmatch(part) for part in parts):
        return None
    values = [_inet_aton_number(part) for part in parts]
    *leading, last = values
    if any(value > 0xFF for value in leading) or last >= 256 ** (5 - len(values)):
        return None
    number = last
    for index, value in enumerate(leading):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def _invalid(message: str) -> InvalidRequestError:
    return InvalidRequestError(f"url: {message}")


def _check_characters(url: str) -> None:
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"must be at most {MAX_URL_LENGTH} characters")
    for char in url:
        if char.isspace() or unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            raise _invalid(f"must not contain whitespace or control characters (found {char!r})")
    # Parsers disagree about backslashes (WHATWG reads them as '/', RFC 3986 parsers do not): refusing them
    # keeps the host we vet and the host we connect to the same.
    if "\\" in url:
        raise _invalid("must not contain backslashes")


def _vet_literal(address: IpAddress, policy: TargetPolicy, shown: str) -> None:
    if _in_allow_list(address, policy):
        return
    reason = refusal_reason(address)
    if reason is not None:
        spelled = "" if shown.strip("[]") == str(address) else f" (= {address})"
        raise _invalid(f"host {shown}{spelled} is not a public address: {reason}")


def _check_hostname(host: str, policy: TargetPolicy) -> str:
    """Validate a non-bracketed host, vet it if it is an address, and return its ASCII form."""
    ascii_host = host
    if not host.isascii():
        try:
            ascii_host = idna.encode(host, uts46=True).decode("ascii")
        except UnicodeError as exc:  # idna.IDNAError is one
            raise _invalid(f"host {host!r} is not a valid internationalised domain name: {exc}") from None
    ascii_host = ascii_host.lower()
    bare = ascii_host.removesuffix(".")
    if not bare or len(bare) > 253:
        raise _invalid("host must be 1 to 253 characters")
    labels = bare.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        # A host whose last label is a number is an IPv4 literal to every resolver and browser: vet it as one,
        # or refuse it when it is not a valid one rather than guess what a resolver will make of it.
        address = parse_ipv4_literal(bare)
        if address is None:
            raise _invalid(f"host {host!r} looks like an IPv4 address but is not a valid one")
        _vet_literal(address, policy, host)
        return ascii_host
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise _invalid(
            f"host {host!r} is not a valid host name (labels of 1-63 letters, digits, '-' or '_', "
            "separated by dots)"
        )
    if labels[-1] == "localhost":
        # RFC 6761: localhost and its subdomains are loopback, whatever DNS says.
        _vet_literal(ipaddress.IPv4Address("127.0.0.1"), policy, host)
    return ascii_host


def validate_endpoint_url(url: str, policy: TargetPolicy) -> str:
    """Check an endpoint URL at registration; return it unchanged or raise ``InvalidRequestError``.

    No name is resolved: host names are vetted at delivery time by ``guarded_session``.
    """
    _check_characters(url)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise _invalid(f"is not a valid URL: {exc}") from None
    allowed_schemes = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in allowed_schemes:
        shown = f"{parts.scheme}:" if parts.scheme else "none"
        raise _invalid(f"scheme must be {' or '.join(s + '://' for s in allowed_schemes)}, got {shown}")
    if "@" in parts.netloc:
        raise _invalid("must not contain user-info (user:password@)")
    if not parts.hostname:
        raise _invalid("must have a host")
    try:
        port = parts.port
    except ValueError:
        raise _invalid("port must be a number from 1 to 65535") from None
    if port == 0:
        raise _invalid("port must be a number from 1 to 65535")

    hostname = parts.hostname
    if parts.netloc.startswith("["):
        if "%" in hostname:
            raise _invalid("IPv6 zone identifiers are not allowed")
        try:
            address = ipaddress.IPv6Address(hostname)
        except ValueError:
            raise _invalid(f"host [{hostname}] is not a valid IPv6 address") from None
        _vet_literal(address, policy, f"[{hostname}]")
        expected_host = address.compressed
    else:
        expected_host = _check_hostname(hostname, policy)

    # requests hands the URL to urllib3's parser, which then picks the host to connect to. Require it to see
    # the same host and port we just vetted, so no parser differential can slip past.
    try:
        seen = parse_url(url)
    except LocationParseError:
        raise _invalid("is not a URL that can be delivered to") from None
    seen_host = (seen.host or "").strip("[]").lower()
    if ":" in seen_host:
        with contextlib.suppress(ValueError):  # left as is, it simply will not match
            seen_host = ipaddress.IPv6Address(seen_host).compressed
    if seen.auth is not None or seen_host != expected_host or seen.port != port:
        raise _invalid("is ambiguous: its host or port reads differently to different URL parsers")
    return url


# ---------------------------------------------------------------------------------------------------------
# Delivery: resolution, the attempt deadline, guarded connections
# ---------------------------------------------------------------------------------------------------------


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


def _getaddrinfo(host: str, port: int, timeout: float | None) -> list[Any]:
    family = allowed_gai_family()
    if timeout is None:
        return socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    # getaddrinfo takes no timeout; run it aside so a slow name server cannot outlast the attempt.
    future = _resolver_pool().submit(socket.getaddrinfo, host, port, family, socket.SOCK_STREAM)
    try:
        return future.result(timeout=max(timeout, 0.0))
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise DnsError(f"resolving {host} timed out after {max(timeout, 0.0):.3g}s") from None


def resolve_and_vet(
    host: str, port: int, policy: TargetPolicy, *, timeout: float | None = None
) -> list[VettedAddress]:
    """Resolve ``host`` once and return only the addresses the policy allows, in resolver order.

    Raises ``DnsError`` when the name does not resolve (in ``timeout`` seconds, when given) and
    ``SsrfBlockedError`` when every address it resolves to is refused.
    """
    name = host.strip("[]")
    try:
        infos = _getaddrinfo(name, port, timeout)
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
        host, port, connection.policy, timeout=None if deadline is None else deadline.remaining()
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


def _pool_classes(bound: TargetPolicy) -> dict[str, type[HTTPConnectionPool]]:
    class PolicyHTTPConnection(GuardedHTTPConnection):
        policy = bound

    class PolicyHTTPSConnection(GuardedHTTPSConnection):
        policy = bound

    class GuardedHTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = PolicyHTTPConnection

    class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = PolicyHTTPSConnection

    return {"http": GuardedHTTPConnectionPool, "https": GuardedHTTPSConnectionPool}


class GuardedAdapter(HTTPAdapter):
    """A requests transport whose pools only open guarded connections, with no retries and no proxies."""

    def __init__(self, policy: TargetPolicy, pool_size: int) -> None:
        # Set before super().__init__, which builds the pool manager through init_poolmanager.
        self.policy = policy
        self._pool_classes = _pool_classes(policy)
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


def guarded_session(policy: TargetPolicy, pool_size: int) -> requests.Session:
    """A pooled requests session that only connects to addresses ``policy`` allows (see module docstring)."""
    session = GuardedSession()
    session.trust_env = False  # no proxies, netrc or CA bundles from the environment
    session.max_redirects = 0
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # keep no cookies between tenants
    # Caller headers are sent as given; ask for an unencoded body so an excerpt is readable as it arrives.
    session.headers.clear()
    session.headers["Accept-Encoding"] = "identity"
    adapter = GuardedAdapter(policy, pool_size)
    for prefix in list(session.adapters):
        session.adapters.pop(prefix).close()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
