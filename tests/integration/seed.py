"""Test data written the way the API writes it (through the stores), and events queued the way ingest
queues them: so delivery tests do not depend on the API, and read what dispatch wrote back as records."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import boto3

from hookline.core import clock, ids, jsonsafe
from hookline.core.jobs import EventJob, encode_job
from hookline.core.models import Endpoint, EndpointSecret, EventRecord
from hookline.core.signing import generate_secret
from hookline.storage.endpoints import EndpointCodec, EndpointStore
from hookline.storage.event_log import EventLog
from hookline.storage.secrets import KeyringSource, SecretValue
from hookline.storage.table import Table
from hookline.storage.tenants import TenantStore
from tests.integration.lambda_harness import Stack


class Seeder:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        env = stack.deployed.functions["DispatchFunction"].environment
        client = boto3.client("dynamodb", region_name="us-east-1")
        self.table = Table(env["TABLE_NAME"], client)
        keys = KeyringSource(
            SecretValue(
                boto3.client("secretsmanager", region_name="us-east-1"), env["ENCRYPTION_KEYS_SECRET_ARN"]
            )
        )
        self.tenants = TenantStore(self.table)
        self.endpoints = EndpointStore(self.table, EndpointCodec(keys))
        self.log = EventLog(self.table, int(env["RETENTION_DAYS"]))
        self.queue_url = env["DELIVERY_QUEUE_URL"]

    def tenant(self, tenant_id: str = "acme") -> str:
        self.tenants.upsert(tenant_id, tenant_id.title(), clock.now_iso())
        return tenant_id

    def endpoint(self, tenant_id: str, url: str, endpoint_id: str | None = None, **fields: Any) -> Endpoint:
        now = clock.now_iso()
        endpoint = Endpoint(
            tenant_id=tenant_id,
            endpoint_id=endpoint_id or ids.new_endpoint_id(),
            url=url,
            secrets=(EndpointSecret(fields.pop("secret", None) or generate_secret()),),
            created_at=now,
            updated_at=now,
            **fields,
        )
        self.endpoints.create(endpoint)
        return endpoint

    def change(self, endpoint: Endpoint, **fields: Any) -> Endpoint:
        current = self.endpoints.require(endpoint.tenant_id, endpoint.endpoint_id)
        changed = replace(current, updated_at=clock.now_iso(), **fields)
        self.endpoints.replace(changed, current.updated_at)
        return changed

    def event(self, tenant_id: str, event_type: str = "order.created", data: Any = None, **job: Any) -> str:
        """Queue an event exactly as ingest does (one event job carrying the event); returns its id."""
        event_id = ids.new_event_id()
        timestamp = clock.now_iso()
        body = jsonsafe.dumps({"type": event_type, "timestamp": timestamp, "data": data or {"n": 1}})
        self.send(EventJob(tenant_id, event_id, event_type, timestamp, body, **job))
        return event_id

    def send(self, job: Any, delay: int = 0) -> None:
        boto3.client("sqs", region_name="us-east-1").send_message(
            QueueUrl=self.queue_url, MessageBody=encode_job(job), DelaySeconds=delay
        )

    def record(self, tenant_id: str, event_id: str) -> EventRecord | None:
        return self.log.get(tenant_id, event_id)
