"""Every error Hookline raises on purpose, and what it means for a retry.

The tree::

    HooklineError
    ├── ConfigurationError            environment missing or malformed; fails the cold start, never retried
    ├── ApiError                      a request that cannot be served; one HTTP status each, never retried
    │   ├── InvalidRequestError       400 invalid_request
    │   ├── UnauthorizedError         401 unauthorized
    │   ├── ForbiddenError            403 forbidden
    │   ├── NotFoundError             404 not_found
    │   ├── ConflictError             409 conflict
    │   │   └── IdempotencyInProgressError  409 idempotency_in_progress (with Retry-After)
    │   ├── PayloadTooLargeError      413 payload_too_large
    │   └── UnprocessableError        422 unprocessable
    │       └── NotSubscribedError    422 not_subscribed (a retry to an endpoint the event never went to)
    ├── DependencyError               an AWS call failed (translated in ``storage.table``); retry
    │   └── ThrottledError            AWS asked us to slow down
    ├── ConditionNotMet               a conditional write lost (someone got there first); storage turns it
    │                                 into a domain answer and never lets it escape
    └── ConnectionRefusedByPolicy     raised inside a connection; ``delivery.sender`` turns it into a
        ├── SsrfBlockedError          failed attempt: the endpoint resolved to an address we refuse
        └── DnsError                  the host did not resolve

A delivery attempt never raises: its outcome is an ``AttemptResult`` value whose ``failure`` is a
``FailureKind`` (``core.models``). ``retryable`` on a class answers "is another try worth it?"; code
branches on it, never on messages.
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
    retry_after_seconds: ClassVar[int | None] = None  # sent as Retry-After when set

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(ApiError):
    status = 400
    code = "invalid_request"


class UnauthorizedError(ApiError):
    status = 401
    code = "unauthorized"


class ForbiddenError(ApiError):
    status = 403
    code = "forbidden"


class NotFoundError(ApiError):
    status = 404
    code = "not_found"


class ConflictError(ApiError):
    status = 409
    code = "conflict"


class IdempotencyInProgressError(ConflictError):
    """Another request holds this Idempotency-Key and has not finished: its answer is not known yet."""

    code = "idempotency_in_progress"
    retry_after_seconds = 1


class PayloadTooLargeError(ApiError):
    status = 413
    code = "payload_too_large"


class UnprocessableError(ApiError):
    status = 422
    code = "unprocessable"


class NotSubscribedError(UnprocessableError):
    """A targeted resend to an endpoint the event was never fanned out to (Svix refuses it too)."""

    code = "not_subscribed"


class DependencyError(HooklineError):
    """An AWS service call failed. Worth retrying: the message stays on its queue, the caller gets a 503."""

    retryable = True


class ThrottledError(DependencyError):
    """AWS throttled us."""


class ConditionNotMet(HooklineError):
    """A DynamoDB condition did not hold. Internal to ``storage``, which answers with a value instead."""


class ConnectionRefusedByPolicy(HooklineError):
    """Raised from inside a guarded connection. Deliberately not an ``OSError``: urllib3 must neither retry
    nor wrap it, so the sender catches it by type."""

    retryable = True


class SsrfBlockedError(ConnectionRefusedByPolicy):
    """The endpoint's address is one deliveries may not reach."""


class DnsError(ConnectionRefusedByPolicy):
    """The endpoint's host name did not resolve."""
