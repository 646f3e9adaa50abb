"""Every error Hookline raises on purpose, and what it means for a retry.

The tree::

    HooklineError
    ├── ConfigurationError            environment missing or malformed; fails the cold start, never retried
    ├── ApiError                      a request that cannot be served; one HTTP status each, never retried
    │   ├── InvalidRequestError       400 invalid_request
    │   │   └── NamedValueError       a field rule's failure inside pydantic (also a ``ValueError``), its
    │   │                             message naming its field's path
    │   ├── UnauthorizedError         401 unauthorized
    │   ├── ForbiddenError            403 forbidden
    │   ├── NotFoundError             404 not_found
    │   ├── ConflictError             409 conflict
    │   │   └── IdempotencyInProgressError  409 idempotency_in_progress (with Retry-After)
    │   ├── PayloadTooLargeError      413 payload_too_large
    │   └── UnprocessableError        422 unprocessable
    │       ├── NotSubscribedError    422 not_subscribed (a retry to an endpoint the event never went to)
    │       ├── SchemaMismatchError   422 schema_mismatch (data breaks its event type's schema)
    │       └── UnknownEventTypeError 422 unknown_event_type (the catalog is required and lacks the type)
    ├── DependencyError               an AWS call failed (translated in ``storage``); retry
    │   └── ThrottledError            AWS asked us to slow down
    ├── ContendedWriteError           a record kept changing, or vanished, under a read-modify-write; retry
    │                                 (the message goes back to its queue)
    ├── RecordNotSettled              an SQS record whose fate is "back to the queue"; retry
    ├── UnknownKeyError               a sealed value names a key this container does not hold yet; retry
    │                                 after refreshing the keyring
    ├── SealBrokenError               a sealed value does not open (tampered with, or moved); never retried
    ├── InvalidSessionError           a portal session token refused; ``api.auth`` answers 401
    ├── ConditionNotMet               a conditional write lost (someone got there first); storage turns it
    │                                 into a domain answer and never lets it escape
    ├── ScheduleNotFoundError         EventBridge Scheduler has no such schedule; ``storage.scheduler`` turns
    │                                 it into an answer (make it again, already gone, or a broken stack)
    ├── SearchBudgetExceeded          an event search spent its reads or time; the API answers a short page
    │                                 with a cursor
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


class NamedValueError(InvalidRequestError, ValueError):
    """A field rule's failure whose message already names its field's path (``filter.data.x: ...``).

    A ``ValueError`` too, so that pydantic reports it as the field's validation error."""


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


class SchemaMismatchError(UnprocessableError):
    """An event's ``data`` breaks its type's schema. The message names the failing path (``data.amount``)."""

    code = "schema_mismatch"


class UnknownEventTypeError(UnprocessableError):
    """The deployment requires registered event types, and this one is not in the catalog."""

    code = "unknown_event_type"


class DependencyError(HooklineError):
    """An AWS service call failed. Worth retrying: the message stays on its queue, the caller gets a 503."""

    retryable = True


class ThrottledError(DependencyError):
    """AWS throttled us."""


class ContendedWriteError(HooklineError):
    """A read-modify-write kept losing to other writers, or its record vanished under it. The message goes
    back to its queue and is tried again."""

    retryable = True


class RecordNotSettled(HooklineError):
    """The SQS record must come back to its queue (SQS redelivers it, or redrive moves it on)."""

    retryable = True


class UnknownKeyError(HooklineError):
    """A sealed value names a key this container does not hold (yet): refresh the keyring and try again."""

    retryable = True


class SealBrokenError(HooklineError):
    """A sealed value does not open with its key: tampered with, or moved to another endpoint."""


class InvalidSessionError(HooklineError):
    """Not a portal session this deployment issued, tampered with, or expired. The message says which, in
    words safe to show the holder."""


class ConditionNotMet(HooklineError):
    """A DynamoDB condition did not hold. Internal to ``storage``, which answers with a value instead."""


class ScheduleNotFoundError(HooklineError):
    """EventBridge Scheduler has no such schedule (or group). Internal to ``storage.scheduler``."""


class SearchBudgetExceeded(HooklineError):
    """An event search read as much as it may; the caller returns a short page with a cursor."""


class ConnectionRefusedByPolicy(HooklineError):
    """Raised from inside a guarded connection. Deliberately not an ``OSError``: urllib3 must neither retry
    nor wrap it, so the sender catches it by type."""

    retryable = True


class SsrfBlockedError(ConnectionRefusedByPolicy):
    """The endpoint's address is one deliveries may not reach."""


class DnsError(ConnectionRefusedByPolicy):
    """The endpoint's host name did not resolve."""
