"""The webhook sender: one POST to one endpoint, classified into an ``AttemptResult``. It never raises.

Design:

- **One pooled, guarded session per sender.** A Lambda container keeps one sender, so warm invocations reuse
  TLS connections. Every socket comes from ``delivery.guarded_http``, which resolves, vets and pins the
  address; no proxies, no redirects, no cookies, no retries inside. ``send`` is safe from several threads.
- **The status line decides.** 2xx succeeds, 410 is gone, every other status (3xx included: redirects are
  never followed) is a retryable ``http_status`` failure. Once the status line and headers arrived in time the
  status decides, even if the body then stalls: after a 2xx the receiver has the webhook.
- **Failures are values.** Network errors become ``FailureKind``s through one translation table,
  ``_TRANSLATIONS`` (first match wins), walked over the exception and everything it wraps. A request that
  cannot even be built (a header value the endpoint's configuration made invalid) is ``invalid_request``; an
  unexpected error is ``internal``. Either way it is this delivery's failed attempt, never the batch's crash.
- **Bounded in time and memory.** An ``AttemptDeadline`` covers the whole attempt; at most ``EXCERPT_LIMIT``
  bytes of the body are read, and a body longer than that (or broken) has its connection closed, not drained.
"""

from __future__ import annotations

import codecs
import contextlib
import email.utils
import errno
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from http.client import RemoteDisconnected

import requests
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError, ReadTimeoutError
from urllib3.exceptions import HTTPError as Urllib3Error

from hookline.core.config import TargetPolicy
from hookline.core.errors import ConnectionRefusedByPolicy, DnsError, InvalidRequestError, SsrfBlockedError
from hookline.core.models import AttemptOutcome, AttemptResult, FailureKind
from hookline.core.numbers import parse_whole
from hookline.core.targets import validate_endpoint_url
from hookline.delivery.guarded_http import AttemptDeadline, Resolver, guarded_session, system_resolver
from hookline.observability import logger

EXCERPT_LIMIT = 512  # bytes of response body kept in the delivery log
_MESSAGE_LIMIT = 300
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_ERRNO_MESSAGES = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by peer",
    errno.ECONNABORTED: "connection aborted",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.EPIPE: "connection closed by peer while sending",
}


def _is(*types: type[BaseException]) -> Callable[[BaseException], bool]:
    return lambda exc: isinstance(exc, types)


# urllib3 / requests exception -> failure kind. First match wins, over the exception and everything it wraps;
# order matters where classes nest (NewConnectionError is a ConnectTimeoutError).
_TRANSLATIONS: tuple[tuple[Callable[[BaseException], bool], FailureKind], ...] = (
    (_is(SsrfBlockedError), FailureKind.SSRF_BLOCKED),
    (_is(DnsError, NameResolutionError), FailureKind.DNS),
    (
        _is(requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeError),
        FailureKind.INVALID_REQUEST,
    ),
    (
        lambda exc: isinstance(exc, ConnectTimeoutError) and not isinstance(exc, NewConnectionError),
        FailureKind.TIMEOUT,
    ),
    (_is(ReadTimeoutError, requests.exceptions.ReadTimeout), FailureKind.TIMEOUT),
    (_is(ssl.SSLError, requests.exceptions.SSLError), FailureKind.TLS),
    (_is(TimeoutError), FailureKind.TIMEOUT),
    (_is(OSError, Urllib3Error, requests.RequestException, RemoteDisconnected), FailureKind.CONNECTION),
)


class WebhookSender:
    """Sends webhook POSTs through one pooled, SSRF-guarded session."""

    def __init__(
        self,
        policy: TargetPolicy,
        timeout_seconds: float,
        pool_size: int = 10,
        resolver: Resolver = system_resolver,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}")
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, got {pool_size}")
        self._policy = policy
        self._timeout = float(timeout_seconds)
        self._session = guarded_session(policy, pool_size, resolver)

    @property
    def timeout_seconds(self) -> float:
        return self._timeout

    def close(self) -> None:
        """Close pooled connections (tests; a Lambda container just keeps its sender)."""
        self._session.close()

    def send(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout_seconds: float | None = None
    ) -> AttemptResult:
        """POST ``body`` with ``headers`` (sent as given) to ``url`` and classify what happened, within the
        sender's timeout or ``timeout_seconds`` if that is shorter."""
        started = time.perf_counter()
        limit = self._timeout if timeout_seconds is None else min(self._timeout, timeout_seconds)
        try:
            return self._send(url, body, headers, started, limit)
        except Exception:  # noqa: BLE001 - whatever happens is this attempt's failure, not the caller's
            logger.exception("unexpected error while sending a webhook")
            return _failure(started, FailureKind.INTERNAL, "the attempt failed on Hookline's side")

    def _send(
        self, url: str, body: bytes, headers: Mapping[str, str], started: float, limit: float
    ) -> AttemptResult:
        try:
            validate_endpoint_url(url, self._policy)
        except InvalidRequestError as exc:
            return _failure(
                started, FailureKind.SSRF_BLOCKED, f"blocked: {exc.message.removeprefix('url: ')}"
            )
        with AttemptDeadline(limit) as deadline:
            try:
                response = self._session.post(
                    url,
                    data=body,
                    headers=dict(headers),
                    timeout=(limit, limit),
                    allow_redirects=False,
                    stream=True,
                )
            except (
                ConnectionRefusedByPolicy,
                requests.RequestException,
                Urllib3Error,
                OSError,
                ValueError,
            ) as exc:
                if deadline.expired:
                    return _failure(started, FailureKind.TIMEOUT, _no_response_message(limit))
                kind = classify(exc)
                return _failure(started, kind, _describe(kind, exc, limit))
            with response:  # closing discards the connection unless the body was read to its end
                if deadline.expired:
                    # The watchdog cut the headers short and http.client took the EOF for their end.
                    return _failure(started, FailureKind.TIMEOUT, _no_response_message(limit))
                excerpt = _read_excerpt(response)
        return _answered(started, response.status_code, response.headers.get("Retry-After"), excerpt)


