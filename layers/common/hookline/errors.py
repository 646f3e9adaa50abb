"""Every error Hookline raises, and what it means for a retry.

The tree::

    HooklineError
    ├── ConfigurationError            environment missing or malformed; fails the cold start, never retried
    ├── ApiError                      a request that cannot be served; one HTTP status each, never retried
    │   ├── InvalidRequestError       400 invalid_request
    │   ├── UnauthorizedError         401 unauthorized
    │   ├── NotFoundError             404 not_found
    │   ├── ConflictError             409 conflict
    │   ├── PayloadTooLargeError      413 payload_too_large
    │   └── UnprocessableError        422 unprocessable
    ├── DependencyError               an AWS call failed; translated at the edge with ``raise ... from exc``
    │   └── ThrottledError            AWS asked us to slow down
    └── DeliveryError                 one HTTP attempt to a customer endpoint failed
        ├── SsrfBlockedError          the endpoint resolved to an address we refuse to connect to
        ├── DnsError                  the host did not resolve
        ├── ConnectionFailedError     refused, reset, unreachable
        ├── TlsError                  handshake or certificate failure
        ├── DeliveryTimeoutError      connect or read exceeded the per-request timeout
        └── HttpStatusError           the endpoint answered, but not with 2xx
            └── EndpointGoneError     410 Gone: the endpoint asked us to stop; disables it, not retried

``retryable`` on a class answers "is another attempt worth it?"; code branches on it, never on messages.
"""

from __future__ import annotations

from typing import ClassVar


class HooklineError(Exception):
    """Root of every error Hookline raises on purpose."""

    retryable: ClassVar[bool] = False


class ConfigurationError(HooklineError):
    """Required configuration is missing or malformed."""


class ApiError(HooklineError):
    """A request that cannot be served. ``status`` and ``code`` become the JSON error response."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "invalid_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(ApiError):
    status = 400
    code = "invalid_request"


class UnauthorizedError(ApiError):
    status = 401
    code = "unauthorized"


class NotFoundError(ApiError):
    status = 404
    code = "not_found"


class ConflictError(ApiError):
    status = 409
    code = "conflict"


class PayloadTooLargeError(ApiError):
    status = 413
    code = "payload_too_large"


class UnprocessableError(ApiError):
    status = 422
    code = "unprocessable"


class DependencyError(HooklineError):
    """An AWS service call failed. Worth retrying: the message stays on its queue."""

    retryable = True


class ThrottledError(DependencyError):
    """AWS throttled us."""


class DeliveryError(HooklineError):
    """One HTTP attempt failed. ``kind`` is what the delivery log records as the error kind."""

    retryable = True
    kind: ClassVar[str] = "connection"


class SsrfBlockedError(DeliveryError):
    kind = "ssrf_blocked"


class DnsError(DeliveryError):
    kind = "dns"


class ConnectionFailedError(DeliveryError):
    kind = "connection"


class TlsError(DeliveryError):
    kind = "tls"


class DeliveryTimeoutError(DeliveryError):
    kind = "timeout"


class HttpStatusError(DeliveryError):
    kind = "http_status"

    def __init__(self, message: str, status_code: int, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retry_after_seconds = retry_after_seconds


class EndpointGoneError(HttpStatusError):
    retryable = False
