"""Every install hint names the distribution pyproject.toml declares (PyPI's ``fastzip`` is another project)."""
from __future__ import annotations

import pathlib
import re
import sys

import pytest

from fastzip import _optional
from fastzip.errors import MissingDependencyError

if sys.version_info >= (3, 11):
    import tomllib
else:                                   # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = pathlib.Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
NAME = PYPROJECT["project"]["name"]
EXTRAS = set(PYPROJECT["project"]["optional-dependencies"])
# `pip install <something>` naming this project: its distribution, with or without an extra
HINT = re.compile(r"pip install (?:-[eU] )?"
                  r"['\"]?(?P<dist>[A-Za-z0-9_.-]*fastzip[A-Za-z0-9_.-]*)(?:\[(?P<extra>\w+)\])?")
# the out-of-core engine's module docstring is owned elsewhere; the integrator renames its hint at merge
ELSEWHERE: set[str] = set()


def _hints() -> list[tuple[str, str, str | None]]:
    found = []
    for path in sorted((ROOT / "fastzip").rglob("*.py")) + sorted((ROOT / "fastzip").rglob("*.pyx")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ELSEWHERE:
            continue
        for m in HINT.finditer(path.read_text(encoding="utf-8")):
            found.append((rel, m["dist"], m["extra"]))
    return found


def test_the_distribution_is_not_the_unrelated_pypi_fastzip() -> None:
    assert NAME == _optional.DISTRIBUTION
    assert NAME != "fastzip"
    assert "remote" in EXTRAS


def test_every_hint_in_the_package_names_our_distribution_and_a_real_extra() -> None:
    hints = _hints()
    assert len(hints) >= 8, hints           # the scan finds the hints (it cannot pass vacuously)
    for where, dist, extra in hints:
        assert dist == NAME, f"{where}: pip install {dist}"
        assert extra is None or extra in EXTRAS, f"{where}: extra {extra!r} is not declared"


@pytest.mark.parametrize("extra", ["parquet", "plot", "ray", "remote"])
def test_install_hint_uses_a_declared_extra(extra: str) -> None:
    assert extra in EXTRAS
    assert _optional.install_hint(extra) == f"pip install '{NAME}[{extra}]'"


def test_missing_dependency_errors_carry_the_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail as if the package were absent
    for module, call, extra in (("pyarrow", _optional.require_pyarrow, "parquet"),
                                ("matplotlib", _optional.require_matplotlib, "plot"),
                                ("ray", _optional.require_ray, "ray"),
                                ("fsspec", lambda: _optional.require_fsspec("s3://b/k"), "remote")):
        monkeypatch.setitem(sys.modules, module, None)
        with pytest.raises(MissingDependencyError) as info:
            call()
        assert f"pip install '{NAME}[{extra}]'" in str(info.value)
        monkeypatch.undo()
