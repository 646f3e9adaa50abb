"""template.yaml wiring: static checks on the SAM template, and a deployment into moto.

The static checks read the template as written (and as the SAM transform renders it). The deployment
creates the stack in moto through ``local_stack.cloudformation`` and checks that what the functions are
told (their environment, their event sources) names resources that really exist.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from samtranslator.yaml_helper import yaml_parse

from local_stack.cloudformation import (
    DeployedStack,
    deploy_stack,
    parse_parameter_overrides,
    render_template,
    validate_parameters,
)

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO / "template.yaml"
EVENTS = REPO / "events"
REGION = "us-east-1"
DEFAULT_SCHEDULE = "0,5,300,1800,7200,18000,36000,36000"

GLOBAL_ENV = {
    "TABLE_NAME",
    "ALERTS_TOPIC_ARN",
    "RETENTION_DAYS",
    "ALLOW_HTTP",
    "ALLOWED_PRIVATE_CIDRS",
    "ENCRYPTION_KEYS_SECRET_ARN",
    "RETRY_SCHEDULE",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
}
# Declared in Globals but set only when the AwsEndpointUrl parameter is (sam local against moto).
LOCAL_ONLY_ENV = {"AWS_ENDPOINT_URL"}
FUNCTION_ENV = {
    "IngestFunction": {
        "DELIVERY_QUEUE_URL",
        "ORDERED_QUEUE_URL",
        "ADMIN_API_KEY_SECRET_ARN",
        "MAX_PAYLOAD_BYTES",
        "SECRET_ROTATION_GRACE_SECONDS",
        "API_KEY_CACHE_SECONDS",
        "EVENT_TYPE_CACHE_SECONDS",
        "REQUIRE_REGISTERED_EVENT_TYPES",
        "PORTAL_TITLE",
        "PORTAL_ACCENT_COLOR",
        "PORTAL_FRAME_ANCESTORS",
        "SCHEDULE_GROUP_NAME",
        "SCHEDULER_ROLE_ARN",
        "DELIVERY_QUEUE_ARN",
    },
    "DispatchFunction": {
        "DELIVERY_QUEUE_URL",
        "ORDERED_QUEUE_URL",
        "DEAD_LETTER_QUEUE_URL",
        "ENDPOINT_MAX_IN_FLIGHT",
        "DELIVERY_TIMEOUT_SECONDS",
        "MAX_CONCURRENT_DELIVERIES",
        "BREAKER_FAILURE_THRESHOLD",
        "BREAKER_COOLDOWN_SECONDS",
        "AUTO_DISABLE_AFTER_SECONDS",
        "OPERATOR_WEBHOOK_URL",
        "OPERATOR_WEBHOOK_SECRET_ARN",
        "ENDPOINT_CACHE_SECONDS",
    },
    "DlqHandlerFunction": set(),
}


# --------------------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml_parse(TEMPLATE_PATH.read_text())
    return loaded


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


def function_property(template: dict[str, Any], function: str, name: str) -> Any:
    own = template["Resources"][function]["Properties"]
    return own[name] if name in own else template["Globals"]["Function"][name]


def sqs_events(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, function in resources_of(template, "AWS::Serverless::Function").items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                found.append((name, event["Properties"]))
    return found


def evaluate(node: Any, template: dict[str, Any], parameters: dict[str, str]) -> Any:
    """A tiny CloudFormation intrinsic evaluator: enough for the template's Conditions and Fn::If."""
    if isinstance(node, list):
        return [evaluate(item, template, parameters) for item in node]
    if not isinstance(node, dict) or len(node) != 1:
        return node
    ((key, arg),) = node.items()
    if key == "Ref":
        return parameters[arg]
    if key == "Condition":
        return evaluate(template["Conditions"][arg], template, parameters)
    if key == "Fn::Sub":
        return re.sub(r"\$\{(\w+)\}", lambda match: parameters[match.group(1)], arg)
    if key == "Fn::Split":
        return evaluate(arg[1], template, parameters).split(arg[0])
    if key == "Fn::Select":
        return evaluate(arg[1], template, parameters)[int(arg[0])]
    if key == "Fn::Equals":
        left, right = evaluate(arg, template, parameters)
        return str(left) == str(right)
    if key == "Fn::Not":
        return not evaluate(arg[0], template, parameters)
    if key == "Fn::If":
        condition = evaluate(template["Conditions"][arg[0]], template, parameters)
        return evaluate(arg[1] if condition else arg[2], template, parameters)
    return {key: evaluate(arg, template, parameters)}


