"""Deploy template.yaml into moto, and read back everything a local run needs.

The SAM template is the single source of truth. ``render_template`` turns it into plain CloudFormation
with aws-sam-translator (the same transform CloudFormation runs), ``deploy_stack`` creates that stack in
moto (in-process under ``moto.mock_aws`` or on a moto server, depending on the clients it is given), and
the returned ``DeployedStack`` describes each function (handler, code and layer directories, timeout,
environment with ``Ref``/``GetAtt`` resolved by moto, SQS event sources, HTTP API routes) from moto's own
describe/list APIs. Nothing about queues, tables, handlers or event sources is written here.

moto quirks this module absorbs (moto 5.2.5):
- SAM needs ``CodeUri``/``ContentUri`` to be S3 locations after packaging. Local directories are replaced
  with ``s3://<artifact bucket>/<LogicalId>.zip``, and a placeholder zip is uploaded there (moto's Lambda
  checks the object exists). The real directories are kept for ``FunctionSpec``.
- An *enabled* SQS event source mapping makes moto invoke the function (in Docker) on every SendMessage
  and consume the messages. Event source mappings are therefore created disabled; ``EventSource.enabled``
  keeps the template's intent, and the local stack's pollers play the mapping.
- moto's CloudFormation has no ``AWS::SecretsManager::Secret``: such secrets are created through the
  Secrets Manager API first (honouring ``GenerateSecretString``), and every ``Ref`` to them is replaced by
  the secret's ARN (otherwise moto silently drops the environment variables that reference them).
- moto's CloudFormation skips ``AWS::ApiGatewayV2::*`` and ``AWS::CloudWatch::Alarm`` (with a warning);
  outputs that reference a skipped resource stay unresolved and are left out of ``DeployedStack.outputs``.
- moto's CloudFormation skips ``AWS::Scheduler::ScheduleGroup`` too: such groups are created through the
  Scheduler API afterwards, under the name the template gives them (the functions name them the same way).
- moto's CloudFormation drops a function's ``Layers`` and ``Architectures``: layer directories come from
  the rendered template. ``Number`` parameters come back as JSON numbers in environments: they are
  returned as strings, as Lambda would pass them.
- moto's CloudFormation ignores a table's ``TimeToLiveSpecification``: it is applied afterwards with
  UpdateTimeToLive (moto never expires items anyway, but DescribeTimeToLive then matches the template).
- moto does not check parameter constraints: ``deploy_stack`` validates ``AllowedValues``,
  ``AllowedPattern`` and ``MinValue``/``MaxValue`` itself, as CloudFormation would.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
import logging
import re
import shlex
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import boto3

__all__ = [
    "ClientFactory",
    "DeployedStack",
    "EventSource",
    "FunctionSpec",
    "RenderedTemplate",
    "client_factory",
    "deploy_stack",
    "parse_parameter_overrides",
    "render_template",
    "validate_parameters",
]

ClientFactory = Callable[[str], Any]
"""Makes a boto3 client for a service name, e.g. ``lambda name: session.client(name)``."""

ARTIFACT_KEY_SUFFIX = ".zip"
_SECRET_TYPE = "AWS::SecretsManager::Secret"  # noqa: S105 (a resource type)
_FUNCTION_TYPE = "AWS::Lambda::Function"
_LAYER_TYPE = "AWS::Lambda::LayerVersion"
_ESM_TYPE = "AWS::Lambda::EventSourceMapping"
_SAM_FUNCTION_TYPE = "AWS::Serverless::Function"
_SAM_LAYER_TYPE = "AWS::Serverless::LayerVersion"
_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_ANY_METHOD = "x-amazon-apigateway-any-method"
_INTEGRATION = "x-amazon-apigateway-integration"
_FUNCTION_IN_URI = re.compile(r"\$\{([A-Za-z0-9]+)\.Arn\}")
# Managed policies the SAM translator may be asked to resolve by name (it adds the ones it needs by ARN).
_MANAGED_POLICIES = (
    "AWSLambdaBasicExecutionRole",
    "AWSLambdaSQSQueueExecutionRole",
    "AWSLambdaDynamoDBExecutionRole",
    "AWSLambdaKinesisExecutionRole",
    "AWSLambdaVPCAccessExecutionRole",
    "AWSXRayDaemonWriteAccess",
)


# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class EventSource:
    """An SQS event source mapping of a function, as Lambda would poll it."""

    logical_id: str
    queue_arn: str
    queue_url: str
    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool
    maximum_concurrency: int | None
    enabled: bool = True  # what the template asks for (moto's copy is always created disabled)


@dataclass(frozen=True)
class FunctionSpec:
    """One deployed function: how to run its handler locally, exactly as the template configures it."""

    logical_id: str
    function_name: str  # moto's physical name, e.g. "hookline-IngestFunction-ABC123"
    function_arn: str
    code_dir: Path  # the template's CodeUri, absolute
    handler: str  # e.g. "app.lambda_handler" (module path relative to code_dir)
    runtime: str
    timeout_seconds: int
    memory_mb: int
    layer_dirs: tuple[Path, ...]  # each layer's ContentUri, absolute (what /opt/python holds on Lambda)
    environment: dict[str, str]  # Globals + the function's own variables, resolved by moto
    event_sources: tuple[EventSource, ...]
    http_api_routes: tuple[str, ...]  # route keys such as "ANY /v1/{proxy+}"
    http_api_payload_format_version: str | None  # "2.0" (HTTP API), "1.0" (REST API); None: no routes
    role_arn: str = ""  # the execution role moto created for it (what its code runs as locally)


@dataclass(frozen=True)
class DeployedStack:
    stack_name: str
    stack_id: str
    region: str
    account_id: str
    outputs: dict[str, str]  # only fully resolved values (see module docstring)
    parameters: dict[str, str]  # every template parameter, defaults included
    resources: dict[str, str]  # logical id -> physical id, for what moto created (plus pre-created secrets)
    resource_types: dict[str, str]  # logical id -> CloudFormation type, same keys as resources
    functions: dict[str, FunctionSpec]  # by logical id
    template: dict[str, Any]  # the rendered CloudFormation (as sent to moto, before moto-specific edits)


@dataclass(frozen=True)
class RenderedTemplate:
    """A SAM template transformed into plain CloudFormation.

    Local ``CodeUri``/``ContentUri`` directories are replaced by ``s3://{artifact_bucket}/{key}``;
    ``artifacts`` maps each such S3 key back to the local directory."""

    template: dict[str, Any]
    artifact_bucket: str
    artifacts: dict[str, Path]

    def code_dir(self, code: Mapping[str, Any]) -> Path | None:
        """The local directory behind a rendered ``Code``/``Content`` property, if it was local."""
        if code.get("S3Bucket") == self.artifact_bucket:
            return self.artifacts.get(str(code.get("S3Key")))
        return None


# --------------------------------------------------------------------------------------------- rendering


class _ManagedPolicyLoader:
    def __init__(self, partition: str) -> None:
        self._partition = partition

    def load(self) -> dict[str, str]:
        prefix = f"arn:{self._partition}:iam::aws:policy"
        arns = {name: f"{prefix}/service-role/{name}" for name in _MANAGED_POLICIES}
        arns["AWSXRayDaemonWriteAccess"] = f"{prefix}/AWSXRayDaemonWriteAccess"
        return arns


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _load_sam_template(template_path: Path) -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    loaded = yaml_parse(template_path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict) or not isinstance(loaded.get("Resources"), dict):
        raise ValueError(f"{template_path} is not a CloudFormation/SAM template (no Resources)")
    return cast(dict[str, Any], loaded)


def _localise_code(template: dict[str, Any], base_dir: Path, bucket: str) -> dict[str, Path]:
    """Point every local CodeUri/ContentUri at the artifact bucket; return S3 key -> local directory."""
    artifacts: dict[str, Path] = {}
    function_globals = template.get("Globals", {}).get("Function", {})
    global_code_uri = function_globals.get("CodeUri") if isinstance(function_globals, dict) else None
    for logical_id, resource in template["Resources"].items():
        kind = resource.get("Type")
        if kind not in {_SAM_FUNCTION_TYPE, _SAM_LAYER_TYPE}:
            continue
        properties = resource.setdefault("Properties", {})
        prop = "CodeUri" if kind == _SAM_FUNCTION_TYPE else "ContentUri"
        uri = properties.get(prop, global_code_uri if kind == _SAM_FUNCTION_TYPE else None)
        if kind == _SAM_FUNCTION_TYPE and "InlineCode" in properties:
            raise ValueError(f"{logical_id}: InlineCode cannot run locally; use CodeUri with a directory")
        if not isinstance(uri, str) or uri.startswith("s3://"):
            raise ValueError(f"{logical_id}: {prop} must be a local directory to run locally, got {uri!r}")
        local_dir = (base_dir / uri).resolve()
        if not local_dir.is_dir():
            raise ValueError(f"{logical_id}: {prop} {uri!r} is not a directory under {base_dir}")
        key = f"{logical_id}{ARTIFACT_KEY_SUFFIX}"
        properties[prop] = f"s3://{bucket}/{key}"
        artifacts[key] = local_dir
    return artifacts


def render_template(
    template_path: Path,
    region: str = "us-east-1",
    parameter_overrides: Mapping[str, str] | None = None,
    artifact_bucket: str = "hookline-local-artifacts",
) -> RenderedTemplate:
    """Transform a SAM template into plain CloudFormation, as CloudFormation's SAM transform would.

    ``parameter_overrides`` are handed to the translator (it resolves a few properties itself);
    CloudFormation still receives them as stack parameters. The same file (path, size and modification
    time) with the same arguments is transformed once per process: the integration tests deploy the
    template for every test, and parsing and transforming it is a third of a deploy."""
    template_path = Path(template_path).resolve()
    stat = template_path.stat()
    rendered = _render_once(
        template_path,
        (stat.st_mtime_ns, stat.st_size),
        region,
        tuple(sorted((parameter_overrides or {}).items())),
        artifact_bucket,
    )
    return RenderedTemplate(
        copy.deepcopy(rendered.template), rendered.artifact_bucket, dict(rendered.artifacts)
    )


@functools.lru_cache(maxsize=16)
def _render_once(
    template_path: Path,
    version: tuple[int, int],  # part of the cache key only: a changed file is rendered again
    region: str,
    parameter_overrides: tuple[tuple[str, str], ...],
    artifact_bucket: str,
) -> RenderedTemplate:
    from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import (
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    sam_template = _load_sam_template(template_path)
    artifacts = _localise_code(sam_template, template_path.parent, artifact_bucket)
    parameter_values: dict[str, Any] = dict(parameter_overrides)
    to_py27_compatible_template(sam_template, parameter_values)
    loader = _ManagedPolicyLoader(_partition(region))
    # The translator records usage metrics and warns at garbage collection if nobody published them.
    metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
    translator = Translator(
        None, Parser(), boto_session=boto3.session.Session(region_name=region), metrics=metrics
    )
    saved_region = ArnGenerator.BOTO_SESSION_REGION_NAME
    ArnGenerator.BOTO_SESSION_REGION_NAME = region
    try:
        transformed = translator.translate(
            sam_template, parameter_values=parameter_values, get_managed_policy_map=loader.load
        )
    except InvalidDocumentException as exc:
        details = "\n  ".join(str(cause.message) for cause in exc.causes)
        raise ValueError(f"{template_path} is not a valid SAM template:\n  {details}") from exc
    finally:
        ArnGenerator.BOTO_SESSION_REGION_NAME = saved_region
        metrics.publish()
    plain = cast(dict[str, Any], undo_mark_unicode_str_in_template(transformed))
    return RenderedTemplate(template=plain, artifact_bucket=artifact_bucket, artifacts=artifacts)


# --------------------------------------------------------------------------------------------- parameters


def parse_parameter_overrides(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """Parse ``sam deploy --parameter-overrides`` syntax into a dict.

    Accepts ``Key=Value Key2="value with spaces"`` and the CloudFormation form
    ``ParameterKey=Key,ParameterValue=Value`` (values may contain commas, e.g. ``RetrySchedule=1,2,3``),
    mixed freely. A mapping is returned as a plain ``dict[str, str]``."""
    if text is None:
        return {}
    if isinstance(text, Mapping):
        return {str(key): str(value) for key, value in text.items()}
    overrides: dict[str, str] = {}
    for token in shlex.split(text):
        if token.startswith("ParameterKey="):
            match = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", token, flags=re.DOTALL)
            if not match:
                raise ValueError(f"expected ParameterKey=<key>,ParameterValue=<value>, got {token!r}")
            key, value = match.group(1), match.group(2)
        else:
            key, sep, value = token.partition("=")
            if not sep or not key:
                raise ValueError(f"expected Key=Value, got {token!r}")
        if not re.fullmatch(r"[A-Za-z0-9]+", key):
            raise ValueError(f"invalid parameter name {key!r}")
        overrides[key] = value
    return overrides


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a number") from exc


def validate_parameters(template: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, str]:
    """Check overrides against the template's Parameters as CloudFormation does; return every
    parameter's effective value (overrides over defaults). Raises ``ValueError`` listing every problem."""
    declared: dict[str, Any] = dict(template.get("Parameters") or {})
    problems = [f"{name}: no such parameter in the template" for name in values if name not in declared]
    effective: dict[str, str] = {}
    for name, spec in declared.items():
        if name in values:
            value = str(values[name])
        elif "Default" in spec:
            value = str(spec["Default"])
        else:
            problems.append(f"{name}: no value and no default")
            continue
        effective[name] = value
        allowed = spec.get("AllowedValues")
        if allowed is not None and value not in {str(item) for item in allowed}:
            problems.append(f"{name}: {value!r} is not one of {[str(item) for item in allowed]}")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(str(pattern), value):
            hint = spec.get("ConstraintDescription", f"expected {pattern!r}")
            problems.append(f"{name}: {value!r} is not allowed: {hint}")
        if spec.get("Type") == "Number":
            try:
                number = _number(value)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
                continue
            if "MinValue" in spec and number < float(spec["MinValue"]):
                problems.append(f"{name}: {value} is below MinValue {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                problems.append(f"{name}: {value} is above MaxValue {spec['MaxValue']}")
    if problems:
        raise ValueError("invalid template parameters:\n  " + "\n  ".join(problems))
    return effective


# --------------------------------------------------------------------------------------------- clients


def client_factory(
    source: boto3.session.Session | ClientFactory | None = None,
    *,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
) -> ClientFactory:
    """Clients for ``deploy_stack``.

    - ``client_factory(endpoint_url="http://127.0.0.1:5000")``: a moto server (dummy credentials);
    - ``client_factory(session)``: a boto3 session (under ``mock_aws`` for in-process moto);
    - a callable is returned unchanged."""
    if callable(source):
        return source
    session = source or boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (moto's dummy credentials)
        region_name=region,
    )
    cache: dict[str, Any] = {}

    def make(service: str) -> Any:
        if service not in cache:
            cache[service] = session.client(
                service,  # type: ignore[call-overload]
                region_name=session.region_name or region,
                endpoint_url=endpoint_url,
            )
        return cache[service]

    return make


# --------------------------------------------------------------------------------------------- moto edits


def _walk_replace_ref(node: Any, logical_id: str, value: str) -> Any:
    """Replace ``{"Ref": logical_id}`` and ``${logical_id}`` inside Fn::Sub strings with ``value``."""
    if isinstance(node, dict):
        if node == {"Ref": logical_id}:
            return value
        if "Fn::Sub" in node and len(node) == 1:
            sub = node["Fn::Sub"]
            token = "${" + logical_id + "}"
            if isinstance(sub, str):
                return {"Fn::Sub": sub.replace(token, value)}
            if isinstance(sub, list) and sub and isinstance(sub[0], str):
                rest = [_walk_replace_ref(item, logical_id, value) for item in sub[1:]]
                return {"Fn::Sub": [sub[0].replace(token, value), *rest]}
        return {key: _walk_replace_ref(item, logical_id, value) for key, item in node.items()}
    if isinstance(node, list):
        return [_walk_replace_ref(item, logical_id, value) for item in node]
    return node


def _generate_secret_string(secretsmanager: Any, spec: Mapping[str, Any]) -> str:
    options = {
        key: spec[key]
        for key in (
            "PasswordLength",
            "ExcludeCharacters",
            "ExcludeNumbers",
            "ExcludePunctuation",
            "ExcludeUppercase",
            "ExcludeLowercase",
            "IncludeSpace",
            "RequireEachIncludedType",
        )
        if key in spec
    }
    password = str(secretsmanager.get_random_password(**options)["RandomPassword"])
    template = spec.get("SecretStringTemplate")
    key = spec.get("GenerateStringKey")
    if isinstance(template, str) and isinstance(key, str):
        document = json.loads(template)
        document[key] = password
        return json.dumps(document)
    return password


def _create_secrets(template: dict[str, Any], clients: ClientFactory, stack_name: str) -> dict[str, str]:
    """Create the template's secrets through the API (moto's CloudFormation cannot) and inline their ARNs.
    Returns logical id -> ARN."""
    secretsmanager = clients("secretsmanager")
    created: dict[str, str] = {}
    for logical_id, resource in list(template["Resources"].items()):
        if resource.get("Type") != _SECRET_TYPE:
            continue
        properties = resource.get("Properties") or {}
        name = properties.get("Name")
        if not isinstance(name, str):
            name = f"{logical_id}-{stack_name}-{uuid.uuid4().hex[:12]}"
        if isinstance(properties.get("SecretString"), str):
            secret_string = properties["SecretString"]
        else:
            generate = properties.get("GenerateSecretString") or {}
            secret_string = _generate_secret_string(secretsmanager, generate)
        request: dict[str, Any] = {"Name": name, "SecretString": secret_string}
        if isinstance(properties.get("Description"), str):
            request["Description"] = properties["Description"]
        arn = str(secretsmanager.create_secret(**request)["ARN"])
        created[logical_id] = arn
        del template["Resources"][logical_id]
        for other in template["Resources"].values():
            depends = other.get("DependsOn")
            if depends == logical_id:
                del other["DependsOn"]
            elif isinstance(depends, list) and logical_id in depends:
                other["DependsOn"] = [item for item in depends if item != logical_id]
        for section in ("Resources", "Outputs"):
            if section in template:
                template[section] = _walk_replace_ref(template[section], logical_id, arn)
    return created


def _disable_event_source_mappings(template: dict[str, Any]) -> dict[str, bool]:
    """Create mappings disabled (see module docstring); return logical id -> the template's Enabled."""
    intended: dict[str, bool] = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != _ESM_TYPE:
            continue
        properties = resource.setdefault("Properties", {})
        enabled = properties.get("Enabled", True)
        intended[logical_id] = enabled if isinstance(enabled, bool) else str(enabled).lower() != "false"
        properties["Enabled"] = False
    return intended


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "README.txt", "Placeholder: the local stack runs the code from its directory in the repository.\n"
        )
    return buffer.getvalue()


