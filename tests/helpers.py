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


# a small `fastzip select` run: every path of the command, in a fraction of a second
SMALL_SELECT = ["--budget", "5", "--k1", "50", "--k2", "10", "--k3", "5", "--quiet"]


def files_in(folder) -> dict[str, bytes]:
    """Every file directly in ``folder`` (temporary files included) and its bytes."""
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()}


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


def default_codec() -> str | None:
    """The ``codec`` a test of default mode passes: None, so the default codec (lz77) runs, where it can.

    The default codec is native only, so under FASTZIP_FORCE_FALLBACK (CI's pass through the PyPI
    bindings) or without the extension default mode refuses to run without a codec; there the tests of
    default mode's behaviour pass ``"zstd"``, the codec with a binding, explicitly.
    """
    from fastzip.streams import codecs

    return None if codecs.uses_native(codecs.DEFAULT_SELECT_CODEC) else "zstd"


def require_runnable(codec: str) -> None:
    """Skip when ``codec`` cannot run here: a native-only codec (lz77) under FASTZIP_FORCE_FALLBACK or
    without the extension."""
    from fastzip.streams import codecs

    if codecs.native_only(codec) and not codecs.uses_native(codec):
        pytest.skip(f"{codec} is native only and the extension is not in use here")


def default_codec_args() -> list[str]:
    """:func:`default_codec` as ``fastzip select`` options: none, or ``--codec zstd``."""
    codec = default_codec()
    return [] if codec is None else ["--codec", codec]
