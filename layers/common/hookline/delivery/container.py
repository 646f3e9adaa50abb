"""The dispatch function's objects, built once per container on first use (after any test's moto mock)."""

from __future__ import annotations

import secrets
from functools import cache

from hookline import aws
from hookline.core.config import dispatch_settings
from hookline.delivery.alerts import OperationalAlerts, OperatorWebhook
from hookline.delivery.breaker import Breaker
from hookline.delivery.effects import Attempts
from hookline.delivery.expander import Expander
from hookline.delivery.loader import SnapshotLoader
from hookline.delivery.pipeline import Dispatcher
from hookline.delivery.rate_limit import RateLimiter
from hookline.delivery.recorder import Recorder, Unrecorded
from hookline.delivery.sender import WebhookSender
from hookline.delivery.timed_jobs import TimedJobs
from hookline.storage.batch_reads import TableBatchReads
from hookline.storage.breaker_state import BreakerStateStore
from hookline.storage.dead_letter_store import DeadLetterStore
from hookline.storage.endpoints import EndpointCodec, EndpointDirectory, EndpointStore
from hookline.storage.event_log import EventLog
from hookline.storage.event_origins import EventOrigins
from hookline.storage.in_flight import InFlightLeases
from hookline.storage.queue import DeliveryQueues, JobQueue, OrderedJobQueue
from hookline.storage.rate_slots import RateSlotStore
from hookline.storage.replays import ReplayStore
from hookline.storage.schedules import ScheduleStore
from hookline.storage.secrets import KeyringSource, SecretValue
from hookline.storage.table import Table
from hookline.storage.topic import AlertTopic


@cache
def dispatcher() -> Dispatcher:
    settings = dispatch_settings()
    table = Table(settings.table_name, aws.dynamodb())
    keys = KeyringSource(SecretValue(aws.secretsmanager(), settings.encryption_keys_secret_arn))
    endpoints = EndpointStore(table, EndpointCodec(keys))
    directory = EndpointDirectory(endpoints, settings.endpoint_cache_seconds)
    log = EventLog(table, settings.retention_days)
    ordered = OrderedJobQueue(settings.ordered_queue_url, aws.sqs())
    deliveries = DeliveryQueues(JobQueue(settings.delivery_queue_url, aws.sqs()), ordered)
    sender = WebhookSender(
        settings.target_policy,
        settings.delivery_timeout_seconds,
        pool_size=settings.max_concurrent_deliveries,
    )
    breaker = Breaker(settings.breaker, BreakerStateStore(table))
    unrecorded = Unrecorded()
    operator = (
        OperatorWebhook(
            settings.operator_webhook_url,
            SecretValue(aws.secretsmanager(), settings.operator_webhook_secret_arn),
        )
        if settings.operator_webhook_url and settings.operator_webhook_secret_arn
        else None
    )
    return Dispatcher(
        settings=settings,
        loader=SnapshotLoader(TableBatchReads(table), directory, unrecorded),
        log=log,
        directory=directory,
        endpoints=endpoints,
        breaker=breaker,
        attempts=Attempts(
            log,
            breaker,
            RateLimiter(RateSlotStore(table)),
            sender,
            settings.retry_schedule,
            owner=secrets.token_hex(8),
            leases=InFlightLeases(table),
            max_in_flight=settings.endpoint_max_in_flight,
        ),
        recorder=Recorder(log, deliveries, settings.retention_days, unrecorded),
        deliveries=deliveries,
        dead_letters=JobQueue(settings.dead_letter_queue_url, aws.sqs()),
        alerts=OperationalAlerts(AlertTopic(settings.alerts_topic_arn, aws.sns()), operator, sender),
        expander=Expander(
            log,
            directory,
            DeadLetterStore(table),
            deliveries,
            settings.retention_days,
            timed=TimedJobs(
                EventOrigins(table),
                ScheduleStore(table),
                ReplayStore(table),
                log,
                directory,
                deliveries,
                settings.retention_days,
            ),
        ),
        ordered=ordered,
    )
