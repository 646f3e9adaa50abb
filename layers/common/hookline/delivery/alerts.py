"""Operational alerts about endpoints: SNS always, and optionally a webhook to the operator, signed like any
other, with a secret read from Secrets Manager. Best effort: a failed alert is logged and counted, and never
holds up or fails a delivery. (Dead-letter alerts are the DLQ handler's, and those must not be lost.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from hookline import USER_AGENT
from hookline.core import clock, ids
from hookline.core.errors import HooklineError
from hookline.core.models import AttemptOutcome, Endpoint
from hookline.core.signing import webhook_headers
from hookline.delivery.sender import WebhookSender
from hookline.observability import logger, metrics
from hookline.storage.secrets import SecretValue
from hookline.storage.topic import AlertTopic


@dataclass(frozen=True, slots=True)
class OperatorWebhook:
    url: str
    secret: SecretValue  # holds a whsec_ secret


class OperationalAlerts:
    def __init__(self, topic: AlertTopic, operator: OperatorWebhook | None, sender: WebhookSender) -> None:
        self._topic = topic
        self._operator = operator
        self._sender = sender

    def endpoint_changed(self, kind: str, endpoint: Endpoint, details: dict[str, Any]) -> None:
        """Send ``endpoint.failing``, ``endpoint.disabled`` or ``endpoint.recovered``. Never raises."""
        timestamp = clock.now_iso()
        data = {
            "tenant_id": endpoint.tenant_id,
            "endpoint_id": endpoint.endpoint_id,
            "url": endpoint.url,
            **details,
        }
        try:
            self._topic.publish(
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
            extra={"type": kind, "tenant_id": endpoint.tenant_id, "endpoint_id": endpoint.endpoint_id},
        )

    def _post_to_operator(self, kind: str, timestamp: str, data: dict[str, Any]) -> None:
        if self._operator is None:
            return
        try:
            secret = self._operator.secret.get()
            message_id = "op_" + ids.new_event_id().removeprefix("evt_")
            body = json.dumps(
                {"type": kind, "timestamp": timestamp, "data": data}, separators=(",", ":")
            ).encode()
            headers = webhook_headers([secret], message_id, clock.unix_now(), body, USER_AGENT)
        except (HooklineError, ValueError) as exc:
            logger.warning("could not sign the operator webhook", extra={"type": kind, "reason": str(exc)})
            return
        result = self._sender.send(self._operator.url, body, headers)
        if result.outcome is not AttemptOutcome.SUCCEEDED:
            logger.warning(
                "operator webhook failed",
                extra={"type": kind, "status_code": result.status_code, "error_kind": result.failure},
            )
