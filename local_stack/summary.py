"""What the running local stack tells the outside: the state file's document (for scripts) and the
start-up banner (for a person)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from local_stack.aws_faults import CONTROL_PATH as FAULTS_CONTROL_PATH

if TYPE_CHECKING:
    from local_stack.stack import LocalStack


def state_document(stack: LocalStack) -> dict[str, Any]:
    deployed = stack.deployed
    assert deployed is not None
    outputs = dict(deployed.outputs)
    outputs["ApiUrl"] = stack.api_url  # the local API Gateway (the template's output names AWS's)
    return {
        "pid": os.getpid(),
        "api_url": stack.api_url,
        "api_key": stack.api_key,
        "aws_endpoint_url": stack.moto.url,
        # sam local: the --env-vars file and moto's address as its containers see it.
        "sam_env_json": str(stack.env_json_written) if stack.env_json_written is not None else None,
        "container_aws_endpoint_url": stack.container_aws_endpoint_url if stack.env_json_written else None,
        "pollers": stack.options.pollers,
        # moto checks every call against its caller's IAM policies; each function runs as its own role.
        "iam_enforced": stack.options.enforce_iam,
        # Chaos runs: the functions' endpoint (faults injected there), the fault counters, the
        # control server (GET /workers, GET /crashes) and the crash log (JSON lines).
        "aws_function_endpoint_url": stack.moto.function_url,
        "aws_faults_url": None if stack.moto.fault_port is None else stack.moto.url + FAULTS_CONTROL_PATH,
        "control_url": stack.control.url if stack.control is not None else "",
        "crash_log": str(stack.crash_log.path) if stack.crash_log.path is not None else None,
        "region": deployed.region,
        "stack_name": deployed.stack_name,
        "outputs": outputs,
        "parameters": deployed.parameters,
        "resources": deployed.resources,
        "functions": {
            logical_id: {
                "label": stack.labels[logical_id],
                "function_name": spec.function_name,
                "handler": spec.handler,
                "timeout_seconds": spec.timeout_seconds,
                "workers": stack.pools[logical_id].max_workers,
                "http_api_routes": list(spec.http_api_routes),
                "event_sources": [
                    {
                        "queue_url": source.queue_url,
                        "batch_size": source.batch_size,
                        "batching_window_seconds": source.batching_window_seconds,
                        "report_batch_item_failures": source.report_batch_item_failures,
                        "maximum_concurrency": source.maximum_concurrency,
                    }
                    for source in spec.event_sources
                ],
            }
            for logical_id, spec in deployed.functions.items()
        },
        "started_in_seconds": round(stack.started_in, 3),
    }


def render_banner(stack: LocalStack) -> str:
    deployed = stack.deployed
    assert deployed is not None
    moto = stack.moto.url
    region = deployed.region
    enforced = stack.options.enforce_iam
    credentials = "IAM enforced: keys testing/testing" if enforced else "any credentials"
    cli_keys = "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing " if enforced else ""
    roles = " and its role's credentials" if enforced else ""
    lines = [
        "",
        f"Hookline local stack (template {stack.options.template}, stack {deployed.stack_name})",
        "",
        f"  API URL        {stack.api_url}    (requests go to {stack.api_url}/v1/...)",
        f"  API key        {stack.api_key}",
        f"                 send it as: Authorization: Bearer {stack.api_key}",
        f"  AWS endpoint   {moto}    (moto; region {region}; {credentials})",
        f"                 {cli_keys}aws --endpoint-url {moto} --region {region} sqs list-queues",
        f'                 boto3.client("sqs", endpoint_url="{moto}", region_name="{region}",',
        '                              aws_access_key_id="testing", aws_secret_access_key="testing")',
        "",
        f"  Functions (each in its own worker processes, with only its template environment{roles}):",
    ]
    for logical_id, spec in sorted(deployed.functions.items()):
        pool = stack.pools[logical_id]
        triggers = [f"HTTP API {route}" for route in spec.http_api_routes]
        for source in spec.event_sources:
            details = [f"batch {source.batch_size}"]
            if source.batching_window_seconds:
                details.append(f"window {source.batching_window_seconds} s")
            if source.report_batch_item_failures:
                details.append("ReportBatchItemFailures")
            if not stack.options.pollers:
                details.append("not polled: --no-pollers")
            triggers.append(f"SQS {_queue_name(source.queue_arn)} ({', '.join(details)})")
        lines.append(
            f"    {stack.labels[logical_id]:<12} {spec.handler}, timeout {spec.timeout_seconds} s, "
            f"up to {pool.max_workers} worker(s) <- {'; '.join(triggers) or 'no trigger'}"
        )
    interesting = ("RetrySchedule", "AllowHttp", "AllowedPrivateCidrs", "MaxPayloadBytes")
    shown = ", ".join(
        f"{key}={deployed.parameters[key]!r}" for key in interesting if key in deployed.parameters
    )
    lines += ["", f"  Parameters     {shown}"]
    if stack.moto.fault_port is not None:
        lines.append(
            f"  AWS faults     {stack.options.aws_fault_rate} of the functions' AWS calls "
            f"(counts: {stack.moto.url}{FAULTS_CONTROL_PATH})"
        )
    if stack.options.crashed_batch_visibility_seconds is not None:
        lines.append(
            f"  Crashed batch  records back after {stack.options.crashed_batch_visibility_seconds} s "
            "(local-only shortcut)"
        )
    for key in ("AlertsTopicArn", "DeliveryQueueUrl", "DeadLetterQueueUrl", "TableName"):
        if key in deployed.outputs:
            lines.append(f"  {key:<14} {deployed.outputs[key]}")
    if stack.env_json_written is not None:
        lines.append(f"  sam local      --env-vars {stack.env_json_written}")
        lines.append(f"                 (containers: AWS_ENDPOINT_URL={stack.container_aws_endpoint_url})")
    if stack.written_state_file is not None:
        lines.append(f"  State file     {stack.written_state_file}  (all of the above as JSON)")
    lines += ["", f"Ready in {stack.started_in:.1f} s. Press Ctrl-C to stop.", ""]
    return "\n".join(lines)


def _queue_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]
