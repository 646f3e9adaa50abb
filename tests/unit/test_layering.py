"""The README's layering rule, checked on the source: imports only point down (api → delivery → dead_letters
→ storage → core), and no table key is built outside storage/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "common" / "hookline"
LAYERS = ("core", "storage", "dead_letters", "delivery", "api")  # bottom first


def _imported_layers(path: Path) -> set[str]:
    layers: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else []
        )
        for name in names:
            parts = name.split(".")
            if parts[0] == "hookline" and len(parts) > 1 and parts[1] in LAYERS:
                layers.add(parts[1])
    return layers


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_itself_and_the_layers_below(layer: str) -> None:
    above = set(LAYERS[LAYERS.index(layer) + 1 :])
    upward = {
        str(path.relative_to(PACKAGE)): sorted(_imported_layers(path) & above)
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        if _imported_layers(path) & above
    }
    assert upward == {}


# The table's key prefixes and fixed partitions (storage/table.py and the stores).
_KEY_PREFIX = re.compile(
    r"""["'](?:T|EP|HEALTH|INFLIGHT|RATE|KEY|K|IDEM|ET|EVX|RPL|RPLD|SCH)#|#D#|["'](?:DEADLETTERS|CATALOG)["']"""
)


def test_no_table_key_prefix_is_written_outside_storage() -> None:
    found = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if "storage" not in path.relative_to(PACKAGE).parts and _KEY_PREFIX.search(path.read_text())
    ]
    assert found == []