def max_receive_count(stack: DeployedStack) -> int:
    sqs = boto3.client("sqs", region_name=REGION)
    url = stack.outputs["DeliveryQueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    return int(redrive["maxReceiveCount"])


# --------------------------------------------------------------------------------------------- static wiring


def test_delivery_queue_redrives_to_the_dead_letter_queue(template: dict[str, Any]) -> None:
    redrive = template["Resources"]["DeliveryQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    assert "RedrivePolicy" not in template["Resources"]["DeadLetterQueue"]["Properties"]


def test_max_receive_count_only_catches_messages_that_never_settle(template: dict[str, Any]) -> None:
    # Attempts are counted in the delivery log and moved to the DLQ explicitly; the redrive count must leave
    # room for the longest schedule (12 attempts) plus early or contended receives.
    redrive = template["Resources"]["DeliveryQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] >= 2 * 12


def test_retry_schedule_parameter_accepts_1_to_12_whole_numbers(template: dict[str, Any]) -> None:
    spec = template["Parameters"]["RetrySchedule"]
    assert spec["Default"] == DEFAULT_SCHEDULE
    pattern = spec["AllowedPattern"]
    for good in ["0", "5", "0,1,2,3", DEFAULT_SCHEDULE, ",".join(["1"] * 12), "43200", "39999,42999,43199"]:
        assert re.fullmatch(pattern, good), good
    too_long = ",".join(["1"] * 13)
    for bad in ["", ",", "1,", ",1", "1,,2", "1, 2", "a", "1.5", "-1", "43201", "50000", "100000", too_long]:
        assert not re.fullmatch(pattern, bad), bad


def test_every_sqs_event_reports_batch_item_failures(template: dict[str, Any]) -> None:
    events = sqs_events(template)
    queues = {(name, properties["Queue"]["Fn::GetAtt"][0]) for name, properties in events}
    assert queues == {
        ("DispatchFunction", "DeliveryQueue"),
        ("DispatchFunction", "OrderedDeliveryQueue"),
        ("DlqHandlerFunction", "DeadLetterQueue"),
        ("DlqHandlerFunction", "OrderedDeadLetterQueue"),
    }
    for _, properties in events:
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert properties["BatchSize"] == 10
    by_queue = {properties["Queue"]["Fn::GetAtt"][0]: properties for _, properties in events}
    dispatch = by_queue["DeliveryQueue"]
    assert dispatch["MaximumBatchingWindowInSeconds"] == {"Ref": "DispatchBatchingWindowSeconds"}
    assert dispatch["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "DispatchMaximumConcurrency"}}
    # FIFO event sources take no batching window.
    assert "MaximumBatchingWindowInSeconds" not in by_queue["OrderedDeliveryQueue"]


def test_visibility_timeout_is_at_least_six_times_the_consumer_timeout(template: dict[str, Any]) -> None:
    checked = set()
    for function, properties in sqs_events(template):
        queue = properties["Queue"]["Fn::GetAtt"][0]
        visibility = template["Resources"][queue]["Properties"]["VisibilityTimeout"]
        timeout = function_property(template, function, "Timeout")
        assert visibility >= 6 * timeout, (queue, visibility, function, timeout)
        checked.add(queue)
    assert checked == set(resources_of(template, "AWS::SQS::Queue"))


def test_queues_keep_messages_14_days_encrypted(template: dict[str, Any]) -> None:
    for queue in resources_of(template, "AWS::SQS::Queue").values():
        assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
        assert queue["Properties"]["SqsManagedSseEnabled"] is True


def test_functions_layer_and_runtime(template: dict[str, Any]) -> None:
    layer = template["Resources"]["CommonLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    assert layer["Properties"]["ContentUri"].rstrip("/") == "layers/common"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == [{"Ref": "Architecture"}]
    assert layer["Properties"]["CompatibleArchitectures"] == [{"Ref": "Architecture"}]
    assert layer["Metadata"]["BuildArchitecture"] == {"Ref": "Architecture"}
    architecture = template["Parameters"]["Architecture"]
    assert architecture["Default"] == "arm64"
    assert architecture["AllowedValues"] == ["arm64", "x86_64"]
    assert function_globals["Layers"] == [{"Ref": "CommonLayer"}]
    expected = {"IngestFunction": 10, "DispatchFunction": 60, "DlqHandlerFunction": 30}
    functions = resources_of(template, "AWS::Serverless::Function")
    assert set(functions) == set(expected)
    for name, timeout in expected.items():
        assert function_property(template, name, "Handler") == "app.lambda_handler"
        assert function_property(template, name, "Timeout") == timeout


def test_environment_variable_names_are_the_documented_ones(template: dict[str, Any]) -> None:
    assert set(template["Globals"]["Function"]["Environment"]["Variables"]) == GLOBAL_ENV | LOCAL_ONLY_ENV
    for name, expected in FUNCTION_ENV.items():
        own = template["Resources"][name]["Properties"].get("Environment", {}).get("Variables", {})
        assert set(own) == expected, name


def test_http_api_route_has_no_gateway_authorizer(template: dict[str, Any]) -> None:
    assert template["Resources"]["HooklineHttpApi"]["Type"] == "AWS::Serverless::HttpApi"
    assert "Auth" not in template["Resources"]["HooklineHttpApi"]["Properties"]
    event = template["Resources"]["IngestFunction"]["Properties"]["Events"]["ApiV1"]
    assert event["Type"] == "HttpApi"
    assert event["Properties"]["Path"] == "/v1/{proxy+}"
    assert event["Properties"]["Method"] == "ANY"
    assert event["Properties"]["ApiId"] == {"Ref": "HooklineHttpApi"}
    assert event["Properties"]["PayloadFormatVersion"] == "2.0"


def test_tables_alarm_and_outputs(template: dict[str, Any]) -> None:
    table = template["Resources"]["HooklineTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert "GlobalSecondaryIndexes" not in table  # every read is a GetItem or a single-partition Query
    assert "IdempotencyTable" not in template["Resources"]  # idempotency keys live in the main table
    resources = template["Resources"]
    dead_lettered = resources["DeadLetteredDeliveriesAlarm"]["Properties"]
    assert (dead_lettered["Namespace"], dead_lettered["MetricName"]) == ("Hookline", "DeliveriesDeadLettered")
    assert dead_lettered["Dimensions"] == [{"Name": "service", "Value": "hookline"}]
    handler_errors = resources["DeadLetterHandlerErrorsAlarm"]["Properties"]
    assert handler_errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "DlqHandlerFunction"}}]
    age = resources["DeadLetterQueueAgeAlarm"]["Properties"]
    assert age["MetricName"] == "ApproximateAgeOfOldestMessage"
    for name in ("DeadLetteredDeliveriesAlarm", "DeadLetterHandlerErrorsAlarm", "DeadLetterQueueAgeAlarm"):
        alarm = resources[name]["Properties"]
        assert alarm["Threshold"] >= 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["AlarmActions"] == [{"Ref": "AlertsTopic"}]
    assert resources["AlertsTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AlertsKey"}
    key_policy = resources["AlertsKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert {"Service": "cloudwatch.amazonaws.com"} in [statement["Principal"] for statement in key_policy]
    assert "AccessLogSettings" in resources["HooklineHttpApi"]["Properties"]
    assert template["Resources"]["AlertsEmailSubscription"]["Condition"] == "HasAlertEmail"
    outputs = template["Outputs"]
    assert set(outputs) >= {
        "ApiUrl",
        "AdminApiKeySecretArn",
        "DeliveryQueueUrl",
        "DeadLetterQueueUrl",
        "AlertsTopicArn",
        "TableName",
    }
    assert "aws secretsmanager get-secret-value" in outputs["AdminApiKeySecretArn"]["Description"]


def test_rendered_policies_grant_no_wildcard_actions() -> None:
    rendered = render_template(TEMPLATE_PATH, REGION).template
    roles = resources_of(rendered, "AWS::IAM::Role")
    assert set(roles) == {
        "IngestFunctionRole",
        "DispatchFunctionRole",
        "DlqHandlerFunctionRole",
        "SchedulerRole",
    }
    actions: set[str] = set()
    for role in roles.values():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow"
                listed = statement["Action"]
                actions.update([listed] if isinstance(listed, str) else listed)
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            # SAM adds the X-Ray write-only policy for a conditional Tracing (EnableXRayTracing): it can only
            # write trace segments, and only Lambda's own segments are written unless the parameter is on.
            xray_write_only = arn == "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
            assert arn.startswith("arn:aws:iam::aws:policy/service-role/AWSLambda") or xray_write_only, arn
    assert actions
    for action in actions:
        assert action != "*" and not action.endswith(":*"), action
    # Dispatch schedules retries through the queue: it must be allowed to change a message's visibility.
    dispatch = json.dumps(roles["DispatchFunctionRole"]["Properties"]["Policies"])
    assert "sqs:ChangeMessageVisibility" in dispatch


def test_scheduler_may_only_send_to_the_delivery_queue() -> None:
    rendered = render_template(TEMPLATE_PATH, REGION).template
    role = rendered["Resources"]["SchedulerRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    [policy] = role["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": ["DeliveryQueue", "Arn"]}
    group = rendered["Resources"]["ScheduleGroup"]
    assert group["Type"] == "AWS::Scheduler::ScheduleGroup"
    ingest = json.dumps(rendered["Resources"]["IngestFunctionRole"]["Properties"]["Policies"])
    assert "iam:PassRole" in ingest and "scheduler.amazonaws.com" in ingest


# --------------------------------------------------------------------------------------------- events/


@pytest.mark.parametrize(
    ("name", "method", "path"),
    [
        ("put_tenant.json", "PUT", "/v1/tenants/acme"),
        ("create_endpoint.json", "POST", "/v1/tenants/acme/endpoints"),
        ("post_event.json", "POST", "/v1/tenants/acme/events"),
    ],
)
def test_api_events_are_http_api_v2_payloads(name: str, method: str, path: str) -> None:
    event = json.loads((EVENTS / name).read_text())
    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "ANY /v1/{proxy+}"
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == path
    assert event["requestContext"]["http"]["method"] == method
    assert event["pathParameters"] == {"proxy": path.removeprefix("/v1/")}
    assert event["headers"]["authorization"].startswith("Bearer hk_")
    assert event["headers"]["content-type"] == "application/json"
    assert event["isBase64Encoded"] is False
    assert isinstance(json.loads(event["body"]), dict)


def test_sqs_events_carry_the_documented_messages() -> None:
    dispatch = json.loads((EVENTS / "dispatch_batch.json").read_text())["Records"]
    dead = json.loads((EVENTS / "dlq_batch.json").read_text())["Records"]
    bodies = [json.loads(record["body"]) for record in dispatch + dead]
    assert [body["kind"] for body in bodies] == ["deliver", "event", "deliver"]
    for body in bodies:
        assert body["tenant_id"] == "acme"
        assert body["event_id"] == "evt_01JDEXAMP1E000000000000000"
    assert bodies[0] == bodies[2]
    assert bodies[0]["endpoint_id"] == "ep_01JDEXAMP1E000000000000000"
    assert json.loads(bodies[1]["body"])["type"] == bodies[1]["type"] == "order.created"
    for record in dispatch + dead:
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert record["eventSource"] == "aws:sqs"
    assert all(":hookline-DeliveryQueue-" in record["eventSourceARN"] for record in dispatch)
    assert ":hookline-DeadLetterQueue-" in dead[0]["eventSourceARN"]
    [firing] = json.loads((EVENTS / "schedule_firing.json").read_text())["Records"]
    fired = json.loads(firing["body"])
    assert fired["kind"] == "fire" and fired["schedule_id"].startswith("sch_")
    assert fired["scheduled_time"].endswith("Z")  # as Scheduler fills in <aws.scheduler.scheduled-time>
    assert ":hookline-DeliveryQueue-" in firing["eventSourceARN"]


# --------------------------------------------------------------------------------------------- parameters


def test_parse_parameter_overrides_accepts_sam_deploy_syntax() -> None:
    assert parse_parameter_overrides('RetrySchedule=1,2,3 AllowHttp=true AlertEmail="" LogLevel=DEBUG') == {
        "RetrySchedule": "1,2,3",
        "AllowHttp": "true",
        "AlertEmail": "",
        "LogLevel": "DEBUG",
    }
    assert parse_parameter_overrides(
        "ParameterKey=RetrySchedule,ParameterValue=0,1,2 "
        "ParameterKey=AllowedPrivateCidrs,ParameterValue=10.0.0.0/8"
    ) == {"RetrySchedule": "0,1,2", "AllowedPrivateCidrs": "10.0.0.0/8"}
    assert parse_parameter_overrides("") == {}
    with pytest.raises(ValueError, match="Key=Value"):
        parse_parameter_overrides("RetrySchedule")


def test_parameters_are_validated_like_cloudformation(template: dict[str, Any]) -> None:
    values = validate_parameters(template, {"RetrySchedule": "1,2"})
    assert values["RetrySchedule"] == "1,2"
    assert values["LogLevel"] == "INFO"
    for bad in (
        {"RetrySchedule": "1,2,x"},
        {"RetrySchedule": ",".join(["1"] * 13)},
        {"DeliveryTimeoutSeconds": "31"},
        {"DispatchMaximumConcurrency": "1"},
        {"LogLevel": "TRACE"},
        {"AllowHttp": "yes"},
        {"NoSuchParameter": "1"},
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            validate_parameters(template, bad)


# ----------------------------------------------------------------------------------------- deployed into moto


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }.items():
            patch.setenv(name, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            yield


def deploy(name: str, overrides: dict[str, str] | None = None) -> DeployedStack:
    return deploy_stack(boto3.session.Session(region_name=REGION), TEMPLATE_PATH, name, overrides or {})


@pytest.fixture(scope="module")
def stack(aws: None) -> DeployedStack:
    return deploy("hookline-template-test")


def test_every_function_is_deployed_as_the_template_says(stack: DeployedStack) -> None:
    assert set(stack.functions) == set(FUNCTION_ENV)
    for name, function in stack.functions.items():
        assert function.handler == "app.lambda_handler"
        assert function.runtime == "python3.13"
        assert (
            function.code_dir
            == REPO
            / "functions"
            / {
                "IngestFunction": "ingest",
                "DispatchFunction": "dispatch",
                "DlqHandlerFunction": "dlq_handler",
            }[name]
        )
        assert function.layer_dirs == (REPO / "layers" / "common",)
        assert set(function.environment) == GLOBAL_ENV | FUNCTION_ENV[name]
        assert all(isinstance(value, str) for value in function.environment.values())
    assert stack.functions["IngestFunction"].timeout_seconds == 10
    assert stack.functions["DispatchFunction"].timeout_seconds == 60
    assert stack.functions["DlqHandlerFunction"].timeout_seconds == 30
    assert stack.functions["IngestFunction"].http_api_routes == ("ANY /v1/{proxy+}",)
    assert stack.functions["IngestFunction"].http_api_payload_format_version == "2.0"
    assert stack.functions["IngestFunction"].event_sources == ()


def test_environment_names_real_resources(stack: DeployedStack) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    sns = boto3.client("sns", region_name=REGION)
    secrets = boto3.client("secretsmanager", region_name=REGION)
    ingest = stack.functions["IngestFunction"].environment
    dispatch = stack.functions["DispatchFunction"].environment
    dlq_handler = stack.functions["DlqHandlerFunction"].environment

    for env in (ingest, dispatch, dlq_handler):
        assert env["TABLE_NAME"] == stack.outputs["TableName"]
        assert env["ALERTS_TOPIC_ARN"] == stack.outputs["AlertsTopicArn"]
        assert env["POWERTOOLS_SERVICE_NAME"] == "hookline"
        assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"
        assert env["ALLOW_HTTP"] == "false"
        assert env["ALLOWED_PRIVATE_CIDRS"] == ""

    table = dynamodb.describe_table(TableName=ingest["TABLE_NAME"])["Table"]
    assert {key["AttributeName"] for key in table["KeySchema"]} == {"pk", "sk"}
    assert not table.get("GlobalSecondaryIndexes")
    ttl = dynamodb.describe_time_to_live(TableName=ingest["TABLE_NAME"])["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"

    assert ingest["DELIVERY_QUEUE_URL"] == dispatch["DELIVERY_QUEUE_URL"] == stack.outputs["DeliveryQueueUrl"]
    assert dispatch["DEAD_LETTER_QUEUE_URL"] == stack.outputs["DeadLetterQueueUrl"]
    delivery = sqs.get_queue_attributes(QueueUrl=dispatch["DELIVERY_QUEUE_URL"], AttributeNames=["All"])[
        "Attributes"
    ]
    dead = sqs.get_queue_attributes(QueueUrl=dispatch["DEAD_LETTER_QUEUE_URL"], AttributeNames=["All"])[
        "Attributes"
    ]
    assert json.loads(delivery["RedrivePolicy"])["deadLetterTargetArn"] == dead["QueueArn"]
    assert delivery["VisibilityTimeout"] == "360"
    assert dead["VisibilityTimeout"] == "180"

    topic = sns.get_topic_attributes(TopicArn=ingest["ALERTS_TOPIC_ARN"])["Attributes"]
    assert topic["TopicArn"] == ingest["ALERTS_TOPIC_ARN"]

    secret_arn = ingest["ADMIN_API_KEY_SECRET_ARN"]
    assert secret_arn == stack.outputs["AdminApiKeySecretArn"]
    key = secrets.get_secret_value(SecretId=secret_arn)["SecretString"]
    assert re.fullmatch(r"[A-Za-z0-9]{48}", key)
    keys_arn = ingest["ENCRYPTION_KEYS_SECRET_ARN"]
    assert keys_arn == dispatch["ENCRYPTION_KEYS_SECRET_ARN"] == dlq_handler["ENCRYPTION_KEYS_SECRET_ARN"]
    assert re.fullmatch(r"[A-Za-z0-9]{64}", secrets.get_secret_value(SecretId=keys_arn)["SecretString"])

    assert dispatch["RETRY_SCHEDULE"] == DEFAULT_SCHEDULE
    assert dispatch["DELIVERY_TIMEOUT_SECONDS"] == "15"
    assert ingest["MAX_PAYLOAD_BYTES"] == "262144"


def test_event_sources_poll_the_queues_the_functions_are_told_about(stack: DeployedStack) -> None:
    dispatch = stack.functions["DispatchFunction"]
    deliveries, ordered = dispatch.event_sources
    assert ordered.queue_url == dispatch.environment["ORDERED_QUEUE_URL"]
    assert ordered.queue_url.endswith(".fifo") and ordered.maximum_concurrency == 10
    assert deliveries.queue_url == dispatch.environment["DELIVERY_QUEUE_URL"]
    assert deliveries.batch_size == 10
    assert deliveries.batching_window_seconds == 0
    assert deliveries.report_batch_item_failures is True
    assert deliveries.maximum_concurrency == 10
    assert deliveries.enabled is True
    dead_letters, ordered_dead_letters = stack.functions["DlqHandlerFunction"].event_sources
    assert ordered_dead_letters.queue_url.endswith("-ordered-dlq.fifo")
    assert dead_letters.queue_url == dispatch.environment["DEAD_LETTER_QUEUE_URL"]
    assert dead_letters.batch_size == 10
    assert dead_letters.report_batch_item_failures is True
    assert dead_letters.maximum_concurrency is None


def test_event_source_mappings_are_disabled_in_moto(stack: DeployedStack) -> None:
    # An enabled mapping would make moto invoke the function itself (in Docker) on every SendMessage.
    mappings = boto3.client("lambda", region_name=REGION).list_event_source_mappings()["EventSourceMappings"]
    ours = {m["UUID"] for m in mappings} & set(stack.resources.values())
    assert len(ours) == 4
    assert all(m["State"] == "Disabled" for m in mappings if m["UUID"] in ours)


def test_the_deployed_queue_keeps_the_templates_redrive_bound(stack: DeployedStack) -> None:
    assert stack.parameters["RetrySchedule"] == DEFAULT_SCHEDULE
    assert max_receive_count(stack) == 30


@pytest.mark.parametrize("schedule", ["0,1,2,3", "5", ",".join(["1"] * 12)])
def test_the_retry_schedule_reaches_every_function(aws: None, schedule: str) -> None:
    stack = deploy(f"hookline-schedule-{len(schedule)}", {"RetrySchedule": schedule})
    for function in stack.functions.values():
        assert function.environment["RETRY_SCHEDULE"] == schedule


def test_parameter_overrides_reach_environment_and_event_sources(aws: None) -> None:
    stack = deploy(
        "hookline-overrides",
        parse_parameter_overrides(
            "AllowHttp=true AllowedPrivateCidrs=127.0.0.0/8,10.0.0.0/8 LogLevel=DEBUG "
            "DispatchMaximumConcurrency=5 DispatchBatchingWindowSeconds=2 DeliveryTimeoutSeconds=3"
        ),
    )
    dispatch = stack.functions["DispatchFunction"]
    assert dispatch.environment["ALLOW_HTTP"] == "true"
    assert dispatch.environment["ALLOWED_PRIVATE_CIDRS"] == "127.0.0.0/8,10.0.0.0/8"
    assert dispatch.environment["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert dispatch.environment["DELIVERY_TIMEOUT_SECONDS"] == "3"
    deliveries, _ = dispatch.event_sources
    assert deliveries.maximum_concurrency == 5
    assert deliveries.batching_window_seconds == 2


def test_the_endpoint_override_reaches_every_function_only_when_set(aws: None) -> None:
    default = deploy("hookline-no-url")
    assert all("AWS_ENDPOINT_URL" not in spec.environment for spec in default.functions.values())
    url = "http://172.17.0.1:4566"
    overridden = deploy("hookline-url", {"AwsEndpointUrl": url})
    assert {spec.environment["AWS_ENDPOINT_URL"] for spec in overridden.functions.values()} == {url}


@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_the_architecture_parameter_sets_functions_and_layer(architecture: str) -> None:
    rendered = render_template(TEMPLATE_PATH, REGION, {"Architecture": architecture}).template
    functions = resources_of(rendered, "AWS::Lambda::Function")
    assert len(functions) == 3
    for function in functions.values():
        assert function["Properties"]["Architectures"] == [{"Ref": "Architecture"}]
    (layer,) = resources_of(rendered, "AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleArchitectures"] == [{"Ref": "Architecture"}]
    assert validate_parameters(rendered, {"Architecture": architecture})["Architecture"] == architecture
    with pytest.raises(ValueError, match="Architecture"):
        validate_parameters(rendered, {"Architecture": "ppc64"})


def test_xray_active_tracing_is_off_unless_the_parameter_turns_it_on() -> None:
    rendered = render_template(TEMPLATE_PATH, REGION).template
    functions = resources_of(rendered, "AWS::Lambda::Function")
    assert len(functions) == 3
    for function in functions.values():
        mode = function["Properties"]["TracingConfig"]["Mode"]
        assert mode == {"Fn::If": ["XRayTracing", "Active", "PassThrough"]}
    assert rendered["Conditions"]["XRayTracing"] == {"Fn::Equals": [{"Ref": "EnableXRayTracing"}, "true"]}
    assert validate_parameters(rendered, {})["EnableXRayTracing"] == "false"


def test_a_template_change_reaches_the_local_stack_with_no_other_file_changed(aws: None) -> None:
    """The local stack reads functions, environments and event sources from the deployed template, so an
    edit to template.yaml (a new variable, a batch size) is all it takes."""
    text = TEMPLATE_PATH.read_text()
    edited = text.replace(
        "          MAX_CONCURRENT_DELIVERIES:",
        '          HOOKLINE_DRIFT_CHECK: "checked"\n          MAX_CONCURRENT_DELIVERIES:',
        1,
    ).replace(
        "            BatchSize: 10\n            MaximumBatchingWindowInSeconds",
        "            BatchSize: 7\n            MaximumBatchingWindowInSeconds",
        1,
    )
    assert edited.count("HOOKLINE_DRIFT_CHECK") == 1 and "BatchSize: 7" in edited
    # Beside the original, so the template's relative CodeUri/ContentUri paths still resolve.
    copy = TEMPLATE_PATH.with_name(".template-drift-check.yaml")
    copy.write_text(edited)
    try:
        stack = deploy_stack(boto3.session.Session(region_name=REGION), copy, "drift-check", {})
    finally:
        copy.unlink()
    dispatch = stack.functions["DispatchFunction"]
    assert dispatch.environment["HOOKLINE_DRIFT_CHECK"] == "checked"
    assert "HOOKLINE_DRIFT_CHECK" not in stack.functions["IngestFunction"].environment
    assert [source.batch_size for source in dispatch.event_sources] == [7, 10]
