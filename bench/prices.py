"""AWS list prices, us-east-1, on-demand, no free tier, lowest-volume tier; Lambda on arm64.

Each price names the official pricing page and where the figure was read. AWS's own pages render most
rates client-side, so the figure was taken from a dated public copy or article quoting the page, looked up
on 2026-11-30 with the search tool (stored copies, not the live web). Re-check before quoting a bill.
"""

from __future__ import annotations

from dataclasses import dataclass

LOOKED_UP = "2026-11-30"


@dataclass(frozen=True)
class Price:
    usd: float  # per unit
    unit: str
    source: str  # the official page
    read_in: str  # where the figure was read, with that page's date

    def per_million(self) -> float:
        return self.usd * 1_000_000


API_GATEWAY_HTTP_REQUEST = Price(
    1.00 / 1e6,
    "HTTP API request (per 512 KB)",
    "https://aws.amazon.com/api-gateway/pricing/",
    "awsforengineers.com/blog/aws-api-gateway-pricing-explained (2025-05-19): $1.00/M, first 300M",
)
LAMBDA_REQUEST = Price(
    0.20 / 1e6,
    "invocation",
    "https://aws.amazon.com/lambda/pricing/",
    "cloudchipr.com/blog/aws-lambda-pricing (2024 guide): $0.20/M requests",
)
LAMBDA_GB_SECOND = {
    "arm64": Price(
        0.0000133334,
        "GB-second (arm64)",
        "https://aws.amazon.com/lambda/pricing/",
        "cloudchipr.com/blog/aws-lambda-pricing (2024 guide): arm, first 7.5B GB-s/month",
    ),
    "x86_64": Price(
        0.0000166667,
        "GB-second (x86_64)",
        "https://aws.amazon.com/lambda/pricing/",
        "cloudchipr.com/blog/aws-lambda-pricing (2024 guide): x86, first 6B GB-s/month",
    ),
}
SQS_REQUEST = Price(
    0.40 / 1e6,
    "standard queue request (per 64 KB chunk)",
    "https://aws.amazon.com/sqs/pricing/",
    "cloudburn.io/blog/amazon-sqs-pricing (2026-03-14): $0.40/M, first 100B/month",
)
SQS_FIFO_REQUEST = Price(
    0.50 / 1e6,
    "FIFO queue request (per 64 KB chunk)",
    "https://aws.amazon.com/sqs/pricing/",
    "cloudburn.io/blog/amazon-sqs-pricing (2026-03-14): FIFO $0.50/M (flat rate) for send, receive, "
    "delete and change-visibility",
)
SNS_PUBLISH = Price(
    0.50 / 1e6,
    "standard topic publish (per 64 KB chunk)",
    "https://aws.amazon.com/sns/pricing/",
    "factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols (2026-06-13): $0.50/M",
)
DYNAMODB_WRITE_UNIT = Price(
    0.625 / 1e6,
    "on-demand write request unit",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "airbyte.com/data-engineering-resources/dynamodb-pricing (2025-07-21): $0.625/M, after Nov 2024",
)
DYNAMODB_READ_UNIT = Price(
    0.125 / 1e6,
    "on-demand read request unit",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "airbyte.com/data-engineering-resources/dynamodb-pricing (2025-07-21): $0.125/M, after Nov 2024",
)
SECRETS_MANAGER_CALL = Price(
    0.05 / 10_000,
    "API call",
    "https://aws.amazon.com/secrets-manager/pricing/",
    "hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms: $0.05/10k calls",
)
CLOUDWATCH_LOGS_GB = Price(
    0.50 / 1e9,
    "byte of logs ingested (standard class; $0.50/GB)",
    "https://aws.amazon.com/cloudwatch/pricing/",
    "c3x.dev/blog/cloudwatch-logs-cost-optimization (us-east-1, June 2026): ingestion $0.50/GB",
)
CLOUDWATCH_LOGS_STORAGE_GB_MONTH = Price(
    0.03 / 1e9,
    "byte-month of logs stored ($0.03/GB-month; priced on the ingested size, an upper bound)",
    "https://aws.amazon.com/cloudwatch/pricing/",
    "c3x.dev/blog/cloudwatch-logs-cost-optimization (us-east-1, June 2026): storage $0.03 per GB-month",
)
DYNAMODB_STORAGE_GB_MONTH = Price(
    0.25,
    "GB-month of table storage (standard table class; 100 B per item and index entry on top)",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "aws.eu/dynamodb/pricing/on-demand (stored copy): $0.25 per GB-month after the first 25 GB",
)
DYNAMODB_PITR_GB_MONTH = Price(
    0.20,
    "GB-month of continuous backups (point-in-time recovery), on the table's size",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "aws.eu/dynamodb/pricing/on-demand (stored copy): continuous backups $0.20 per GB-month",
)
DATA_TRANSFER_OUT_GB = Price(
    0.09 / 1e9,
    "byte sent to the internet ($0.09/GB, first 10 TB a month)",
    "https://aws.amazon.com/ec2/pricing/on-demand/ (Data Transfer)",
    "the same rate applies to Lambda's and API Gateway's traffic out; first 100 GB a month free (ignored)",
)
EVENTBRIDGE_CUSTOM_EVENT = Price(
    1.00 / 1e6,
    "custom event published (per 64 KB chunk)",
    "https://aws.amazon.com/eventbridge/pricing/",
    "cloudburn.io/blog/amazon-eventbridge-pricing (2026-03-13): $1.00/M",
)
EVENTBRIDGE_API_DESTINATION = Price(
    0.20 / 1e6,
    "API destination invocation (retries included)",
    "https://aws.amazon.com/eventbridge/pricing/",
    "cloudburn.io/blog/amazon-eventbridge-pricing (2026-03-13): $0.20/M",
)


def sqs_request_price(queue_url: str) -> Price:
    """A request's price by its queue: a FIFO queue's name (and so its URL) ends in ``.fifo``."""
    return SQS_FIFO_REQUEST if queue_url.endswith(".fifo") else SQS_REQUEST


TABLE = {
    "API Gateway": [API_GATEWAY_HTTP_REQUEST],
    "Lambda": [LAMBDA_REQUEST, LAMBDA_GB_SECOND["arm64"]],
    "SQS": [SQS_REQUEST, SQS_FIFO_REQUEST],
    "DynamoDB": [DYNAMODB_WRITE_UNIT, DYNAMODB_READ_UNIT],
    "SNS": [SNS_PUBLISH],
    "Secrets Manager": [SECRETS_MANAGER_CALL],
    "DynamoDB storage": [DYNAMODB_STORAGE_GB_MONTH, DYNAMODB_PITR_GB_MONTH],
    "CloudWatch Logs": [CLOUDWATCH_LOGS_GB, CLOUDWATCH_LOGS_STORAGE_GB_MONTH],
    "Data transfer": [DATA_TRANSFER_OUT_GB],
    "EventBridge (anchor)": [EVENTBRIDGE_CUSTOM_EVENT, EVENTBRIDGE_API_DESTINATION],
}
