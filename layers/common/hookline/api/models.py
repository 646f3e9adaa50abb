"""The v1 API's request bodies, declared once: validation, its error messages and the OpenAPI document all
come from these models (response bodies are in ``api.views``).

Every model refuses unknown fields (a typo is a 400, never a setting that silently does nothing) and is
strict: ``"5"`` is not an integer and ``true`` is not a rate limit. Rules that already live in ``core``
(URLs, filters, event types, secrets) are called from validators, so there is one rule per field. Models
are built on first use (``defer_build``), which keeps them out of the ingest function's import time.
"""

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from hookline.core import clock, portal_session, signing
from hookline.core.config import TargetPolicy
from hookline.core.errors import InvalidRequestError, NamedValueError
from hookline.core.filters import validate_filter
from hookline.core.matching import (
    EVENT_TYPE_PATTERN,
    MAX_EVENT_TYPE_LENGTH,
    is_valid_event_type,
    is_valid_event_type_pattern,
)
from hookline.core.models import Scope
from hookline.core.ordering import MAX_ORDERING_KEY, check_ordering_key
from hookline.core.targets import validate_endpoint_url

MAX_NAME = 256
MAX_DESCRIPTION = 1024
MAX_EVENT_TYPES = 100
MAX_HEADERS = 20
MAX_HEADER_NAME = 128
MAX_HEADER_VALUE = 1024
MAX_RATE_LIMIT = 10_000
MAX_BATCH = 100
MAX_IDEMPOTENCY_KEY = 255
MAX_KEY_LIFETIME_SECONDS = 10 * 365 * 86_400
SECRET_BYTES = (24, 64)
TEST_EVENT_TYPE = "webhook.test"
TEST_EVENT_DATA: dict[str, Any] = {
    "message": "A test event from Hookline: your endpoint received and can verify it.",
    "example": {"order_id": "ord_1001", "amount": 4200, "currency": "EUR"},
}

# The document's copies of rules that validators below enforce (with their own messages): JSON Schema
# keywords only, so pydantic does not check them a second time. String keywords ignore a null.
EVENT_TYPE_SCHEMA: dict[str, Any] = {
    "pattern": f"^(?:{EVENT_TYPE_PATTERN.pattern})$",
    "maxLength": MAX_EVENT_TYPE_LENGTH,
}
# An endpoint's event type filter: "*", an event type, or an event type and ".*" (a prefix wildcard).
EVENT_TYPE_PATTERN_SCHEMA: dict[str, Any] = {
    "type": "string",
    "anyOf": [
        {"const": "*"},
        EVENT_TYPE_SCHEMA,
        {
            "pattern": f"^(?:{EVENT_TYPE_PATTERN.pattern})\\.\\*$",
            "maxLength": MAX_EVENT_TYPE_LENGTH + len(".*"),
        },
    ],
}
# 'whsec_' and the padded base64 of 24 to 64 bytes: 8-20 groups of four characters (24-60 bytes) and an
# optional tail of one or two bytes, or 21 groups (63 bytes) and an optional one-byte tail.
_B64 = "[A-Za-z0-9+/]"
SECRET_SCHEMA: dict[str, Any] = {
    "pattern": f"^whsec_(?:(?:{_B64}{{4}}){{8,20}}(?:{_B64}{{2}}==|{_B64}{{3}}=)?"
    f"|(?:{_B64}{{4}}){{21}}(?:{_B64}{{2}}==)?)$"
}
IDEMPOTENCY_KEY_SCHEMA: dict[str, Any] = {
    "pattern": "^[ -~]+$",
    "minLength": 1,
    "maxLength": MAX_IDEMPOTENCY_KEY,
}

# RFC 7230 token characters. Values: visible ASCII, with inner spaces and tabs (no CR, LF, NUL or anything
# outside Latin-1 that would break the request at delivery time).
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"([\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?)?")
_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]+")
ORDERING_KEY_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]+$"
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "user-agent",
        "host",
        "transfer-encoding",
        "connection",
        "authorization",
    }
)


class RequestModel(BaseModel):
    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid", strict=True, defer_build=True)


def _named(exc: InvalidRequestError) -> NamedValueError:
    return NamedValueError(exc.message)


# --- field rules, shared by several models ---------------------------------------------------------


def check_event_type(value: str) -> str:
    if not is_valid_event_type(value):
        raise ValueError(
            "must be dot-separated names of letters, digits, '_' or '-' (like order.created), "
            "at most 256 characters"
        )
    return value


