"""Benchmark 3: each handler module's import time in a fresh process, next to a bare ``import boto3``.

Every sample is a new interpreter (``sys.executable``) started in the repository with
``PYTHONPATH=layers/common:.`` (how the layer and the code directory resolve on Lambda) and the function's
environment from the deployed template, so module-level work (settings, powertools objects) runs as in a
cold start. The child times ``importlib.import_module`` around the module alone; interpreter start-up is
not included and is the same for every row. Samples are interleaved across rows to spread drift, after one
untimed round that warms the OS file cache and the bytecode caches.

Extra rows, ``from source``: the same import from a copy of ``layers/common`` and ``functions`` without
``__pycache__`` and with bytecode writing off. ``sam build`` leaves ``*.pyc``/``__pycache__`` out of the
artifacts and ``/var/task`` and ``/opt`` are read-only, so on Lambda Hookline's own modules are compiled at
every cold start (third-party packages keep the bytecode they were installed with, here and there).
The first invocation of a new container (what it builds before its first AWS call) is reported by the
throughput benchmark, which times the dispatch function's first invocation in its process.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

BASELINE = "import boto3"
HANDLERS = {
    "functions.ingest.app": "IngestFunction",
    "functions.dispatch.app": "DispatchFunction",
    "functions.dlq_handler.app": "DlqHandlerFunction",
}
GOAL_MARGIN_MS = 150.0
# What optional work would add, each in a fresh process on its own: neither is imported by a handler.
# jsonschema is imported on first use (the first event whose type has a schema); the X-Ray SDK is what a
# powertools Tracer loads, which Hookline does not use (EnableXRayTracing is Lambda's active tracing only;
# moto[server] installs the SDK here).
ON_DEMAND = {
    "import jsonschema (on first use: an event type with a schema)": "jsonschema",
    "import aws_xray_sdk.core (what a powertools Tracer loads; not used)": "aws_xray_sdk.core",
}

_CHILD = """
import importlib, sys, time
started = time.perf_counter()
importlib.import_module(sys.argv[1])
print(time.perf_counter() - started)
"""


@dataclass(frozen=True)
class Row:
    label: str
    module: str
    function: str | None  # whose environment the child gets
    from_source: bool = False
    is_handler_import: bool = False  # one of the rows the goal applies to


def rows() -> list[Row]:
    planned = [Row(BASELINE, "boto3", None)]
    planned += [Row(f"import {m}", m, f, is_handler_import=True) for m, f in HANDLERS.items()]
    planned += [Row(f"import {m}, from source", m, f, from_source=True) for m, f in HANDLERS.items()]
    planned += [Row(label, module, None) for label, module in ON_DEMAND.items()]
    return planned


@dataclass
class ImportTimes:
    rows: list[Row]
    samples_ms: dict[str, list[float]]

    def median(self, label: str) -> float:
        return statistics.median(self.samples_ms[label])

    def over_boto3(self, label: str) -> float:
        return self.median(label) - self.median(BASELINE)

    def as_json(self) -> dict[str, Any]:
        return {
            "baseline": BASELINE,
            "goal_over_boto3_ms": GOAL_MARGIN_MS,
            "median_ms": {row.label: self.median(row.label) for row in self.rows},
            "over_boto3_ms": {row.label: self.over_boto3(row.label) for row in self.rows[1:]},
            "samples_ms": self.samples_ms,
        }


@contextmanager
def _source_copy() -> Iterator[Path]:
    """layers/common and functions copied without bytecode, as ``sam build`` packages them."""
    with tempfile.TemporaryDirectory(prefix="hookline-bench-") as tmp:
        root = Path(tmp)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(REPO / "layers" / "common", root / "layers" / "common", ignore=ignore)
        shutil.copytree(REPO / "functions", root / "functions", ignore=ignore)
        yield root


def _environment(function_env: dict[str, str], from_source: bool) -> dict[str, str]:
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    env |= {
        "PYTHONPATH": "layers/common:.",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if from_source:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env | function_env


def _sample(row: Row, cwd: Path, env: dict[str, str]) -> float:
    args = [sys.executable, "-c", _CHILD, row.module]
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{row.label} in a fresh process failed:\n{result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1]) * 1000


def import_times(function_envs: dict[str, dict[str, str]], repeats: int) -> ImportTimes:
    """``function_envs`` maps a function's logical id to its environment (from the deployed template)."""
    planned = rows()
    samples: dict[str, list[float]] = {row.label: [] for row in planned}
    with _source_copy() as source_root:
        for round_number in range(repeats + 1):
            for row in planned:
                env = _environment(function_envs[row.function] if row.function else {}, row.from_source)
                elapsed = _sample(row, source_root if row.from_source else REPO, env)
                if round_number:  # round 0 only warms caches
                    samples[row.label].append(elapsed)
    return ImportTimes(planned, samples)
