"""IAM enforcement inside moto's server process: every call is held to its caller's policies, as on AWS.

``enable`` (called by ``_moto_runner.py`` before it serves anything, unless the stack runs with
``--no-iam``) makes moto check each request's signature and its principal's policies from the very first
request (``INITIAL_NO_AUTH_ACTION_COUNT`` = 0). Two kinds of caller reach it:

- the stack itself (deployment, pollers' bookkeeping, tests and tools that inspect moto): they sign with
  the fake ``testing`` / ``testing`` keys that moto's documentation uses, and those keys belong to an IAM
  user created here with an allow-everything policy, so nothing outside the functions changes;
- each function's worker process: it signs with credentials from ``sts:AssumeRole`` on the function's own
  role (``local_stack.roles``), so it may do only what template.yaml grants that role.

moto 5.2.5 authorises the request's API name against the resource ``*`` for most services. AWS authorises
some APIs as other actions and names the resource, so ``aws_checks`` translates each request into the
(action, resource ARN) pairs that AWS itself would check (the Service Authorization Reference):
- ``sqs:SendMessageBatch``, ``ChangeMessageVisibilityBatch``, ``DeleteMessageBatch`` are authorised as
  ``SendMessage``, ``ChangeMessageVisibility``, ``DeleteMessage`` (moto already names the queue ARN);
- DynamoDB calls name their table (or index) ARN; ``BatchGetItem``/``BatchWriteItem`` are checked on each
  table they touch, and ``TransactWriteItems``/``TransactGetItems`` as the ``PutItem``, ``UpdateItem``,
  ``DeleteItem``, ``ConditionCheckItem`` or ``GetItem`` of each of their items;
- SNS ``Publish`` names its topic, Secrets Manager its secret (when given an ARN), KMS its key (when given
  an ARN), EventBridge Scheduler its schedule (``schedule/<group>/<name>``).
That makes enforcement stricter than moto's own (a statement scoped to the wrong table now denies), never
looser: every pair must be allowed. Only the standard library and moto are imported here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote

ADMIN_USER_NAME = "local-stack-admin"
# moto's process appends what each function's role asked for to the file this variable names.
AUDIT_LOG_VARIABLE = "HOOKLINE_IAM_AUDIT_LOG"
# The fake keys every local-stack tool and test already signs with (no session token: an IAM user's key).
ADMIN_ACCESS_KEY_ID = ADMIN_SECRET_ACCESS_KEY = "testing"  # noqa: S105 - moto's documented fake keys
_ALLOW_EVERYTHING = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
_LAMBDA_SERVICE = "lambda.amazonaws.com"
# (AWSXrayWriteOnlyAccess: every function role holds it, since the translator cannot make it conditional.)
_LAMBDA_MANAGED_POLICY_PREFIXES = ("AWSLambda", "AWSXRayDaemonWriteAccess", "AWSXrayWriteOnlyAccess")
# AWS authorises these APIs as another action (on the same resource).
_AUTHORISED_AS = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
}
_TRANSACT_WRITE_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def enable(account_id: str, audit_log: str | None = None) -> None:
    """Create the stack's admin user (keys ``testing``/``testing``) and enforce IAM from the next request.

    With ``audit_log``, each distinct (role, action, resource, allowed) a function's credentials asked for
    is appended there once, as a JSON line: what a role really needs, or what was denied."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import IAMRequestBase
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy, iam_backends

    iam = iam_backends[account_id]["aws"]
    # The AWS managed policies SAM attaches to function roles (AWSLambdaSQSQueueExecutionRole...), so that
    # they can be attached and evaluated (all ~1,200 of them, MOTO_IAM_LOAD_MANAGED_POLICIES, take 1 s).
    for name, data in json.loads(aws_managed_policies_data).items():
        if name.startswith(_LAMBDA_MANAGED_POLICY_PREFIXES):
            policy = AWSManagedPolicy.from_data(name, account_id, "us-east-1", data)
            iam.managed_policies[policy.arn] = policy
    iam.create_user(region_name="us-east-1", user_name=ADMIN_USER_NAME)
    iam.put_user_policy(ADMIN_USER_NAME, "AllowEverything", _ALLOW_EVERYTHING)
    key = iam.create_access_key(ADMIN_USER_NAME)
    del iam.access_keys[key.physical_resource_id]
    key.access_key_id = ADMIN_ACCESS_KEY_ID
    key.secret_access_key = ADMIN_SECRET_ACCESS_KEY
    iam.access_keys[key.physical_resource_id] = key

    audit = _Audit(audit_log)
    original = IAMRequestBase.check_action_permitted

    def check_action_permitted(self: Any, resource: str) -> None:
        if self._action == "sts:AssumeRole" and self._access_key.arn.endswith(f":user/{ADMIN_USER_NAME}"):
            # The stack plays the Lambda service, which assumes a function's role for its runtime.
            if not trusts_lambda(iam.get_role_by_arn(resource).assume_role_policy_document):
                self._raise_access_denied()
            return
        service, _, api = str(self._action).partition(":")
        region, account = str(self._region), str(self.account_id)
        checks = aws_checks(service, api, resource, _parameters(self), region, account, str(self._path))
        for action, arn in checks:
            self._action = action
            try:
                original(self, arn)
            except Exception:
                audit.record(self._access_key.arn, action, arn, allowed=False)
                raise
            audit.record(self._access_key.arn, action, arn, allowed=True)

    IAMRequestBase.check_action_permitted = check_action_permitted  # type: ignore[method-assign]
    original_request = IAMRequestBase._create_aws_request

    def create_aws_request(self: Any) -> Any:
        # moto hands a request without body or query its headers as "data" (Lambda's
        # GetFunctionConfiguration...), and would sign them as the body: the signature never matched.
        # The same for a GET or DELETE with a query string (Scheduler's GetSchedule?groupName=...): moto
        # hands the parsed query as "data"; the query is signed as part of the URL, the body is empty.
        saved = self._data
        bodiless = self._method in {"GET", "DELETE", "HEAD"} and not self._body
        if isinstance(saved, Mapping) and ("Authorization" in saved or bodiless):
            self._data = b""
        try:
            return original_request(self)
        finally:
            self._data = saved

    IAMRequestBase._create_aws_request = create_aws_request  # type: ignore[method-assign]
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0