def check_event_types(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    for index, pattern in enumerate(value):
        if not is_valid_event_type_pattern(pattern):
            raise NamedValueError(
                f"event_types[{index}]: must be an event type (order.created) or a prefix wildcard (order.*)"
            )
    return list(dict.fromkeys(value))


def check_headers(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    headers: dict[str, str] = {}
    for name, header_value in value.items():
        lowered = name.lower()
        if len(name) > MAX_HEADER_NAME or not _HEADER_NAME.fullmatch(name):
            raise NamedValueError(
                f"headers: {name!r} is not a header name (1-{MAX_HEADER_NAME} letters, digits or "
                "!#$%&'*+.^_`|~-)"
            )
        if lowered in RESERVED_HEADERS or lowered.startswith("webhook-"):
            raise NamedValueError(f"headers: {name!r} is set by Hookline itself and cannot be overridden")
        if lowered in headers:
            raise NamedValueError(f"headers: {name!r} is given twice (names are case-insensitive)")
        if len(header_value) > MAX_HEADER_VALUE or not _HEADER_VALUE.fullmatch(header_value):
            raise NamedValueError(
                f"headers.{lowered}: values are at most {MAX_HEADER_VALUE} printable ASCII characters "
                "(spaces and tabs only inside; no CR, LF or other control characters)"
            )
        headers[lowered] = header_value
    return headers


def check_secret(value: str | None) -> str | None:
    if value is None:
        return None
    low, high = SECRET_BYTES
    try:
        size = len(signing.secret_key(value))
    except ValueError:
        size = -1
    if not low <= size <= high:
        raise ValueError(f"must be 'whsec_' followed by the base64 of {low} to {high} random bytes")
    return value


def check_filter(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        return validate_filter(value)
    except InvalidRequestError as exc:
        raise _named(exc) from None


def check_url(value: str, info: ValidationInfo) -> str:
    policy = (info.context or {}).get("target_policy")
    if not isinstance(policy, TargetPolicy):
        raise TypeError("endpoint URLs are validated with the deployment's target policy as context")
    try:
        return validate_endpoint_url(value, policy)
    except InvalidRequestError as exc:
        raise _named(exc) from None


def check_iso_time(value: str) -> str:
    try:
        clock.parse_iso(value)
    except ValueError:
        raise ValueError("must be an ISO-8601 time, like 2026-11-27T08:00:00Z") from None
    return value


def check_optional_iso_time(value: str | None) -> str | None:
    return None if value is None else check_iso_time(value)


def whole_number(value: Any) -> Any:
    """``5.0`` as ``5``: JSON Schema's ``integer`` (the document's) is any number with no fractional part, so
    ``1e3`` and ``5.0`` are integers there; ``5.5``, ``"5"`` and ``true`` are still refused (strict)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = BeforeValidator(whole_number)


def scopes_by_name(value: Any, allowed: tuple[Scope, ...], refusal: str) -> Any:
    """Scope names as ``Scope`` members. Strict mode takes enums by value only from JSON; these bodies are
    parsed JSON, so they are mapped here (duplicates are kept, to count against the length limit)."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        known = {scope.value: scope for scope in allowed}
        unknown = [item for item in value if item not in known]
        if unknown:
            raise ValueError(f"{refusal} {unknown[0]!r}; scopes are {', '.join(known)}")
        return [known[item] for item in value]
    return value


# --- tenants and keys -----------------------------------------------------------------------------------


def check_not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME), AfterValidator(check_not_blank)]


class TenantIn(RequestModel):
    """Create or rename a tenant."""

    name: Name


class ApiKeyIn(RequestModel):
    """A tenant-scoped API key. ``expires_in`` (seconds) is optional: without it the key never expires."""

    name: Name
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=len(Scope))]
    expires_in: Annotated[int, Field(ge=1, le=MAX_KEY_LIFETIME_SECONDS), WholeNumber] | None = None

    @field_validator("scopes", mode="before")
    @classmethod
    def _scope_names(cls, value: Any) -> Any:
        return scopes_by_name(value, tuple(Scope), "unknown scope")

    @field_validator("scopes")
    @classmethod
    def _distinct_scopes(cls, value: list[Scope]) -> list[Scope]:
        # After the length check, so the document's maxItems holds for the list as sent.
        return list(dict.fromkeys(value))


# --- endpoints ------------------------------------------------------------------------------------------

