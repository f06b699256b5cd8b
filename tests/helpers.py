"""Plain helpers the tests share; the fixtures are in tests/conftest.py.

Import them as ``from tests.helpers import ...``: ``tests`` and its folders
are packages, so pytest puts the repository root on ``sys.path`` and every
test module, in any folder, imports this one the same way.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent    # the repository
DATA = ROOT / "tests" / "data"                    # the real corpora the tests run on
EXAMPLES = ROOT / "examples"


def load_jsonl(name: str) -> list:
    """The records of ``tests/data/NAME``, one JSON value a line (blank lines skipped)."""
    with open(DATA / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def in_ci() -> bool:
    """True when the CI variable is set (CI fails where a developer's machine skips)."""
    return os.environ.get("CI", "") not in ("", "0", "false")


def require_zstd_match() -> None:
    """Skip (fail in CI) unless python-zstandard bundles the libzstd that fastzip's native zstd links.

    Byte-for-byte zstd comparisons hold only between the same library versions.
    """
    from fastzip.benchmarks.matrix import zstd_versions_match

    if not zstd_versions_match():
        if in_ci():
            pytest.fail(".ci/run installs the zstandard release that bundles the system libzstd")
        pytest.skip("python-zstandard bundles a different libzstd than the native kernel links")
