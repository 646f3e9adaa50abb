"""The moto patches in local_stack/_moto_runner.py refuse a moto they were not written for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local_stack._moto_runner import WRITTEN_FOR_MOTO, MotoVersionError, require_moto_version

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements-dev.txt"


def test_the_patches_are_written_for_the_pinned_moto() -> None:
    [pinned] = re.findall(r"^moto(?:\[[^\]]*\])?==(\S+)$", REQUIREMENTS.read_text(), flags=re.MULTILINE)
    assert pinned == WRITTEN_FOR_MOTO
    require_moto_version()  # and it is the one installed here


def test_another_moto_fails_loudly_naming_both_versions() -> None:
    with pytest.raises(MotoVersionError, match=r"moto 5\.2\.5's internals, but moto 5\.3\.0 is installed"):
        require_moto_version("5.3.0")
