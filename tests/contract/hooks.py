"""schemathesis hooks for the contract run (loaded through ``SCHEMATHESIS_HOOKS``).

Every endpoint URL the API would accept is pointed at the run's receiver on 127.0.0.1 before the request
is sent, so no delivery made during the run can leave this machine: schemathesis generates URLs such as
``https://example.com/`` or ``http://8.8.8.8``, and the local stack would try to deliver to them. URLs
the API refuses are sent as generated, so the URL rules are still exercised. Both are strings, so whether
a case is valid by the document is unchanged (schemathesis revalidates edits made here).
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any

import schemathesis

from hookline.core.config import TargetPolicy
from hookline.core.errors import InvalidRequestError
from hookline.core.targets import validate_endpoint_url
from tests.contract.harness import RECEIVER_ENV

# The local stack's default policy: http:// allowed, loopback targets allowed.
LOCAL_STACK_POLICY = TargetPolicy(
    allow_http=True,
    allowed_private_networks=(ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")),
)


def accepted_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        validate_endpoint_url(value, LOCAL_STACK_POLICY)
    except InvalidRequestError:
        return False
    return True


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    body = case.body
    if isinstance(body, dict) and accepted_url(body.get("url")):
        body["url"] = os.environ[RECEIVER_ENV]
