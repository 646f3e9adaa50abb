"""Operator alerts: SNS always, and optionally a webhook to the operator, signed like any other.

Dead-letter alerts must not be lost, so their publisher raises and the DLQ handler keeps the records.
Operational alerts about endpoints (failing, disabled, recovered) are best effort: a failed alert is
logged and counted, and never holds up deliveries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from hookline import USER_AGENT, clock, ids
from hookline.errors import DependencyError, HooklineError
from hookline.http_delivery import WebhookSender
from hookline.models import AttemptOutcome, Endpoint
from hookline.observability import logger, metrics
from hookline.signing import webhook_headers

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

_SNS_SUBJECT_LIMIT = 100


class AlertPublisher:
    def __init__(self, topic_arn: str, client: SNSClient) -> None:
        self._topic_arn = topic_arn
        self._client = client

    def publish(self, subject: str, message: dict[str, Any], attributes: dict[str, str]) -> None:
        try:
            self._client.publish(
                TopicArn=self._topic_arn,
                Subject=subject[:_SNS_SUBJECT_LIMIT],
                Message=json.dumps(message, indent=2),
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in attributes.items()
                    if value
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise DependencyError(f"publish alert: {exc}") from exc


@dataclass(frozen=True, slots=True)
class OperatorWebhook:
    url: str
    secret: str


class OperationalAlerts:
    def __init__(
        self, publisher: AlertPublisher, operator: OperatorWebhook | None, sender: WebhookSender | None
    ) -> None:
        self._publisher = publisher
        self._operator = operator
        self._sender = sender

    def endpoint_changed(self, kind: str, endpoint: Endpoint, details: dict[str, Any]) -> None:
        """Send ``endpoint.failing``, ``endpoint.disabled`` or ``endpoint.recovered``."""
        timestamp = clock.now_iso()
        data = {
            "tenant_id": endpoint.tenant_id,
            "endpoint_id": endpoint.endpoint_id,
            "url": endpoint.url,
            **details,
        }
        try:
            self._publisher.publish(
                f"Hookline: {kind} {endpoint.endpoint_id} ({endpoint.tenant_id})",
                {"type": kind, "timestamp": timestamp, **data},
                {"type": kind, "tenant_id": endpoint.tenant_id, "endpoint_id": endpoint.endpoint_id},
            )
        except HooklineError as exc:
            logger.warning("could not publish an operational alert", extra={"type": kind, "reason": str(exc)})
            metrics.add_metric(name="AlertFailures", unit=MetricUnit.Count, value=1)
        self._post_to_operator(kind, timestamp, data)
        logger.info(
            "alert published",
            extra={
                "type": kind,
                "tenant_id": endpoint.tenant_id,
                "endpoint_id": endpoint.endpoint_id,
                "deliveries": 0,
            },
        )

    def _post_to_operator(self, kind: str, timestamp: str, data: dict[str, Any]) -> None:
        if self._operator is None or self._sender is None:
            return
        message_id = "op_" + ids.new_event_id().removeprefix("evt_")
        body = json.dumps(
            {"type": kind, "timestamp": timestamp, "data": data}, separators=(",", ":")
        ).encode()
        unix_now = clock.unix_now()
        headers = webhook_headers([self._operator.secret], message_id, unix_now, body, USER_AGENT)
        result = self._sender.send(self._operator.url, body, headers)
        if result.outcome is not AttemptOutcome.SUCCEEDED:
            logger.warning(
                "operator webhook failed",
                extra={"type": kind, "status_code": result.status_code, "error_kind": result.error_kind},
            )
