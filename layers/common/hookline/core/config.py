"""Typed configuration, read once from the environment, failing fast.

Each function reads only what it needs. A missing resource name is a ``ConfigurationError`` at cold
start: there are no silent defaults for table, queue, topic or secret names. Tunables (timeouts, limits,
the retry schedule) have the defaults that template.yaml documents.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from hookline.core.errors import ConfigurationError
from hookline.core.schedule import RetrySchedule

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class _Env:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.missing: list[str] = []

    def required(self, name: str) -> str:
        value = self._environ.get(name, "").strip()
        if not value:
            self.missing.append(name)
        return value

    def optional(self, name: str, default: str) -> str:
        return self._environ.get(name, "").strip() or default

    def integer(self, name: str, default: int, minimum: int, maximum: int) -> int:
        raw = self.optional(name, str(default))
        try:
            value = int(raw)
        except ValueError as exc:
            raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from exc
        if not minimum <= value <= maximum:
            raise ConfigurationError(f"{name} must be between {minimum} and {maximum}, got {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.optional(name, "true" if default else "false").lower()
        if raw not in {"true", "false", "1", "0", "yes", "no"}:
            raise ConfigurationError(f"{name} must be true or false, got {raw!r}")
        return raw in {"true", "1", "yes"}

    def networks(self, name: str) -> tuple[IpNetwork, ...]:
        raw = self.optional(name, "")
        try:
            return tuple(
                ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip()
            )
        except ValueError as exc:
            raise ConfigurationError(f"{name} must be a comma-separated list of CIDR blocks: {exc}") from exc

    def schedule(self, name: str) -> RetrySchedule:
        try:
            return RetrySchedule.parse(self.optional(name, RetrySchedule.DEFAULT))
        except ValueError as exc:
            raise ConfigurationError(f"{name}: {exc}") from exc

    def done(self) -> None:
        if self.missing:
            raise ConfigurationError("missing required environment variables: " + ", ".join(self.missing))


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """Which endpoint URLs and addresses deliveries may reach (the SSRF guard's configuration)."""

    allow_http: bool
    allowed_private_networks: tuple[IpNetwork, ...]


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    failure_threshold: int
    cooldown_seconds: int
    disable_after_seconds: int


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    """EventBridge Scheduler: the stack's schedule group, the role it sends with, and its target."""

    group_name: str
    role_arn: str
    delivery_queue_arn: str


@dataclass(frozen=True, slots=True)
class IngestSettings:
    table_name: str
    delivery_queue_url: str
    ordered_queue_url: str
    admin_api_key_secret_arn: str
    encryption_keys_secret_arn: str
    max_payload_bytes: int
    retention_days: int
    secret_rotation_grace_seconds: int
    api_key_cache_seconds: int
    retry_schedule: RetrySchedule
    target_policy: TargetPolicy
    scheduler: SchedulerSettings
    event_type_cache_seconds: int = 10
    require_registered_event_types: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> IngestSettings:
        env = _Env(environ)
        settings = cls(
            table_name=env.required("TABLE_NAME"),
            delivery_queue_url=env.required("DELIVERY_QUEUE_URL"),
            ordered_queue_url=env.required("ORDERED_QUEUE_URL"),
            admin_api_key_secret_arn=env.required("ADMIN_API_KEY_SECRET_ARN"),
            encryption_keys_secret_arn=env.required("ENCRYPTION_KEYS_SECRET_ARN"),
            max_payload_bytes=env.integer("MAX_PAYLOAD_BYTES", 262_144, 1_024, 350_000),
            retention_days=_retention_days(env),
            secret_rotation_grace_seconds=env.integer("SECRET_ROTATION_GRACE_SECONDS", 86_400, 0, 2_592_000),
            api_key_cache_seconds=env.integer("API_KEY_CACHE_SECONDS", 30, 0, 30),
            retry_schedule=env.schedule("RETRY_SCHEDULE"),
            target_policy=_target_policy(env),
            scheduler=SchedulerSettings(
                group_name=env.required("SCHEDULE_GROUP_NAME"),
                role_arn=env.required("SCHEDULER_ROLE_ARN"),
                delivery_queue_arn=env.required("DELIVERY_QUEUE_ARN"),
            ),
            event_type_cache_seconds=env.integer("EVENT_TYPE_CACHE_SECONDS", 10, 0, 300),
            require_registered_event_types=env.boolean("REQUIRE_REGISTERED_EVENT_TYPES", False),
        )
        env.done()
        return settings


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    table_name: str
    delivery_queue_url: str
    ordered_queue_url: str
    dead_letter_queue_url: str
    alerts_topic_arn: str
    encryption_keys_secret_arn: str
    retry_schedule: RetrySchedule
    delivery_timeout_seconds: float
    max_concurrent_deliveries: int
    endpoint_max_in_flight: int
    retention_days: int
    endpoint_cache_seconds: int
    target_policy: TargetPolicy
    breaker: BreakerSettings
    operator_webhook_url: str | None
    operator_webhook_secret_arn: str | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> DispatchSettings:
        env = _Env(environ)
        operator_url = env.optional("OPERATOR_WEBHOOK_URL", "") or None
        settings = cls(
            table_name=env.required("TABLE_NAME"),
            delivery_queue_url=env.required("DELIVERY_QUEUE_URL"),
            ordered_queue_url=env.required("ORDERED_QUEUE_URL"),
            dead_letter_queue_url=env.required("DEAD_LETTER_QUEUE_URL"),
            alerts_topic_arn=env.required("ALERTS_TOPIC_ARN"),
            encryption_keys_secret_arn=env.required("ENCRYPTION_KEYS_SECRET_ARN"),
            retry_schedule=env.schedule("RETRY_SCHEDULE"),
            delivery_timeout_seconds=float(env.integer("DELIVERY_TIMEOUT_SECONDS", 15, 1, 30)),
            max_concurrent_deliveries=env.integer("MAX_CONCURRENT_DELIVERIES", 10, 1, 100),
            endpoint_max_in_flight=env.integer("ENDPOINT_MAX_IN_FLIGHT", 10, 1, 1_000),
            retention_days=_retention_days(env),
            endpoint_cache_seconds=env.integer("ENDPOINT_CACHE_SECONDS", 10, 0, 300),
            target_policy=_target_policy(env),
            breaker=BreakerSettings(
                failure_threshold=env.integer("BREAKER_FAILURE_THRESHOLD", 5, 1, 1_000),
                cooldown_seconds=env.integer("BREAKER_COOLDOWN_SECONDS", 60, 1, 900),
                disable_after_seconds=env.integer("AUTO_DISABLE_AFTER_SECONDS", 432_000, 1, 31_536_000),
            ),
            operator_webhook_url=operator_url,
            operator_webhook_secret_arn=env.required("OPERATOR_WEBHOOK_SECRET_ARN") if operator_url else None,
        )
        env.done()
        return settings


@dataclass(frozen=True, slots=True)
class DeadLetterSettings:
    table_name: str
    alerts_topic_arn: str
    encryption_keys_secret_arn: str
    retention_days: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> DeadLetterSettings:
        env = _Env(environ)
        settings = cls(
            table_name=env.required("TABLE_NAME"),
            alerts_topic_arn=env.required("ALERTS_TOPIC_ARN"),
            encryption_keys_secret_arn=env.required("ENCRYPTION_KEYS_SECRET_ARN"),
            retention_days=_retention_days(env),
        )
        env.done()
        return settings


_ACCENT_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
# A CSP source for frame-ancestors: 'none', 'self', or an origin (a scheme, a host with an optional leading
# "*." and an optional port). Nothing that could end the directive (";", ",") or the header.
_FRAME_ANCESTOR = re.compile(r"'none'|'self'|https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?")
MAX_PORTAL_TITLE = 80


@dataclass(frozen=True, slots=True)
class PortalSettings:
    """The portal's branding and who may frame it (template parameters ``PortalTitle``,
    ``PortalAccentColor`` and ``PortalFrameAncestors``)."""

    title: str
    accent_color: str
    frame_ancestors: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> PortalSettings:
        env = _Env(environ)
        title = env.optional("PORTAL_TITLE", "Webhooks")
        if len(title) > MAX_PORTAL_TITLE or not title.isprintable():
            raise ConfigurationError(f"PORTAL_TITLE must be 1 to {MAX_PORTAL_TITLE} printable characters")
        accent = env.optional("PORTAL_ACCENT_COLOR", "#2b59c3")
        if not _ACCENT_COLOR.fullmatch(accent):
            raise ConfigurationError(f"PORTAL_ACCENT_COLOR must be a colour like #2b59c3, got {accent!r}")
        sources = env.optional("PORTAL_FRAME_ANCESTORS", "'none'").split()
        bad = [source for source in sources if not _FRAME_ANCESTOR.fullmatch(source)]
        if bad or ("'none'" in sources and len(sources) > 1):
            raise ConfigurationError(
                "PORTAL_FRAME_ANCESTORS must be 'none', or origins such as https://app.example.com "
                f"separated by spaces ('self' allowed), got {bad or sources}"
            )
        return cls(title=title, accent_color=accent.lower(), frame_ancestors=" ".join(sources))


def _retention_days(env: _Env) -> int:
    return env.integer("RETENTION_DAYS", 30, 1, 3_650)


def _target_policy(env: _Env) -> TargetPolicy:
    return TargetPolicy(
        allow_http=env.boolean("ALLOW_HTTP", False),
        allowed_private_networks=env.networks("ALLOWED_PRIVATE_CIDRS"),
    )


@cache
def ingest_settings() -> IngestSettings:
    return IngestSettings.from_env()


@cache
def dispatch_settings() -> DispatchSettings:
    return DispatchSettings.from_env()


@cache
def dead_letter_settings() -> DeadLetterSettings:
    return DeadLetterSettings.from_env()


@cache
def portal_settings() -> PortalSettings:
    return PortalSettings.from_env()
