"""The ingest function's objects, built once per container on first use (after any test's moto mock).

The integration harness clears every ``cache_clear``-able callable here between tests, as a fresh Lambda
container would start without them.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from hookline import aws
from hookline.api.admin import AdminService
from hookline.api.auth import AdminKey, Authenticator, TenantKeys
from hookline.api.delayed import DelayedEvents
from hookline.api.endpoints import EndpointService
from hookline.api.event_queries import EventQueries
from hookline.api.event_types import EventTypeGate, EventTypeService
from hookline.api.ingest import IngestService
from hookline.api.paging import Pager
from hookline.api.replays import ReplayService
from hookline.api.resends import ResendService
from hookline.api.schedules import ScheduleService
from hookline.api.tenants import KnownTenants, TenantService
from hookline.core import portal_session
from hookline.core.config import IngestSettings, ingest_settings
from hookline.core.event_types import SchemaCache
from hookline.core.portal_session import PortalSession
from hookline.storage.api_keys import ApiKeyStore
from hookline.storage.breaker_state import BreakerStateStore
from hookline.storage.dead_letter_store import DeadLetterStore
from hookline.storage.endpoints import EndpointCodec, EndpointStore
from hookline.storage.event_log import EventLog
from hookline.storage.event_origins import EventOrigins
from hookline.storage.event_search import EventSearch
from hookline.storage.event_types import EventTypeCatalog, EventTypeStore
from hookline.storage.idempotency import IdempotencyStore
from hookline.storage.queue import DeliveryQueues, JobQueue, OrderedJobQueue
from hookline.storage.replays import ReplayStore
from hookline.storage.scheduler import SchedulerGateway
from hookline.storage.schedules import ScheduleStore
from hookline.storage.secrets import KeyringSource, SecretValue
from hookline.storage.table import Table, aws_errors
from hookline.storage.tenants import TenantStore


def settings() -> IngestSettings:
    return ingest_settings()


@cache
def table() -> Table:
    return Table(settings().table_name, aws.dynamodb())


@cache
def keyring_source() -> KeyringSource:
    return KeyringSource(SecretValue(aws.secretsmanager(), settings().encryption_keys_secret_arn))


@cache
def pool() -> ThreadPoolExecutor:
    """Concurrent AWS calls within one request (event search's shards, a batch's idempotency claims)."""
    return ThreadPoolExecutor(max_workers=16, thread_name_prefix="api")


@cache
def queue() -> DeliveryQueues:
    return DeliveryQueues(
        JobQueue(settings().delivery_queue_url, aws.sqs()),
        OrderedJobQueue(settings().ordered_queue_url, aws.sqs()),
    )


@cache
def event_log() -> EventLog:
    return EventLog(table(), settings().retention_days)


@cache
def endpoint_store() -> EndpointStore:
    return EndpointStore(table(), EndpointCodec(keyring_source()))


@cache
def api_key_store() -> ApiKeyStore:
    return ApiKeyStore(table())


@cache
def tenant_store() -> TenantStore:
    return TenantStore(table())


@cache
def pager() -> Pager:
    return Pager(keyring_source())


def _read_admin_key() -> str:
    with aws_errors("read the admin API key"):
        response = aws.secretsmanager().get_secret_value(SecretId=settings().admin_api_key_secret_arn)
    return str(response.get("SecretString") or "")


@cache
def tenant_keys() -> TenantKeys:
    return TenantKeys(api_key_store(), settings().api_key_cache_seconds)


def _verify_portal_session(token: str) -> PortalSession:
    return portal_session.verify(keyring_source().keyring(), token, time.time())


@cache
def authenticator() -> Authenticator:
    return Authenticator(AdminKey(_read_admin_key), tenant_keys(), _verify_portal_session)


@cache
def known_tenants() -> KnownTenants:
    return KnownTenants(tenant_store(), settings().api_key_cache_seconds)


@cache
def tenant_service() -> TenantService:
    return TenantService(tenant_store(), api_key_store(), tenant_keys(), known_tenants(), pager())


@cache
def endpoint_service() -> EndpointService:
    return EndpointService(
        settings(), endpoint_store(), BreakerStateStore(table()), queue(), pager(), known_tenants()
    )


@cache
def event_type_store() -> EventTypeStore:
    return EventTypeStore(table())


@cache
def event_type_catalog() -> EventTypeCatalog:
    return EventTypeCatalog(event_type_store(), settings().event_type_cache_seconds)


@cache
def schema_cache() -> SchemaCache:
    return SchemaCache()


@cache
def event_type_service() -> EventTypeService:
    return EventTypeService(event_type_store(), event_type_catalog(), schema_cache(), pager())


@cache
def scheduler() -> SchedulerGateway:
    config = settings().scheduler
    return SchedulerGateway(aws.scheduler(), config.group_name, config.role_arn, config.delivery_queue_arn)


@cache
def delayed_events() -> DelayedEvents:
    return DelayedEvents(EventOrigins(table()), queue(), scheduler, settings().retention_days)


@cache
def ingest_service() -> IngestService:
    gate = EventTypeGate(event_type_catalog(), schema_cache(), settings().require_registered_event_types)
    return IngestService(
        settings(),
        known_tenants(),
        IdempotencyStore(table()),
        event_log(),
        queue(),
        pool(),
        gate,
        delayed_events(),
    )


@cache
def schedule_service() -> ScheduleService:
    return ScheduleService(ScheduleStore(table()), scheduler, pager(), known_tenants())


@cache
def replay_service() -> ReplayService:
    return ReplayService(ReplayStore(table()), queue(), known_tenants(), settings().retention_days)


@cache
def event_queries() -> EventQueries:
    search = EventSearch(table(), pool(), load_record=event_log().get)
    return EventQueries(event_log(), search, known_tenants(), pager())


@cache
def resend_service() -> ResendService:
    return ResendService(settings(), event_log(), endpoint_store(), queue())


@cache
def admin_service() -> AdminService:
    return AdminService(DeadLetterStore(table()), queue(), pager(), _resealing_store)


def _resealing_store() -> EndpointStore:
    """An endpoint store whose keyring is read now, for re-sealing after a key rotation."""
    keys = KeyringSource(SecretValue(aws.secretsmanager(), settings().encryption_keys_secret_arn))
    return EndpointStore(table(), EndpointCodec(keys))