EventTypes = Annotated[
    list[Annotated[str, WithJsonSchema(EVENT_TYPE_PATTERN_SCHEMA)]],
    Field(min_length=1, max_length=MAX_EVENT_TYPES),
]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION)]
Headers = Annotated[dict[str, str], Field(max_length=MAX_HEADERS)]
RateLimit = Annotated[int, Field(ge=1, le=MAX_RATE_LIMIT), WholeNumber]
MaxInFlight = Annotated[int, Field(ge=1, le=1_000), WholeNumber]
Filter = dict[str, Any]


class _EndpointFields(RequestModel):
    event_types: EventTypes | None = Field(
        default=None,
        description="Exact event types and prefix wildcards (`order.*`); null or absent: every type.",
        examples=[["order.created", "invoice.*"]],
    )
    filter: Filter | None = Field(
        default=None,
        description="An EventBridge-style content pattern over the delivered body.",
        examples=[{"data": {"status": ["shipped"]}}],
    )
    description: Description | None = None
    enabled: bool | None = None
    headers: Headers | None = Field(
        default=None,
        description="Extra headers sent with every delivery. Write-only: responses show `****`.",
    )
    rate_limit: RateLimit | None = Field(default=None, description="Deliveries per second; null: no limit.")
    max_in_flight: MaxInFlight | None = Field(
        default=None,
        description="Most deliveries in flight to this endpoint at once while it answers slowly (1 s or "
        "more); null: the deployment's EndpointMaxInFlight (10 by default).",
    )

    _event_types = field_validator("event_types")(check_event_types)
    _filter = field_validator("filter")(check_filter)
    _headers = field_validator("headers")(check_headers)


