"""``sam local``'s ``--env-vars`` file (env.json), written from the stack deployed into moto.

Each function's entry is ``runtime.deployed_environment``, the very mapping its local worker processes
get, with moto's URL as a container sees it. ``sam local`` only lets env.json override variables the
template declares: every deployed variable comes from the template, and template.yaml declares
``AWS_ENDPOINT_URL`` (from its ``AwsEndpointUrl`` parameter) for this purpose.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from local_stack.runtime import deployed_environment

if TYPE_CHECKING:
    from local_stack.cloudformation import DeployedStack


def sam_env_vars(deployed: DeployedStack, endpoint_url: str) -> dict[str, dict[str, str]]:
    """``{function logical id: its environment}``, the format ``sam local --env-vars`` reads."""
    return {
        logical_id: deployed_environment(spec.environment, endpoint_url)
        for logical_id, spec in sorted(deployed.functions.items())
    }


def write_env_json(path: Path, deployed: DeployedStack, endpoint_url: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(sam_env_vars(deployed, endpoint_url), indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
