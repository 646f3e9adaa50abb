"""Everything the functions import at run time is there on Lambda: in the layer's requirements (or required by
one of them), in the Python runtime (boto3 and its dependencies), or in the standard library.

The test environment holds much more (moto brings cryptography, for one), so a package missing from
layers/common/requirements.txt passes every other test and fails only in a Lambda container, on the first
request that reaches a lazy import."""

from __future__ import annotations

import ast
import functools
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER_REQUIREMENTS = ROOT / "layers" / "common" / "requirements.txt"
# What the python3.13 Lambda runtime ships besides the standard library.
RUNTIME_DISTRIBUTIONS = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3", "six"}
SOURCES = sorted((ROOT / "layers" / "common" / "hookline").rglob("*.py")) + sorted(
    (ROOT / "functions").glob("*/app.py")
)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(line: str) -> str | None:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return _normalise(match.group(1)) if match else None


def _installed_closure(roots: set[str]) -> set[str]:
    """The distributions pip installs for these requirements: them and, recursively, what they require
    (extras aside)."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for requirement in metadata.requires(name) or []:
            if "extra ==" in requirement:
                continue
            dependency = _requirement_name(requirement)
            if dependency is not None:
                todo.append(dependency)
    return seen


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(path: Path) -> set[str]:
    """Top-level modules imported anywhere in the file (lazy imports in functions included), except under
    ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                typing_only.update(id(child) for child in ast.walk(statement))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def test_sources_are_found() -> None:
    assert len(SOURCES) > 20


@functools.cache
def _available_on_lambda() -> frozenset[str]:
    listed = {
        name
        for line in LAYER_REQUIREMENTS.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
        if (name := _requirement_name(line)) is not None
    }
    return frozenset(_installed_closure(listed) | _installed_closure(RUNTIME_DISTRIBUTIONS))


@functools.cache
def _providers() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_runtime_import_is_packaged_for_lambda(source: Path) -> None:
    available = _available_on_lambda()
    providers = _providers()
    missing = {}
    for module in _runtime_imports(source):
        if module in sys.stdlib_module_names or module in {"hookline", "__future__"}:
            continue
        distributions = {_normalise(name) for name in providers.get(module, [])}
        if not distributions & available:
            missing[module] = sorted(distributions) or ["(not installed)"]
    assert not missing, f"imported but not in {LAYER_REQUIREMENTS.relative_to(ROOT)}: {missing}"