class EndpointIn(_EndpointFields):
    """Register an endpoint."""

    url: str = Field(examples=["https://example.com/webhooks"])
    secret: str | None = Field(
        default=None,
        description="Bring your own `whsec_` secret (24-64 bytes; `v1` endpoints only).",
        json_schema_extra=SECRET_SCHEMA,
    )
    signature: Literal["v1", "v1a"] = Field(
        default="v1",
        description="`v1`: HMAC-SHA256 with a shared `whsec_` secret. `v1a`: ed25519; receivers verify with "
        "the endpoint's public key (`whpk_`), and the private key never leaves Hookline.",
    )

    _url = field_validator("url")(check_url)
    _secret = field_validator("secret")(check_secret)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class EndpointPatch(_EndpointFields):
    """Change any subset of an endpoint's fields (not its secret: rotate it instead). Absent fields stay as
    they are; `null` clears `event_types`, `filter`, `rate_limit`, `max_in_flight`, `headers` and
    `description`."""

    # Absent (None here) keeps the URL; it cannot be removed, so the document has no null for it.
    url: Annotated[str | None, WithJsonSchema({"type": "string"})] = Field(
        default=None, json_schema_extra=_no_default
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str:
        if value is None:  # only an explicit null gets here: an absent field is not validated
            raise ValueError("cannot be removed; leave it out to keep the current URL")
        return check_url(value, info)


class RotateSecretIn(RequestModel):
    secret: str | None = Field(
        default=None, description="The new secret; generated when absent.", json_schema_extra=SECRET_SCHEMA
    )

    _secret = field_validator("secret")(check_secret)


class RecoverIn(RequestModel):
    since: str = Field(
        description="Resend every delivery to this endpoint that ended failed since this time (ISO-8601).",
        examples=["2026-11-27T08:00:00Z"],
    )

    _since = field_validator("since")(check_iso_time)


class EndpointTestIn(RequestModel):
    """A test event for one endpoint. Both fields are optional; the defaults are the example shown. A
    `type` from the event-type catalog without `data` sends that type's first example."""

    type: str = Field(
        default=TEST_EVENT_TYPE, examples=[TEST_EVENT_TYPE], json_schema_extra=EVENT_TYPE_SCHEMA
    )
    data: dict[str, Any] = Field(default_factory=lambda: dict(TEST_EVENT_DATA), examples=[TEST_EVENT_DATA])

    _type = field_validator("type")(check_event_type)


# --- events ---------------------------------------------------------------------------------------------


class EventIn(RequestModel):
    """An event. `data` is any JSON object; the endpoint receives `{"type", "timestamp", "data"}`."""

    type: str = Field(examples=["order.created"], json_schema_extra=EVENT_TYPE_SCHEMA)
    data: dict[str, Any] = Field(examples=[{"order_id": "ord_1001", "amount": 4200}])
    ordering_key: str | None = Field(
        default=None,
        description="Deliveries to each endpoint keep the order of the events sent with this key: no attempt "
        "of an event is made before the previous event of its key has succeeded or finally failed.",
        examples=["ord_1001"],
        json_schema_extra={"minLength": 1, "maxLength": MAX_ORDERING_KEY, "pattern": ORDERING_KEY_PATTERN},
    )
    deliver_at: str | None = Field(
        default=None,
        description="Deliver at this time (ISO-8601, at most 365 days ahead); a past time delivers now. "
        "Until then the event shows status `scheduled` and `DELETE` cancels it.",
        examples=["2026-12-24T09:00:00Z"],
        json_schema_extra={"format": "date-time"},
    )

    _type = field_validator("type")(check_event_type)
    _ordering_key = field_validator("ordering_key")(check_ordering_key)
    _deliver_at = field_validator("deliver_at")(check_optional_iso_time)


def check_idempotency_key(value: str | None) -> str | None:
    if value is not None and (len(value) > MAX_IDEMPOTENCY_KEY or not _IDEMPOTENCY_KEY.fullmatch(value)):
        raise ValueError(f"must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters")
    return value


class BatchEventIn(EventIn):
    """One event of a batch, with its own optional idempotency key."""

    idempotency_key: str | None = Field(default=None, json_schema_extra=IDEMPOTENCY_KEY_SCHEMA)

    _key = field_validator("idempotency_key")(check_idempotency_key)


# What a batch item is, as the API treats it: meant to be a BatchEventIn, but anything else is accepted into
# the batch and answered with its own 400 in the results (the 207), so the document must admit any value.
BATCH_ITEM_SCHEMA: dict[str, Any] = {
    "description": "An event (BatchEventIn). An item that is not a valid BatchEventIn gets its own 400 in "
    "the results; the other items are still accepted.",
    "anyOf": [{"$ref": "#/components/schemas/BatchEventIn"}, {}],
}


class BatchIn(RequestModel):
    """1 to 100 events. Each item is validated on its own: a bad item gets its own 400 in the results."""

    events: Annotated[list[Any], Field(min_length=1, max_length=MAX_BATCH)] = Field(
        json_schema_extra={"items": BATCH_ITEM_SCHEMA}
    )


class PortalSessionIn(RequestModel):
    """A signed link to the tenant's portal, valid ``expires_in`` seconds, for ``scopes``."""

    expires_in: Annotated[
        int,
        Field(ge=portal_session.MIN_LIFETIME_SECONDS, le=portal_session.MAX_LIFETIME_SECONDS),
        WholeNumber,
    ] = portal_session.DEFAULT_LIFETIME_SECONDS
    scopes: Annotated[
        list[Annotated[Scope, WithJsonSchema({"enum": [s.value for s in portal_session.GRANTABLE_SCOPES]})]],
        Field(min_length=1, max_length=len(portal_session.GRANTABLE_SCOPES)),
    ] = Field(default_factory=lambda: list(portal_session.GRANTABLE_SCOPES))

    @field_validator("scopes", mode="before")
    @classmethod
    def _scope_names(cls, value: Any) -> Any:
        return scopes_by_name(value, portal_session.GRANTABLE_SCOPES, "a portal session cannot have scope")

    @field_validator("scopes")
    @classmethod
    def _distinct_scopes(cls, value: list[Scope]) -> list[Scope]:
        return list(dict.fromkeys(value))  # after the length check, as for API keys


class RetryIn(RequestModel):
    endpoint_id: str | None = Field(
        default=None, description="Resend to this endpoint only; absent: to every endpoint the event matched."
    )


# --- the event-type catalog -----------------------------------------------------------------------------

MAX_EXAMPLES = 20


class EventTypeIn(RequestModel):
    """A catalog entry. Every field is optional; a PUT replaces the whole entry."""

    description: Description = ""
    # "schema" is a (deprecated) method of pydantic's BaseModel, so the field has another name.
    data_schema: dict[str, Any] | None = Field(
        default=None,
        alias="schema",
        description="A JSON Schema (2020-12) for the events' `data`; events that break it get a 422.",
        examples=[{"type": "object", "required": ["amount"], "properties": {"amount": {"type": "integer"}}}],
    )
    examples: Annotated[list[dict[str, Any]], Field(max_length=MAX_EXAMPLES)] = Field(
        default_factory=list,
        description="Example `data` objects (each must match the schema); test sends use the first.",
    )
    deprecated: bool = False


REQUEST_MODELS: tuple[type[RequestModel], ...] = (
    TenantIn,
    ApiKeyIn,
    EndpointIn,
    EndpointPatch,
    RotateSecretIn,
    RecoverIn,
    EndpointTestIn,
    EventIn,
    BatchEventIn,
    BatchIn,
    RetryIn,
    EventTypeIn,
    PortalSessionIn,
)
