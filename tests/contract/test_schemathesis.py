"""schemathesis over ``/v1/openapi.json`` against the local stack: no 5xx, and no status, content type,
header or body that the document does not declare, as the admin key, each tenant's key and nobody.

This is the short run (a fixed seed, about 3,000 cases in all); ``make contract ARGS=--full`` is the
long one. On a failure the message holds schemathesis's own report, with a curl line for each case.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract.harness import PASSES, SHORT, Pass, Seed, contract_stack, run_pass

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("contract")


@pytest.fixture(scope="module")
def seed(work_dir: Path) -> Iterator[Seed]:
    with contract_stack(work_dir) as seeded:
        yield seeded


@pytest.mark.parametrize("run", PASSES, ids=[each.name for each in PASSES])  # stateful passes run last
def test_the_api_keeps_to_its_document(seed: Seed, run: Pass, work_dir: Path) -> None:
    result = run_pass(seed, run, SHORT, work_dir)
    assert result.exit_code == 0, f"{result.summary()}\n\n{result.output}"
    assert not result.failures
    assert result.cases > 0, result.output
