"""The package's layout holds: layers, no cycles, no private imports across modules, CLI code in cli/ only.

The layer and cycle contracts are import-linter's (``[tool.importlinter]`` in
pyproject.toml); CI runs ``lint-imports`` too. The test of the contracts runs
them on a copy of the package with one upward import added, so that a
contract that stopped checking anything would fail here.
"""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "fastzip"
pytest.importorskip("importlinter", reason="the layer contract needs import-linter (the test extra)")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "data" not in p.relative_to(PACKAGE).parts)


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the package under ``root``, with the project's contracts."""
    return subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command;"
                           "sys.exit(lint_imports_command())", "--no-cache", str(ROOT / "pyproject.toml")],
                          cwd=root, capture_output=True, text=True, env={"PYTHONPATH": str(root), "PATH": ""})


def test_the_layer_and_cycle_contracts_hold():
    proc = _lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 kept, 0 broken" in proc.stdout


@pytest.mark.parametrize("importer, imported", [
    ("samples/pool.py", "from fastzip.cli import main"),                 # upward across layers
    ("io/read.py", "from fastzip.selection import api"),                 # upward by one layer
    ("selection/trace.py", "from fastzip.selection import result"),      # a cycle inside a package
])
def test_the_contracts_catch_an_upward_import_or_a_cycle(tmp_path, importer, imported):
    copy = tmp_path / "fastzip"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("*.so", "*.c", "__pycache__", "data"))
    with open(copy / importer, "a", encoding="utf-8") as f:
        f.write(f"\n{imported}  # noqa\n")
    proc = _lint_imports(tmp_path)
    assert proc.returncode != 0, proc.stdout
    assert "BROKEN" in proc.stdout or "broken" in proc.stdout


def _imported_names(path: Path, root: Path) -> list[tuple[str, str, int]]:
    """(module, name, line) of every ``from fastzip... import name`` in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = list(path.relative_to(root).with_suffix("").parts)[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] == "fastzip":
                found += [(module, alias.name, node.lineno) for alias in node.names]
    return found


def _private_imports(root: Path) -> list[str]:
    """Every import of a ``_private`` name from another module (a private *module* itself may be imported)."""
    package = root / "fastzip"
    return [f"{path.relative_to(root)}:{line}: {name} from {module}"
            for path in sorted(package.rglob("*.py")) for module, name, line in _imported_names(path, root)
            if name.startswith("_") and not name.startswith("__")
            and not (package / Path(*module.split(".")[1:], name + ".pyi")).exists()
            and not (package / Path(*module.split(".")[1:], name + ".py")).exists()]


def test_no_module_imports_another_modules_private_name():
    assert _private_imports(ROOT) == []


def test_the_private_name_check_sees_one(tmp_path):
    (tmp_path / "fastzip" / "selection").mkdir(parents=True)
    (tmp_path / "fastzip" / "selection" / "x.py").write_text("from .config import _helper\n", encoding="utf-8")
    assert _private_imports(tmp_path) == ["fastzip/selection/x.py:1: _helper from fastzip.selection.config"]


def test_at_most_twelve_modules_sit_directly_under_the_package():
    top = [p.name for p in PACKAGE.iterdir()
           if p.is_file() and p.suffix in (".py", ".pyx") or p.name.endswith(".so")]
    assert len(top) <= 12, sorted(top)


def _imports_argparse(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(alias.name == "argparse" for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "argparse":
            return True
    return False


def test_command_line_parsing_lives_in_cli_only():
    offenders = [str(p.relative_to(ROOT)) for p in _modules()
                 if "cli" not in p.relative_to(PACKAGE).parts and _imports_argparse(p)]
    assert offenders == []
    assert _imports_argparse(PACKAGE / "cli" / "main.py")      # the check sees an argparse import
