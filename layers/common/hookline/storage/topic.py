"""SNS: the alerts topic."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from hookline.storage.table import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

_SUBJECT_LIMIT = 100


class AlertTopic:
    def __init__(self, topic_arn: str, client: SNSClient) -> None:
        self._topic_arn = topic_arn
        self._client = client

    def publish(self, subject: str, message: dict[str, Any], attributes: dict[str, str]) -> None:
        """Publish one alert; raises ``DependencyError`` when SNS refuses."""
        # SNS subjects are one line of printable ASCII.
        clean_subject = "".join(c if " " <= c <= "~" else "?" for c in subject)[:_SUBJECT_LIMIT]
        with aws_errors("publish alert"):
            self._client.publish(
                TopicArn=self._topic_arn,
                Subject=clean_subject,
                Message=json.dumps(message, indent=2),
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in attributes.items()
                    if value
                },
            )
