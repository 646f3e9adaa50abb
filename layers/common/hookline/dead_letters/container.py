"""The DLQ handler's objects, built once per container on first use (after any test's moto mock)."""

from __future__ import annotations

from functools import cache

from hookline import aws
from hookline.core.config import dead_letter_settings
from hookline.dead_letters.handler import DeadLetterHandler
from hookline.storage.dead_letter_store import DeadLetterStore
from hookline.storage.endpoints import EndpointCodec, EndpointStore
from hookline.storage.event_log import EventLog
from hookline.storage.secrets import KeyringSource, SecretValue
from hookline.storage.table import Table
from hookline.storage.topic import AlertTopic


@cache
def dead_letter_handler() -> DeadLetterHandler:
    settings = dead_letter_settings()
    table = Table(settings.table_name, aws.dynamodb())
    keys = KeyringSource(SecretValue(aws.secretsmanager(), settings.encryption_keys_secret_arn))
    return DeadLetterHandler(
        log=EventLog(table, settings.retention_days),
        endpoints=EndpointStore(table, EndpointCodec(keys)),
        letters=DeadLetterStore(table),
        topic=AlertTopic(settings.alerts_topic_arn, aws.sns()),
        retention_days=settings.retention_days,
    )
