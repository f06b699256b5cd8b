"""Every Python and shell example in docs/*.md runs, on the repository's data.

Each page runs in its own temporary folder, in which ``tests`` and ``bench``
link to the repository's, so the pages can use paths such as
``tests/data/openai_evals_5k.jsonl`` as a user in a clone would.  A page's
blocks run in order and share that folder; its Python blocks also share one
namespace.  ``bash`` blocks run with ``bash -euo pipefail`` and find the
``fastzip`` command and ``python`` of this checkout first on their PATH.

A fence may be preceded by one marker line:

* ``<!-- docs-test: skip: REASON -->``: not run (the reason is required and
  listed by ``test_skipped_examples_are_few_and_explained``);
* ``<!-- docs-test: requires THING -->``: run only when THING is there, else
  skipped with a message.  THING is ``fastzip.`` and an attribute path,
  ``module:NAME`` (importable), ``codec:NAME`` (a codec fastzip knows), or
  ``cli:SUBCOMMAND:--flag`` (the flag is in that subcommand's help); several,
  separated by commas, must all be there;
* ``<!-- docs-test: output -->``, before a ``text`` block that follows a run
  block: what that block printed.  Each of its lines but ``...`` must be a
  line of the run's stdout and stderr (spaces at the ends aside), so a
  documented output cannot go stale.

Blocks in other languages (``text``, ``console``, ``csv``...) are output or
data and are not run.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT

DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.glob("*.md")) + [ROOT / "README.md"]
RUN_LANGS = {"python": "python", "py": "python", "bash": "bash", "sh": "bash", "shell": "bash"}
MARKER = re.compile(r"<!--\s*docs-test:\s*(skip|requires|output)\s*:?\s*(.*?)\s*-->")
FENCE = re.compile(r"^(```+|~~~+)\s*(\{?[\w+-]*\}?)")

# Every skipped example, by page: kept short on purpose (see the module docstring).
ALLOWED_SKIPS = {
    "getting-started.md": 2,   # pip install . / pip install -e .[test] && pytest
    "README.md": 2,            # the same two
    "benchmarking.md": 1,      # the timed benchmark suite takes minutes
}


@dataclass
class Block:
    page: str
    line: int
    lang: str
    code: str
    marker: tuple[str, str] | None


def extract(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, with the marker before each."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group(1), m.group(2).lower()
        start = i
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1
        marker = None
        j = start - 1
        if j >= 0:
            mm = MARKER.search(lines[j])
            if mm:
                marker = (mm.group(1), mm.group(2))
        blocks.append(Block(path.name, start + 1, lang, "\n".join(body) + "\n", marker))
    return blocks


def _available(thing: str) -> bool:
    if thing.startswith("module:"):
        return importlib.util.find_spec(thing[len("module:"):]) is not None
    if thing.startswith("codec:"):
        from fastzip.streams import codecs

        return thing[len("codec:"):] in codecs.available_codecs()
    if thing.startswith("cli:"):
        _, sub, flag = thing.split(":", 2)
        from fastzip.cli.main import _build_parser

        parser = _build_parser()
        actions = [a for a in parser._subparsers._group_actions[0].choices[sub]._actions]
        return any(flag in a.option_strings for a in actions)
    if thing.startswith("fastzip."):
        obj = importlib.import_module("fastzip")
        for part in thing.split(".")[1:]:
            try:
                obj = getattr(obj, part)
            except AttributeError:
                try:
                    obj = importlib.import_module(f"{obj.__name__}.{part}")
                except ImportError:
                    return False
        return True
    raise ValueError(f"unknown requirement {thing!r}")


@pytest.fixture(scope="module")
def shim(tmp_path_factory) -> Path:
    """A folder for PATH whose ``fastzip`` runs this checkout."""
    folder = tmp_path_factory.mktemp("bin")
    script = folder / "fastzip"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} -m fastzip \"$@\"\n")
    script.chmod(0o755)
    for name in ("python", "python3"):
        (folder / name).symlink_to(sys.executable)
    return folder


def _workdir(tmp_path: Path) -> Path:
    for name in ("tests", "bench", "fastzip"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    return tmp_path


def _run_bash(block: Block, cwd: Path, shim: Path) -> str:
    env = dict(os.environ)
    env["PATH"] = f"{shim}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("MPLBACKEND", "Agg")
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block.code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        pytest.fail(f"{block.page}:{block.line}: bash example exited {proc.returncode}\n"
                    f"--- code\n{block.code}--- stdout\n{proc.stdout[-3000:]}--- stderr\n{proc.stderr[-3000:]}")
    return proc.stdout + proc.stderr


def _run_python(block: Block, namespace: dict) -> str:
    code = compile(textwrap.dedent(block.code), f"{block.page}:{block.line}", "exec")
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(code, namespace)  # noqa: S102 - the documentation's own examples
    except Exception as exc:
        raise AssertionError(f"{block.page}:{block.line}: python example failed: "
                             f"{type(exc).__name__}: {exc}\n--- stdout\n{out.getvalue()[-3000:]}") from exc
    return out.getvalue()


def _check_output(block: Block, printed: str | None) -> None:
    """A documented output: each of its lines but ``...`` is a line the run block before it printed."""
    if printed is None:
        pytest.fail(f"{block.page}:{block.line}: an output block must follow a run block that ran")
    lines = {line.strip() for line in printed.splitlines()}
    stale = [line for line in block.code.splitlines() if line.strip() not in ("", "...") and line.strip() not in lines]
    assert not stale, (f"{block.page}:{block.line}: the documented output is not what the example printed\n"
                       f"--- not printed\n" + "\n".join(stale) + f"\n--- printed\n{printed[-3000:]}")


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run(page: Path, tmp_path: Path, shim: Path, monkeypatch) -> None:
    from fastzip.streams import codecs

    blocks = [b for b in extract(page) if b.lang in RUN_LANGS or (b.marker and b.marker[0] == "output")]
    if not blocks:
        return   # nothing to run (the index, the semantics)
    cwd = _workdir(tmp_path)
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.syspath_prepend(str(cwd))
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    registered = set(codecs.available_codecs())
    missing = []
    printed: str | None = None      # what the last run block printed (None: no run block yet)
    skipped = False                 # the last run block was skipped: its output is not checked
    try:
        for block in blocks:
            if block.marker is not None and block.marker[0] == "output":
                if not skipped:
                    _check_output(block, printed)
                continue
            printed, skipped = None, True
            if block.marker is not None:
                kind, what = block.marker
                if kind == "skip":
                    continue
                if not all(_available(w.strip()) for w in what.split(",")):
                    missing.append(f"{block.page}:{block.line} needs {what}")
                    continue
            skipped = False
            if RUN_LANGS[block.lang] == "bash":
                printed = _run_bash(block, cwd, shim)
            else:
                printed = _run_python(block, namespace)
    finally:
        for name in set(codecs.available_codecs()) - registered:
            codecs.unregister_codec(name)
    if missing:
        pytest.skip("examples for features this build lacks: " + "; ".join(missing))


def test_skipped_examples_are_few_and_explained() -> None:
    counts: dict[str, int] = {}
    for page in PAGES:
        for block in extract(page):
            if block.marker and block.marker[0] == "skip":
                assert block.marker[1].strip(), f"{page.name}:{block.line}: a skip needs a reason"
                counts[page.name] = counts.get(page.name, 0) + 1
    assert counts == {k: v for k, v in ALLOWED_SKIPS.items() if v}, counts


def test_every_requirement_is_known() -> None:
    for page in PAGES:
        for block in extract(page):
            if block.marker and block.marker[0] == "requires":
                for what in block.marker[1].split(","):
                    _available(what.strip())   # raises on an unknown kind


def test_pages_never_run_an_unlabelled_fence() -> None:
    """A fence without a language would be neither run nor marked as output."""
    for page in PAGES:
        for block in extract(page):
            assert block.lang, f"{page.name}:{block.line}: give the fence a language (python, bash, text...)"


def test_docs_build_without_warnings(tmp_path: Path) -> None:
    """The site builds with warnings as errors, every cross-reference resolved (``-n``; the docs extra)."""
    for module in ("sphinx", "myst_parser", "numpydoc", "furo"):
        pytest.importorskip(module, reason="the docs extra is not installed: pip install -e '.[docs]'")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-n", "-E", "-W", "--keep-going", "-q", "-b", "html",
                           str(DOCS), str(tmp_path / "html")], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert (tmp_path / "html" / "semantics.html").exists()
    assert (tmp_path / "html" / "api" / "selection.html").exists()


def test_no_file_points_to_a_document_outside_the_repository() -> None:
    """Every pointer to the semantics names docs/semantics.md; nothing names the old outside document."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    needle = "SP" + "EC"            # spelled apart so that this file does not match itself
    found = subprocess.run(["git", "grep", "-n", needle], cwd=ROOT, capture_output=True, text=True)
    assert found.returncode == 1 and found.stdout == "", found.stdout[:2000]
    assert (DOCS / "semantics.md").exists()
