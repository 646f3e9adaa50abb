"""What the local stack's moto checks for a request: the (action, resource) pairs AWS itself authorises."""

from __future__ import annotations

from typing import Any

import pytest

from local_stack.iam_enforcement import aws_checks, trusts_lambda

REGION, ACCOUNT = "us-east-1", "123456789012"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/hookline"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:deliveries"


def checks(service: str, api: str, parameters: dict[str, Any], resource: str = "*") -> list[tuple[str, str]]:
    return list(aws_checks(service, api, resource, parameters, REGION, ACCOUNT))


@pytest.mark.parametrize(
    ("api", "action"),
    [
        ("SendMessageBatch", "sqs:SendMessage"),
        ("ChangeMessageVisibilityBatch", "sqs:ChangeMessageVisibility"),
        ("DeleteMessageBatch", "sqs:DeleteMessage"),
        ("ReceiveMessage", "sqs:ReceiveMessage"),
    ],
)
def test_sqs_batch_calls_are_authorised_as_their_single_action(api: str, action: str) -> None:
    assert checks("sqs", api, {}, QUEUE_ARN) == [(action, QUEUE_ARN)]


def test_a_dynamodb_call_names_its_table_or_index() -> None:
    assert checks("dynamodb", "GetItem", {"TableName": "hookline"}) == [("dynamodb:GetItem", TABLE_ARN)]
    assert checks("dynamodb", "Query", {"TableName": "hookline", "IndexName": "by-type"}) == [
        ("dynamodb:Query", f"{TABLE_ARN}/index/by-type")
    ]
    assert checks("dynamodb", "ListTables", {}) == [("dynamodb:ListTables", "*")]


def test_batch_calls_are_checked_on_every_table_they_touch() -> None:
    request = {"RequestItems": {"hookline": [], "other": []}}
    assert checks("dynamodb", "BatchWriteItem", request) == [
        ("dynamodb:BatchWriteItem", TABLE_ARN),
        ("dynamodb:BatchWriteItem", TABLE_ARN.replace("hookline", "other")),
    ]


def test_a_transaction_is_authorised_item_by_item() -> None:
    items = [
        {"ConditionCheck": {"TableName": "hookline"}},
        {"Put": {"TableName": "hookline"}},
        {"Update": {"TableName": "hookline"}},
        {"Delete": {"TableName": "hookline"}},
    ]
    assert checks("dynamodb", "TransactWriteItems", {"TransactItems": items}) == [
        ("dynamodb:ConditionCheckItem", TABLE_ARN),
        ("dynamodb:PutItem", TABLE_ARN),
        ("dynamodb:UpdateItem", TABLE_ARN),
        ("dynamodb:DeleteItem", TABLE_ARN),
    ]


def test_sns_secrets_and_kms_name_their_resource() -> None:
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:keys-AbCdEf"
    assert checks("sns", "Publish", {"TopicArn": topic}) == [("sns:Publish", topic)]
    assert checks("secretsmanager", "GetSecretValue", {"SecretId": secret}) == [
        ("secretsmanager:GetSecretValue", secret)
    ]
    # A secret named without its ARN cannot be matched to a policy's resource: moto's "*" stays.
    assert checks("secretsmanager", "GetSecretValue", {"SecretId": "keys"}) == [
        ("secretsmanager:GetSecretValue", "*")
    ]


def test_a_scheduler_call_names_its_schedule() -> None:
    schedule = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/hookline-schedules/sch_1"
    created = list(
        aws_checks(
            "scheduler",
            "CreateSchedule",
            "*",
            {"GroupName": "hookline-schedules"},
            REGION,
            ACCOUNT,
            "/schedules/sch_1",
        )
    )
    read = list(
        aws_checks(
            "scheduler",
            "GetSchedule",
            "*",
            {},
            REGION,
            ACCOUNT,
            "/schedules/sch_1?groupName=hookline-schedules",
        )
    )
    assert created == [("scheduler:CreateSchedule", schedule)]
    assert read == [("scheduler:GetSchedule", schedule)]
    assert list(aws_checks("scheduler", "ListSchedules", "*", {}, REGION, ACCOUNT, "/schedules")) == [
        ("scheduler:ListSchedules", "*")
    ]


def test_only_a_role_that_trusts_lambda_can_be_a_function_role() -> None:
    lambda_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com"]},
                "Action": ["sts:AssumeRole"],
            }
        ],
    }
    assert trusts_lambda(lambda_trust)
    assert trusts_lambda(
        '{"Statement": {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, '
        '"Action": "sts:AssumeRole"}}'
    )
    ec2_trust = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
    }
    assert not trusts_lambda(ec2_trust)