def _no_response_message(limit: float) -> str:
    return f"no complete response within {limit:g}s"


def _describe(kind: FailureKind, exc: BaseException, limit_seconds: float) -> str:
    causes = list(_causes(exc))
    limit = f"{limit_seconds:g}s"
    if kind is FailureKind.TIMEOUT:
        if any(isinstance(c, ConnectTimeoutError) for c in causes):
            return f"connect timeout after {limit}"
        return f"read timeout after {limit}"
    if kind is FailureKind.TLS:
        return _tls_message(next((c for c in causes if isinstance(c, ssl.SSLError)), None), exc)
    if kind is FailureKind.CONNECTION:
        return _connection_message(causes)
    if kind is FailureKind.INVALID_REQUEST:
        return "the request could not be built from the endpoint's settings (a header HTTP does not allow)"
    return str(exc)


def classify(exc: BaseException) -> FailureKind:
    """The failure kind of a request exception, by ``_TRANSLATIONS``."""
    causes = list(_causes(exc))
    for matches, kind in _TRANSLATIONS:
        if any(matches(cause) for cause in causes):
            return kind
    return FailureKind.CONNECTION


def _answered(started: float, status: int, retry_after: str | None, excerpt: bytes) -> AttemptResult:
    # Where the limit cut the body, an incremental decode drops a multi-byte character cut in half instead
    # of turning it into a replacement character; a body that ended on its own is decoded in full.
    cut = len(excerpt) >= EXCERPT_LIMIT
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(excerpt, final=not cut)
    latency_ms = _elapsed_ms(started)
    if 200 <= status < 300:
        return AttemptResult(AttemptOutcome.SUCCEEDED, latency_ms, status_code=status, excerpt=text)
    message = f"HTTP {status}"
    if 300 <= status < 400:
        message += " (redirects are not followed)"
    return AttemptResult(
        outcome=AttemptOutcome.GONE if status == 410 else AttemptOutcome.RETRY,
        latency_ms=latency_ms,
        status_code=status,
        failure=FailureKind.HTTP_STATUS,
        message=message,
        excerpt=text,
        retry_after_seconds=parse_retry_after(retry_after) if status in _RETRY_AFTER_STATUSES else None,
    )


def _failure(started: float, kind: FailureKind, message: str) -> AttemptResult:
    if len(message) > _MESSAGE_LIMIT:
        message = message[: _MESSAGE_LIMIT - 1] + "…"
    return AttemptResult(AttemptOutcome.RETRY, _elapsed_ms(started), failure=kind, message=message)


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _read_excerpt(response: requests.Response) -> bytes:
    """Read at most EXCERPT_LIMIT body bytes, as they arrive; never buffer more."""
    raw = response.raw
    buffer = bytearray()
    # A body that breaks off, or is cut by the deadline, keeps what arrived; the caller's close() then
    # discards the connection rather than returning a half-read one to the pool.
    with contextlib.suppress(Urllib3Error, OSError):
        while len(buffer) < EXCERPT_LIMIT:
            chunk = raw.read1(EXCERPT_LIMIT - len(buffer), decode_content=False)
            if not chunk:
                break  # end of body: urllib3 has already put the connection back in the pool
            buffer += chunk
    return bytes(buffer)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or HTTP-date), or None when unparseable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = parse_whole(value)  # a receiver may send any number of digits
        return None if seconds is None else float(seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps: causes, contexts, urllib3's ``reason`` and exceptions in ``args``."""
    pending = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        pending.extend(item for item in linked if isinstance(item, BaseException))


def _tls_message(tls: ssl.SSLError | None, exc: BaseException) -> str:
    if isinstance(tls, ssl.SSLCertVerificationError):
        return f"TLS certificate verify failed: {tls.verify_message}"
    if tls is not None and tls.reason:
        # OpenSSL reasons are constants such as WRONG_VERSION_NUMBER; the log reads better in words.
        return f"TLS error: {tls.reason.lower().replace('_', ' ')}"
    return f"TLS error: {tls or exc}"


def _connection_message(causes: list[BaseException]) -> str:
    for cause in causes:
        if isinstance(cause, RemoteDisconnected):
            return "server closed the connection without a response"
        if isinstance(cause, OSError) and cause.errno in _ERRNO_MESSAGES:
            return _ERRNO_MESSAGES[cause.errno]
    return "connection failed"