class _Audit:
    def __init__(self, path: str | None) -> None:
        self._path = path
        self._seen: set[tuple[str, str, str, bool]] = set()
        self._lock = threading.Lock()

    def record(self, principal: str, action: str, resource: str, allowed: bool) -> None:
        if self._path is None or ":assumed-role/" not in principal:
            return
        # arn:aws:sts::<account>:assumed-role/<role>/<session>: the role is what the template grants to.
        role = principal.split(":assumed-role/", 1)[1].split("/", 1)[0]
        entry = (role, action, resource, allowed)
        with self._lock:
            if entry in self._seen:
                return
            self._seen.add(entry)
            line = {"role": role, "action": action, "resource": resource, "allowed": allowed}
            with open(self._path, "a", encoding="utf-8") as log:
                log.write(json.dumps(line) + "\n")


def trusts_lambda(trust_policy: Any) -> bool:
    """Whether a role's trust policy lets the Lambda service assume it (as a function's role must)."""
    document = json.loads(trust_policy) if isinstance(trust_policy, str) else trust_policy
    statements = document.get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action") or []
        services = (statement.get("Principal") or {}).get("Service") or []
        if (
            statement.get("Effect") == "Allow"
            and "sts:AssumeRole" in ([actions] if isinstance(actions, str) else actions)
            and _LAMBDA_SERVICE in ([services] if isinstance(services, str) else services)
        ):
            return True
    return False


def _parameters(request: Any) -> Mapping[str, Any]:
    """The request's parameters: the JSON body (DynamoDB, Secrets Manager, KMS) or the query form (SNS)."""
    body = request._body
    if body:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            document = None
        if isinstance(document, dict):
            return document
    form = request._data or {}
    return {key: value[0] if isinstance(value, list) and value else value for key, value in form.items()}


def _table_arn(region: str, account: str, table: str, index: str | None = None) -> str:
    if table.startswith("arn:"):
        return table
    arn = f"arn:aws:dynamodb:{region}:{account}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def aws_checks(
    service: str,
    api: str,
    resource: str,
    parameters: Mapping[str, Any],
    region: str,
    account: str,
    path: str = "",
) -> Iterator[tuple[str, str]]:
    """The (action, resource) pairs AWS authorises for one request (see the module docstring)."""
    action = f"{service}:{api}"
    if service == "dynamodb":
        yield from _dynamodb_checks(api, parameters, region, account)
        return
    if service == "scheduler":
        yield action, _schedule_arn(path, parameters, region, account) or resource
        return
    if service == "sns" and isinstance(parameters.get("TopicArn"), str):
        resource = parameters["TopicArn"]
    elif service == "secretsmanager" and str(parameters.get("SecretId", "")).startswith("arn:"):
        resource = parameters["SecretId"]
    elif service == "kms" and str(parameters.get("KeyId", "")).startswith("arn:"):
        resource = parameters["KeyId"]
    yield _AUTHORISED_AS.get(action, action), resource


def _schedule_arn(path: str, parameters: Mapping[str, Any], region: str, account: str) -> str | None:
    """EventBridge Scheduler's ``/schedules/{Name}`` calls act on ``schedule/{group}/{name}``."""
    route, _, query = path.partition("?")
    parts = route.strip("/").split("/")
    if len(parts) != 2 or parts[0] != "schedules":
        return None
    group = parameters.get("GroupName") or parse_qs(query).get("groupName", ["default"])[0]
    return f"arn:aws:scheduler:{region}:{account}:schedule/{group}/{unquote(parts[1])}"


def _dynamodb_checks(
    api: str, parameters: Mapping[str, Any], region: str, account: str
) -> Iterator[tuple[str, str]]:
    if api in {"BatchGetItem", "BatchWriteItem"}:
        for table in parameters.get("RequestItems") or {}:
            yield f"dynamodb:{api}", _table_arn(region, account, table)
        return
    if api in {"TransactWriteItems", "TransactGetItems"}:
        for entry in parameters.get("TransactItems") or []:
            for operation, body in entry.items():
                action = "dynamodb:GetItem" if operation == "Get" else _TRANSACT_WRITE_ACTIONS.get(operation)
                if action is not None:
                    yield action, _table_arn(region, account, str(body.get("TableName", "")))
        return
    table = parameters.get("TableName")
    if isinstance(table, str) and table:
        index = parameters.get("IndexName")
        yield f"dynamodb:{api}", _table_arn(region, account, table, index if isinstance(index, str) else None)
        return
    yield f"dynamodb:{api}", "*"
