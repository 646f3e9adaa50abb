import ipaddress

import pytest

from hookline.core.config import DeadLetterSettings, DispatchSettings, IngestSettings
from hookline.core.errors import ConfigurationError

DISPATCH_ENV = {
    "TABLE_NAME": "t",
    "DELIVERY_QUEUE_URL": "http://q",
    "ORDERED_QUEUE_URL": "http://q.fifo",
    "DEAD_LETTER_QUEUE_URL": "http://dlq",
    "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
    "ENCRYPTION_KEYS_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:keys",
}


def test_missing_resource_names_fail_fast_and_are_all_named() -> None:
    with pytest.raises(ConfigurationError) as error:
        IngestSettings.from_env({})
    for name in (
        "TABLE_NAME",
        "DELIVERY_QUEUE_URL",
        "ADMIN_API_KEY_SECRET_ARN",
        "ENCRYPTION_KEYS_SECRET_ARN",
    ):
        assert name in str(error.value)
    with pytest.raises(ConfigurationError, match="ALERTS_TOPIC_ARN"):
        DeadLetterSettings.from_env({"TABLE_NAME": "t"})


def test_dispatch_defaults_follow_the_contract() -> None:
    settings = DispatchSettings.from_env(DISPATCH_ENV)
    assert settings.retry_schedule.max_attempts == 8
    assert settings.delivery_timeout_seconds == 15
    assert settings.target_policy.allow_http is False
    assert settings.target_policy.allowed_private_networks == ()


def test_dispatch_reads_overrides() -> None:
    settings = DispatchSettings.from_env(
        DISPATCH_ENV
        | {"RETRY_SCHEDULE": "0,1,2", "ALLOW_HTTP": "true", "ALLOWED_PRIVATE_CIDRS": "127.0.0.0/8, ::1/128"}
    )
    assert settings.retry_schedule.delays == (0, 1, 2)
    assert settings.target_policy.allow_http
    assert ipaddress.ip_address("127.0.0.1") in settings.target_policy.allowed_private_networks[0]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DELIVERY_TIMEOUT_SECONDS", "31"),
        ("DELIVERY_TIMEOUT_SECONDS", "soon"),
        ("ALLOW_HTTP", "maybe"),
        ("ALLOWED_PRIVATE_CIDRS", "10.0.0.0/33"),
        ("RETRY_SCHEDULE", "0,x"),
    ],
)
def test_malformed_values_are_configuration_errors(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        DispatchSettings.from_env(DISPATCH_ENV | {name: value})
