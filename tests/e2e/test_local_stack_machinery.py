"""The local stack's own machinery, without a stack: how it plays API Gateway, Lambda's SQS event
source mapping and the Lambda runtime. Fast (well under a second each); throwaway handlers live in
``tmp_path``.
"""

from __future__ import annotations

import base64
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_stack.apigw import BadIntegrationResponse, Route, Router, build_event, translate_response
from local_stack.runtime import FunctionConfig, FunctionPool, Invocation
from local_stack.sqs_poller import failed_message_ids, lambda_record

# --------------------------------------------------------------------------------------------- API Gateway


def _event(method: str = "POST", target: str = "/v1/tenants/t1/events?a=1&a=2&b=", **kwargs: object) -> dict:
    route = Route.parse("ANY /v1/{proxy+}")
    defaults: dict = {
        "headers": [
            ("Content-Type", "application/json"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Cookie", "a=1; b=2"),
            ("User-Agent", "pytest"),
        ],
        "body": b'{"type":"x"}',
        "route": route,
        "path_parameters": route.match(method, target.split("?", maxsplit=1)[0]) or {},
        "source_ip": "127.0.0.1",
        "protocol": "HTTP/1.1",
        "domain_name": "127.0.0.1",
        "account_id": "123456789012",
        "api_id": "abc123",
        "request_id": "req-1",
        "now": 1_700_000_000.5,
    }
    defaults.update(kwargs)
    return build_event(method=method, target=target, **defaults)  # type: ignore[arg-type]


def test_the_event_has_http_api_payload_format_2() -> None:
    event = _event()

    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /v1/{proxy+}"
    assert event["rawPath"] == "/v1/tenants/t1/events"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["pathParameters"] == {"proxy": "tenants/t1/events"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["content-type"] == "application/json"
    assert event["headers"]["x-multi"] == "one,two"
    assert "cookie" not in event["headers"]
    assert event["body"] == '{"type":"x"}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": "/v1/tenants/t1/events",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "pytest",
    }
    assert context["stage"] == "$default"
    assert context["requestId"] == "req-1"
    assert context["timeEpoch"] == 1_700_000_000_500
    assert context["time"] == "14/Nov/2023:22:13:20 +0000"


def test_a_binary_body_is_base64_encoded_and_an_empty_one_left_out() -> None:
    binary = _event(headers=[("Content-Type", "application/octet-stream")], body=b"\x00\xff")
    empty = _event(method="GET", target="/v1/tenants/t1", body=b"")

    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x00\xff"
    assert "body" not in empty
    assert "queryStringParameters" not in empty


def test_routes_match_like_api_gateway() -> None:
    router = Router([("ANY /v1/{proxy+}", _no_invoke), ("GET /health", _no_invoke)])

    assert router.match("GET", "/health") is not None
    assert router.match("DELETE", "/v1/a/b")[1] == {"proxy": "a/b"}  # type: ignore[index]
    assert router.match("GET", "/v1") is None  # a greedy variable needs at least one character
    assert router.match("GET", "/v2/x") is None


def _no_invoke(event: dict) -> Invocation:
    raise AssertionError("not invoked")


def test_integration_responses_translate_like_http_api() -> None:
    assert translate_response({"ok": True}) == (200, [("content-type", "application/json")], b'{"ok": true}')
    status, headers, body = translate_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain"},
            "cookies": ["s=1"],
            "body": base64.b64encode(b"hi").decode(),
            "isBase64Encoded": True,
        }
    )
    assert (status, body) == (201, b"hi")
    assert ("set-cookie", "s=1") in headers
    with pytest.raises(BadIntegrationResponse):
        translate_response({"statusCode": "abc"})


# --------------------------------------------------------------------------------------------- SQS mapping


def _invocation(ok: bool, payload: object = None) -> Invocation:
    return Invocation("r", ok, payload=payload, error=None if ok else {"errorType": "X"})


