"""Each function's own IAM role, made usable under moto's IAM enforcement (``local_stack.iam_enforcement``).

After the template is deployed, ``prepare_roles`` fixes what moto 5.2.5's CloudFormation leaves unusable:
- a role's inline policies (SAM's policy templates such as ``SQSSendMessagePolicy`` and the template's own
  ``Statement`` blocks, already expanded by the translator) are stored as Python dicts, and every call made
  with the role's credentials then fails inside moto (``KeyError: 'policy_document'``, a 500). Each one is
  put again as a JSON document;
- a role's ``ManagedPolicyArns`` (what SAM adds: ``AWSLambdaBasicExecutionRole``, and
  ``AWSLambdaSQSQueueExecutionRole`` for an SQS event source) are dropped: each is attached again.

``role_credentials`` is ``sts:AssumeRole`` on a function's role, as environment variables: what Lambda
gives a function's runtime. A worker process gets them once, when it starts.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local_stack.cloudformation import DeployedStack

_ROLE_TYPE = "AWS::IAM::Role"
_POLICY_VERSION = "2012-10-17"


class RoleError(Exception):
    """A function's role cannot be used locally (a managed policy moto does not know...)."""


def _function_roles(deployed: DeployedStack) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(physical role name, rendered role properties) of every role a deployed function runs as."""
    role_names = {spec.role_arn.rsplit("/", 1)[-1] for spec in deployed.functions.values()}
    for logical_id, kind in deployed.resource_types.items():
        if kind == _ROLE_TYPE and deployed.resources[logical_id] in role_names:
            resource = deployed.template["Resources"].get(logical_id) or {}
            yield deployed.resources[logical_id], resource.get("Properties") or {}


def _as_document(stored: Any) -> dict[str, Any]:
    """An inline policy as moto returns it: JSON, or (from its CloudFormation) a Python dict's repr."""
    if isinstance(stored, dict):
        return dict(stored)
    text = str(stored)
    try:
        document = json.loads(text)
    except ValueError:
        document = ast.literal_eval(text)
    if not isinstance(document, dict):
        raise RoleError(f"an inline policy is not a document: {text[:200]}")
    return document


def prepare_roles(iam: Any, deployed: DeployedStack) -> None:
    """Make every function role's policies evaluable by moto (see the module docstring)."""
    for role_name, properties in _function_roles(deployed):
        for policy_name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
            stored = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
            document = {"Version": _POLICY_VERSION, **_as_document(stored)}
            iam.put_role_policy(
                RoleName=role_name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
            )
        attached = {
            policy["PolicyArn"]
            for policy in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
        }
        for policy_arn in properties.get("ManagedPolicyArns") or []:
            if not isinstance(policy_arn, str):
                raise RoleError(f"{role_name}: a managed policy ARN must be a plain string: {policy_arn}")
            if policy_arn not in attached:
                try:
                    iam.attach_role_policy(RoleName=role_name, PolicyArn=policy_arn)
                except iam.exceptions.NoSuchEntityException as exc:
                    raise RoleError(f"{role_name}: moto does not know the policy {policy_arn}") from exc


def role_credentials(sts: Any, role_arn: str, session_name: str) -> dict[str, str]:
    """Temporary credentials of ``role_arn`` as the ``AWS_*`` variables Lambda sets for a function."""
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name[:64])["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": str(credentials["AccessKeyId"]),
        "AWS_SECRET_ACCESS_KEY": str(credentials["SecretAccessKey"]),
        "AWS_SESSION_TOKEN": str(credentials["SessionToken"]),
    }