def _upload_artifacts(s3: Any, rendered: RenderedTemplate, region: str) -> None:
    request: dict[str, Any] = {"Bucket": rendered.artifact_bucket}
    if region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(**request)
    body = _placeholder_zip()
    for key in rendered.artifacts:
        s3.put_object(Bucket=rendered.artifact_bucket, Key=key, Body=body)


class _SkippedResourceFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("No Moto CloudFormation support")


@contextlib.contextmanager
def _quiet_moto() -> Iterator[None]:
    """moto warns about every resource type its CloudFormation skips; that is expected here."""
    moto_logger = logging.getLogger("moto")
    quiet = _SkippedResourceFilter()
    moto_logger.addFilter(quiet)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Tried to parse .* not supported by moto")
            yield
    finally:
        moto_logger.removeFilter(quiet)


def _create_schedule_groups(
    scheduler: Any, template: Mapping[str, Any], skipped: Sequence[str], stack_name: str
) -> dict[str, str]:
    """moto's CloudFormation skips ``AWS::Scheduler::ScheduleGroup``; its Scheduler API has groups, so make
    them there with the name the template gives (a literal, or ``${AWS::StackName}`` in a ``Fn::Sub``)."""
    created: dict[str, str] = {}
    for logical_id in skipped:
        resource = template["Resources"][logical_id]
        if resource.get("Type") != "AWS::Scheduler::ScheduleGroup":
            continue
        name = (resource.get("Properties") or {}).get("Name") or logical_id
        if isinstance(name, dict) and isinstance(name.get("Fn::Sub"), str):
            name = name["Fn::Sub"].replace("${AWS::StackName}", stack_name)
        if not isinstance(name, str) or "${" in name:
            raise ValueError(f"{logical_id}: only a literal Name or ${{AWS::StackName}} is supported locally")
        scheduler.create_schedule_group(Name=name)
        created[logical_id] = name
    return created