@pytest.mark.parametrize(
    ("invocation", "report", "returned"),
    [
        (_invocation(True, {"batchItemFailures": [{"itemIdentifier": "b"}]}), True, {"b"}),
        (_invocation(True, {"batchItemFailures": []}), True, set()),
        (_invocation(True, None), True, set()),
        (_invocation(True, {"batchItemFailures": [{"itemIdentifier": "zzz"}]}), True, {"a", "b"}),
        (_invocation(True, {"batchItemFailures": [{"itemIdentifier": ""}]}), True, {"a", "b"}),
        (_invocation(True, {"batchItemFailures": [{"itemIdentifier": "b"}]}), False, set()),
        (_invocation(False), True, {"a", "b"}),
        (_invocation(False), False, {"a", "b"}),
    ],
)
def test_which_records_go_back_to_the_queue(invocation: Invocation, report: bool, returned: set[str]) -> None:
    assert failed_message_ids(invocation, ["a", "b"], report) == returned


def test_a_record_has_lambdas_sqs_event_shape() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "Body": "{}",
        "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "SenderId": "S", "Other": "x"},
        "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
    }

    record = lambda_record(message, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")  # type: ignore[arg-type]

    assert record == {
        "messageId": "m1",
        "receiptHandle": "rh",
        "body": "{}",
        "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "SenderId": "S"},
        "messageAttributes": {
            "k": {"stringValue": "v", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
        },
        "md5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
        "awsRegion": "us-east-1",
    }


# --------------------------------------------------------------------------------------------- runtime


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[FunctionPool]:
    code = tmp_path / "fn"
    layer = tmp_path / "layer"
    (layer / "shared").mkdir(parents=True)
    code.mkdir()
    (layer / "shared" / "__init__.py").write_text("NAME = 'from the layer'\n")
    (code / "app.py").write_text(
        textwrap.dedent(
            """
            import os, sys, time
            import shared

            def handler(event, context):
                if event.get("sleep"):
                    time.sleep(event["sleep"])
                if event.get("crash"):
                    os._exit(3)
                if event.get("raise"):
                    raise ValueError("boom")
                return {
                    "layer": shared.NAME,
                    "env": sorted(os.environ),
                    "remaining_ms": context.get_remaining_time_in_millis(),
                    "function_name": context.function_name,
                    "request_id": context.aws_request_id,
                    "pid": os.getpid(),
                }
            """
        )
    )
    config = FunctionConfig(
        label="fn",
        function_name="stack-Fn-1",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:stack-Fn-1",
        handler="app.handler",
        code_dir=code,
        layer_dirs=(layer,),
        timeout_seconds=1.0,
        memory_mb=256,
        environment={"TABLE_NAME": "t"},
        region="us-east-1",
        endpoint_url="http://127.0.0.1:9",
    )
    created = FunctionPool(config, max_workers=1, log_sink=lambda label, stream, line: None)
    yield created
    created.close()


def test_a_worker_sees_only_its_functions_environment_and_a_lambda_context(pool: FunctionPool) -> None:
    result = pool.invoke({})

    assert result.ok, result.error
    payload = result.payload
    assert payload["layer"] == "from the layer"
    assert payload["function_name"] == "stack-Fn-1"
    assert 0 < payload["remaining_ms"] <= 1000
    assert "TABLE_NAME" in payload["env"]
    assert "AWS_ENDPOINT_URL" in payload["env"]
    assert "HOOKLINE_API_KEY" not in payload["env"]
    assert not [name for name in payload["env"] if name.startswith(("PYTEST", "VIRTUAL_ENV"))]
    assert json.dumps(payload)


def test_errors_timeouts_and_crashes_fail_the_invocation_and_replace_the_worker(pool: FunctionPool) -> None:
    first = pool.invoke({})
    raised = pool.invoke({"raise": True})
    warm = pool.invoke({})
    timed_out = pool.invoke({"sleep": 3})
    after_timeout = pool.invoke({})
    crashed = pool.invoke({"crash": True})
    after_crash = pool.invoke({})

    assert raised.error_type == "ValueError"
    assert warm.payload["pid"] == first.payload["pid"]  # an error keeps the worker
    assert timed_out.error_type == "Sandbox.Timedout"
    assert after_timeout.ok and after_timeout.payload["pid"] != first.payload["pid"]
    assert crashed.error_type == "Runtime.ExitError"
    assert after_crash.ok and after_crash.payload["pid"] != after_timeout.payload["pid"]
