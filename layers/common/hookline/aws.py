"""Cached boto3 client factories.

Clients are created on first use, never at import, so a test's ``mock_aws`` (or the local stack's moto
server, reached through ``AWS_ENDPOINT_URL``) is in place before the first client exists. botocore itself
honours ``AWS_ENDPOINT_URL``, so nothing here special-cases local runs.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

# Short timeouts and standard retries: a stuck AWS call must not eat a Lambda's whole budget.
_CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"mode": "standard", "max_attempts": 3},
    max_pool_connections=32,
)


@cache
def session() -> boto3.session.Session:
    """The one boto3 Session every client comes from (benchmarks hook their meters onto its events)."""
    # One session for every client: each new Session reloads botocore's data files (about 35 ms a client).
    return boto3.session.Session()


_client_lock = threading.Lock()


@cache
def _client(service: str) -> Any:
    with _client_lock:  # boto3 sessions are not thread-safe while they create clients
        return session().client(service, config=_CLIENT_CONFIG)  # type: ignore[call-overload]


def dynamodb() -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb")
    return client


def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def sns() -> SNSClient:
    client: SNSClient = _client("sns")
    return client


def secretsmanager() -> SecretsManagerClient:
    client: SecretsManagerClient = _client("secretsmanager")
    return client


def scheduler() -> Any:
    """EventBridge Scheduler (untyped: its stubs are not among the dev dependencies)."""
    return _client("scheduler")


def reset_clients() -> None:
    """Forget every cached client (tests call this when a new moto mock starts)."""
    _client.cache_clear()
    session.cache_clear()
