"""Integration fixtures: template.yaml deployed into moto, handlers run in-process, receivers on 127.0.0.1."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import boto3
import pytest
from moto import mock_aws

from local_stack._moto_runner import patch_dynamodb, serialise_dynamodb
from local_stack.cloudformation import deploy_stack
from tests.integration.lambda_harness import REPO, ApiClient, Stack, reset_hookline

API_KEY = "hk_test_0123456789abcdef0123456789abcdef"
# Short retries and timeouts keep the suite fast; loopback is allowed so receivers on 127.0.0.1 work.
TEST_PARAMETERS = {
    "RetrySchedule": "0,1,1",
    "AllowHttp": "true",
    "AllowedPrivateCidrs": "127.0.0.0/8",
    "DeliveryTimeoutSeconds": "1",
    # Tests of the breaker lower this; elsewhere it would pause endpoints that fail on purpose.
    "BreakerFailureThreshold": "1000",
    # Endpoint changes take effect at once, as in the local stack (the directory's TTL has unit tests).
    "EndpointCacheSeconds": "0",
    # The catalog's own routes refresh the container's copy at once, so tests see catalog changes anyway;
    # a long TTL keeps a warm container from reading a type per event even on a slow machine
    # (test_ingest_makes_one_aws_call...; the TTL itself has unit tests).
    "EventTypeCacheSeconds": "300",
}


@functools.cache
def deploy_session() -> boto3.session.Session:
    """One session for every test's deployment: a new one would load botocore's service models again for
    each of the seven clients a deployment makes (most of a deploy's time)."""
    return boto3.session.Session(region_name="us-east-1")


@pytest.fixture
def stack_parameters() -> dict[str, str]:
    return dict(TEST_PARAMETERS)


@pytest.fixture
def before_deploy() -> list[Callable[[], None]]:
    """Work to do in moto before the template is deployed (e.g. a secret a parameter names)."""
    return []


@pytest.fixture
def stack(stack_parameters: dict[str, str], before_deploy: list[Callable[[], None]]) -> Iterator[Stack]:
    with deployed_stack(stack_parameters, before_deploy) as deployed:
        yield deployed


@contextmanager
def deployed_stack(
    stack_parameters: dict[str, str], before_deploy: Sequence[Callable[[], None]] = ()
) -> Iterator[Stack]:
    """template.yaml deployed into a fresh moto, with the admin key set; a module whose tests only read may
    share one (see test_event_search.py)."""
    saved_environ = dict(os.environ)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "POWERTOOLS_METRICS_NAMESPACE": "Hookline",
        }
    )
    serialise_dynamodb()  # concurrent handlers in one process meet one store, as on AWS
    patch_dynamodb()  # a query reads its partition, not the whole table: as fast as the local stack's moto
    try:
        with mock_aws():
            reset_hookline()
            for step in before_deploy:
                step()
            deployed = deploy_stack(
                deploy_session(),
                REPO / "template.yaml",
                "hookline-it",
                stack_parameters,
            )
            secret_arn = deployed.functions["IngestFunction"].environment["ADMIN_API_KEY_SECRET_ARN"]
            boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
                SecretId=secret_arn, SecretString=API_KEY
            )
            yield Stack(deployed, extra_env={})
    finally:
        reset_hookline()
        os.environ.clear()
        os.environ.update(saved_environ)


@pytest.fixture
def api(stack: Stack) -> ApiClient:
    return ApiClient(stack, API_KEY)
