"""The webhook HTTP sender: one POST to one endpoint, classified into an ``AttemptResult``.

Design:

- **One pooled, guarded session per sender.** A Lambda container keeps one ``WebhookSender``, so warm
  invocations reuse TLS connections. Every socket comes from ``hookline.ssrf``'s guarded connections, which
  resolve, vet and pin the address; there are no proxies, no redirects, no cookies and no retries inside.
  ``send`` is safe to call from several threads at once.
- **Outcome is decided by the status line.** 2xx succeeds, 410 is gone, every other status (3xx included:
  redirects are never followed) is a retryable ``http_status`` failure. Network failures map to the error
  kinds of ``hookline.errors``: timeout, connection, tls, dns, ssrf_blocked. A URL the policy refuses
  (re-checked here, since policy can change after registration) is ``ssrf_blocked``.
- **Bounded in time and memory.** The response is streamed. At most ``EXCERPT_LIMIT`` bytes of the body are
  read; a body that is fully read within that keeps its pooled connection, anything longer (or broken) has
  its connection closed instead of drained. An ``AttemptDeadline`` of ``timeout_seconds`` covers the whole
  attempt (resolution, connect, TLS, upload, headers, excerpt), so a server that drips bytes cannot hold the
  attempt much past the timeout. Once the status line and headers have arrived in time, the status
  decides, even if the body then stalls: after a 2xx the receiver has the webhook, and retrying it would
  only send a duplicate.
- **Never raises for a delivery failure.** Only programming errors escape: an invalid header value from the
  caller, for instance.
"""

from __future__ import annotations

import codecs
import contextlib
import email.utils
import errno
import ssl
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from http.client import RemoteDisconnected

import requests
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError, ReadTimeoutError
from urllib3.exceptions import HTTPError as Urllib3Error

from hookline.config import TargetPolicy
from hookline.errors import (
    ConnectionFailedError,
    DeliveryError,
    DeliveryTimeoutError,
    DnsError,
    HttpStatusError,
    InvalidRequestError,
    SsrfBlockedError,
    TlsError,
)
from hookline.models import AttemptOutcome, AttemptResult
from hookline.ssrf import AttemptDeadline, guarded_session, validate_endpoint_url

EXCERPT_LIMIT = 4096  # bytes of response body kept for the delivery log
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


class WebhookSender:
    """Sends webhook POSTs through one pooled, SSRF-guarded session."""

    def __init__(self, policy: TargetPolicy, timeout_seconds: float, pool_size: int = 10) -> None:
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}")
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, got {pool_size}")
        self._policy = policy
        self._timeout = float(timeout_seconds)
        self._session = guarded_session(policy, pool_size)

    def close(self) -> None:
        """Close pooled connections (tests; a Lambda container just keeps its sender)."""
        self._session.close()

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> AttemptResult:
        """POST ``body`` with ``headers`` (sent as given) to ``url`` and classify what happened."""
        started = time.perf_counter()
        try:
            validate_endpoint_url(url, self._policy)
        except InvalidRequestError as exc:
            return _failure(started, SsrfBlockedError.kind, f"blocked: {exc.message.removeprefix('url: ')}")

        with AttemptDeadline(self._timeout) as deadline:
            try:
                response = self._session.post(
                    url,
                    data=body,
                    headers=dict(headers),
                    timeout=(self._timeout, self._timeout),
                    allow_redirects=False,
                    stream=True,
                )
            except DeliveryError as exc:  # SsrfBlockedError and DnsError from the guard, unwrapped
                return _failure(started, exc.kind, str(exc))
            except (requests.RequestException, Urllib3Error, OSError) as exc:
                if isinstance(exc, requests.exceptions.InvalidHeader | requests.exceptions.InvalidURL):
                    raise  # the caller built a request that cannot be sent: a bug, not a delivery failure
                kind, message = self._classify(exc, deadline)
                return _failure(started, kind, message)
            with response:  # closing discards the connection unless the body was read to its end
                if deadline.expired:
                    # The watchdog cut the headers short and http.client took the EOF for their end:
                    # whatever it parsed is not an answer.
                    return _failure(started, DeliveryTimeoutError.kind, self._no_response_message())
                excerpt = _read_excerpt(response)
        return _answered(started, response.status_code, response.headers.get("Retry-After"), excerpt)

    def _no_response_message(self) -> str:
        return f"no complete response within {self._timeout:g}s"

    def _classify(self, exc: BaseException, deadline: AttemptDeadline) -> tuple[str, str]:
        limit = f"{self._timeout:g}s"
        causes = list(_causes(exc))
        if deadline.expired:
            return DeliveryTimeoutError.kind, self._no_response_message()
        if any(isinstance(c, ConnectTimeoutError) and not isinstance(c, NewConnectionError) for c in causes):
            return DeliveryTimeoutError.kind, f"connect timeout after {limit}"
        if any(isinstance(c, ReadTimeoutError | requests.exceptions.ReadTimeout) for c in causes):
            return DeliveryTimeoutError.kind, f"read timeout after {limit}"
        if any(isinstance(c, NameResolutionError | DnsError) for c in causes):
            return DnsError.kind, f"DNS: {exc}"
        tls = next((c for c in causes if isinstance(c, ssl.SSLError)), None)
        if tls is not None or isinstance(exc, requests.exceptions.SSLError):
            return TlsError.kind, _tls_message(tls, exc)
        if any(isinstance(c, TimeoutError) for c in causes):
            return DeliveryTimeoutError.kind, f"timed out after {limit}"
        return ConnectionFailedError.kind, _connection_message(causes)


def _answered(started: float, status: int, retry_after: str | None, excerpt: bytes) -> AttemptResult:
    # Where the limit cut the body, an incremental decode drops a multi-byte character cut in half instead
    # of turning it into a replacement character; a body that ended on its own is decoded in full.
    cut = len(excerpt) >= EXCERPT_LIMIT
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(excerpt, final=not cut)
    latency_ms = _elapsed_ms(started)
    if 200 <= status < 300:
        return AttemptResult(
            outcome=AttemptOutcome.SUCCEEDED, latency_ms=latency_ms, status_code=status, response_excerpt=text
        )
    message = f"HTTP {status}"
    if 300 <= status < 400:
        message += " (redirects are not followed)"
    return AttemptResult(
        outcome=AttemptOutcome.GONE if status == 410 else AttemptOutcome.RETRY,
        latency_ms=latency_ms,
        status_code=status,
        error_kind=HttpStatusError.kind,
        error_message=message,
        response_excerpt=text,
        retry_after_seconds=parse_retry_after(retry_after) if status in _RETRY_AFTER_STATUSES else None,
    )


def _failure(started: float, kind: str, message: str) -> AttemptResult:
    if len(message) > _MESSAGE_LIMIT:
        message = message[: _MESSAGE_LIMIT - 1] + "…"
    return AttemptResult(
        outcome=AttemptOutcome.RETRY, latency_ms=_elapsed_ms(started), error_kind=kind, error_message=message
    )


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
        return float(int(value))
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
    return f"connection failed: {causes[-1]}"
