"""Every ``fastzip.x.y`` named in the code, tests, benchmarks and docs exists.

Modules moved when the package took its layers; a docstring or page that
still names the old path renders as dead text in the API reference (Sphinx
does not fail on it) and sends a reader to an import that fails.  The
changelog is history and keeps the names of its time.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from tests.helpers import ROOT

# a dotted name that starts with the package, not part of a path, a file name or a longer word
TOKEN = re.compile(r"(?<![\w/.-])fastzip(?:\.[A-Za-z_]\w*)+")


def _sources() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder, patterns in [("fastzip", ("*.py", "*.pyi", "*.pyx")), ("docs", ("*.md", "*.rst")),
                             ("tests", ("*.py",)), ("bench", ("*.py",))]:
        for pattern in patterns:
            files += sorted((ROOT / folder).rglob(pattern))
    return [f for f in files if "_build" not in f.parts and f != Path(__file__)]   # this file names wrong ones


def resolves(name: str) -> bool | None:
    """Whether the dotted name exists (None: its module needs an optional dependency that is missing)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError as exc:
            if exc.name and not exc.name.startswith("fastzip"):
                return None     # e.g. torch for fastzip.proxy: cannot tell here
            continue
        for part in parts[i:]:
            if not hasattr(obj, part):
                return False
            obj = getattr(obj, part)
        return True
    return False


def test_every_dotted_name_exists() -> None:
    unknown: dict[str, list[str]] = {}
    for path in _sources():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in TOKEN.finditer(line):
                if resolves(match.group(0)) is False:
                    unknown.setdefault(match.group(0), []).append(f"{path.relative_to(ROOT)}:{number}")
    assert not unknown, "names that do not exist:\n" + "\n".join(f"{k}: {', '.join(v)}" for k, v in unknown.items())


@pytest.mark.parametrize("name, exists", [("fastzip.select", True), ("fastzip.samples.pool.Pool", True),
                                          ("fastzip.streams.compressor.IncrementalCompressor.marginal_sizes", True),
                                          ("fastzip.pool.Pool", False), ("fastzip.select.nothing", False),
                                          ("fastzip._protocol", False)])
def test_the_check_tells_names_that_exist(name: str, exists: bool) -> None:
    assert resolves(name) is exists
    assert [m.group(0) for m in TOKEN.finditer(f"see :func:`{name}` here")] == [name]
    assert not TOKEN.search(f"tests/fastzip.{name}") and not TOKEN.search("a.fastzip.select")
