"""What the handlers' modules must not import at cold start: each is a sizeable share of the +150 ms
budget over ``import boto3`` (``bench --only coldstart`` measures them), and each is only needed by some
requests (a schema check, sealing or ed25519 signing) or not at all (the X-Ray SDK)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ON_FIRST_USE = ("jsonschema", "referencing", "rpds", "cryptography", "aws_xray_sdk")
HANDLER_MODULES = ("hookline.api.routes", "hookline.delivery.container", "hookline.dead_letters.container")


def test_handler_modules_leave_the_heavy_optional_packages_for_first_use() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {HANDLER_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {ON_FIRST_USE!r} if m in sys.modules)))\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "layers" / "common"), "AWS_DEFAULT_REGION": "us-east-1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