def _apply_time_to_live(dynamodb: Any, template: Mapping[str, Any], resources: Mapping[str, str]) -> None:
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::DynamoDB::Table" or logical_id not in resources:
            continue
        spec = (resource.get("Properties") or {}).get("TimeToLiveSpecification") or {}
        if isinstance(spec.get("AttributeName"), str) and spec.get("Enabled") in (True, "true"):
            dynamodb.update_time_to_live(
                TableName=resources[logical_id],
                TimeToLiveSpecification={"AttributeName": spec["AttributeName"], "Enabled": True},
            )


# --------------------------------------------------------------------------------------------- reading back


def _as_env_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _queue_url(sqs: Any, queue_arn: str) -> str:
    _, _, _, _, account_id, name = queue_arn.split(":", 5)
    return str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account_id)["QueueUrl"])


def _event_sources(
    lambda_client: Any,
    sqs: Any,
    function_arn: str,
    esm_logical_ids: Mapping[str, str],
    intended_enabled: Mapping[str, bool],
) -> tuple[EventSource, ...]:
    sources: list[EventSource] = []
    # moto filters FunctionName by the exact string the mapping was created with: filter here instead.
    paginator = lambda_client.get_paginator("list_event_source_mappings")
    for page in paginator.paginate():
        for mapping in page.get("EventSourceMappings", []):
            arn = str(mapping["EventSourceArn"])
            if mapping.get("FunctionArn") != function_arn or arn.split(":")[2] != "sqs":
                continue
            logical_id = esm_logical_ids.get(str(mapping["UUID"]), str(mapping["UUID"]))
            concurrency = (mapping.get("ScalingConfig") or {}).get("MaximumConcurrency")
            sources.append(
                EventSource(
                    logical_id=logical_id,
                    queue_arn=arn,
                    queue_url=_queue_url(sqs, arn),
                    batch_size=int(mapping.get("BatchSize") or 10),
                    batching_window_seconds=int(mapping.get("MaximumBatchingWindowInSeconds") or 0),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (mapping.get("FunctionResponseTypes") or []),
                    maximum_concurrency=int(concurrency) if concurrency is not None else None,
                    enabled=intended_enabled.get(logical_id, True),
                )
            )
    return tuple(sorted(sources, key=lambda source: source.logical_id))


