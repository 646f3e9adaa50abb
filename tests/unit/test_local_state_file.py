"""The local stack's state file holds the admin key: it is written readable by its user alone."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from types import SimpleNamespace

from local_stack.stack import LocalStack


def test_the_state_file_is_written_0600_even_over_a_world_readable_one(tmp_path: Path) -> None:
    path = tmp_path / ".aws-sam" / "local-stack.json"
    path.parent.mkdir()
    path.write_text("{}")
    path.chmod(0o644)
    stub = SimpleNamespace(
        options=SimpleNamespace(state_file=path),
        state=lambda: {"api_key": "hk_admin"},
        written_state_file=None,
    )

    LocalStack._write_state(stub)  # type: ignore[arg-type]

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"api_key": "hk_admin"}