def _http_routes(template: Mapping[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Function logical id -> [(route key, payload format version)] from every API's OpenAPI body."""
    routes: dict[str, list[tuple[str, str]]] = {}
    for resource in template["Resources"].values():
        kind = resource.get("Type")
        if kind not in {"AWS::ApiGatewayV2::Api", "AWS::ApiGateway::RestApi"}:
            continue
        body = (resource.get("Properties") or {}).get("Body") or {}
        default_format = "2.0" if kind == "AWS::ApiGatewayV2::Api" else "1.0"
        for path, operations in (body.get("paths") or {}).items():
            for operation, spec in (operations or {}).items():
                if not isinstance(spec, dict) or _INTEGRATION not in spec:
                    continue
                integration = spec[_INTEGRATION]
                uri = integration.get("uri")
                text = uri.get("Fn::Sub") if isinstance(uri, dict) else uri
                if isinstance(text, list):
                    text = text[0]
                match = _FUNCTION_IN_URI.search(str(text))
                if not match:
                    continue
                method = "ANY" if operation == _ANY_METHOD else operation.upper()
                version = str(integration.get("payloadFormatVersion", default_format))
                routes.setdefault(match.group(1), []).append((f"{method} {path}", version))
    return routes


def _layer_dirs(rendered: RenderedTemplate, function: Mapping[str, Any]) -> tuple[Path, ...]:
    resources = rendered.template["Resources"]
    dirs: list[Path] = []
    for layer in (function.get("Properties") or {}).get("Layers") or []:
        if not (isinstance(layer, dict) and "Ref" in layer):
            continue  # a published layer ARN: nothing local to run
        target = resources.get(layer["Ref"]) or {}
        if target.get("Type") == _LAYER_TYPE:
            local = rendered.code_dir((target.get("Properties") or {}).get("Content") or {})
            if local is not None:
                dirs.append(local)
    return tuple(dirs)


# --------------------------------------------------------------------------------------------- deploy


# moto reads a template body as YAML first and as JSON only if YAML refuses it; pure-Python YAML takes about
# half a second over this template, a third of a deployment. A leading tab is whitespace to JSON, but no
# YAML token can start with one: YAML refuses at once and moto parses the same document as JSON.
_JSON_NOT_YAML = "\t"


def deploy_stack(
    clients: boto3.session.Session | ClientFactory,
    template_path: Path,
    stack_name: str = "hookline",
    parameter_overrides: Mapping[str, str] | str | None = None,
    *,
    artifact_bucket: str | None = None,
) -> DeployedStack:
    """Render ``template_path`` and create it as stack ``stack_name`` in moto; describe the result.

    ``clients`` is a boto3 session (in-process moto: call this under ``mock_aws``) or a client factory
    such as ``client_factory(endpoint_url=...)`` for a moto server. ``parameter_overrides`` takes a mapping
    or ``sam deploy --parameter-overrides`` text."""
    make_client = client_factory(clients)
    cloudformation = make_client("cloudformation")
    region = str(cloudformation.meta.region_name)
    overrides = parse_parameter_overrides(parameter_overrides)
    bucket = artifact_bucket or f"{stack_name.lower()[:40].rstrip('-')}-sam-artifacts"
    rendered = render_template(Path(template_path), region, overrides, bucket)
    parameters = validate_parameters(rendered.template, overrides)

    moto_template = copy.deepcopy(rendered.template)
    intended_enabled = _disable_event_source_mappings(moto_template)
    _upload_artifacts(make_client("s3"), rendered, region)
    secrets = _create_secrets(moto_template, make_client, stack_name)

    with _quiet_moto():
        cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=_JSON_NOT_YAML + json.dumps(moto_template),
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in overrides.items()],
            Capabilities=_CAPABILITIES,
        )
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            reason = stack.get("StackStatusReason", "")
            raise RuntimeError(f"stack {stack_name} is {stack['StackStatus']}: {reason}")
        stack_resources = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]

    stack_id = str(stack["StackId"])
    account_id = stack_id.split(":")[4]
    resources: dict[str, str] = dict(secrets)
    resource_types: dict[str, str] = dict.fromkeys(secrets, _SECRET_TYPE)
    for row in stack_resources:
        if "LogicalResourceId" in row and row.get("PhysicalResourceId"):
            resources[row["LogicalResourceId"]] = str(row["PhysicalResourceId"])
            resource_types[row["LogicalResourceId"]] = str(row["ResourceType"])
    created_ids = {row["LogicalResourceId"] for row in stack_resources if "LogicalResourceId" in row}
    skipped = tuple(sorted(set(rendered.template["Resources"]) - created_ids - set(secrets)))
    groups = _create_schedule_groups(make_client("scheduler"), rendered.template, skipped, stack_name)
    resources |= groups
    resource_types |= dict.fromkeys(groups, "AWS::Scheduler::ScheduleGroup")
    _apply_time_to_live(make_client("dynamodb"), moto_template, resources)

    outputs = {
        str(output["OutputKey"]): str(output["OutputValue"])
        for output in stack.get("Outputs", [])
        if "${" not in str(output.get("OutputValue", "${"))
    }
    described_parameters = {
        str(item["ParameterKey"]): str(item.get("ParameterValue", "")) for item in stack.get("Parameters", [])
    }
    parameters |= described_parameters

    lambda_client = make_client("lambda")
    sqs = make_client("sqs")
    esm_logical_ids = {
        physical: logical for logical, physical in resources.items() if resource_types[logical] == _ESM_TYPE
    }
    routes = _http_routes(rendered.template)
    functions: dict[str, FunctionSpec] = {}
    for logical_id, physical_name in resources.items():
        if resource_types[logical_id] != _FUNCTION_TYPE:
            continue
        rendered_function = rendered.template["Resources"][logical_id]
        code_dir = rendered.code_dir((rendered_function.get("Properties") or {}).get("Code") or {})
        if code_dir is None:
            raise ValueError(f"{logical_id}: its code is not a local directory")
        configuration = lambda_client.get_function_configuration(FunctionName=physical_name)
        variables = (configuration.get("Environment") or {}).get("Variables") or {}
        function_routes = routes.get(logical_id, [])
        functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            function_name=str(configuration["FunctionName"]),
            function_arn=str(configuration["FunctionArn"]),
            code_dir=code_dir,
            handler=str(configuration["Handler"]),
            runtime=str(configuration.get("Runtime", "")),
            timeout_seconds=int(configuration.get("Timeout") or 3),
            memory_mb=int(configuration.get("MemorySize") or 128),
            layer_dirs=_layer_dirs(rendered, rendered_function),
            environment={str(key): _as_env_string(value) for key, value in variables.items()},
            event_sources=_event_sources(
                lambda_client, sqs, str(configuration["FunctionArn"]), esm_logical_ids, intended_enabled
            ),
            http_api_routes=tuple(route for route, _ in function_routes),
            http_api_payload_format_version=function_routes[0][1] if function_routes else None,
            role_arn=str(configuration.get("Role", "")),
        )

    return DeployedStack(
        stack_name=stack_name,
        stack_id=stack_id,
        region=region,
        account_id=account_id,
        outputs=outputs,
        parameters=parameters,
        resources=resources,
        resource_types=resource_types,
        functions=functions,
        template=rendered.template,
    )
