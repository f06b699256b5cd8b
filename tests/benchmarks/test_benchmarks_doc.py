"""docs/benchmarks.md is exactly what bench/render_benchmarks.py writes from the committed results JSON.

So is the README's table of headline figures.  Neither is edited by hand:
after a benchmark run, ``python bench/render_benchmarks.py`` rewrites them.  These tests fail when the page and
the JSON disagree, and check the hand-kept ledger (bench/results/recorded.json)
says for every figure set how it was measured.
"""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers import ROOT

RESULTS = ROOT / "bench" / "results"
PAGE = ROOT / "docs" / "benchmarks.md"
README = ROOT / "README.md"


def _generator() -> ModuleType:
    """bench/render_benchmarks.py, loaded from its file (bench/ is not a package)."""
    path = ROOT / "bench" / "render_benchmarks.py"
    spec = importlib.util.spec_from_file_location("render_benchmarks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return _generator()


@pytest.fixture(scope="module")
def ledger() -> dict:
    with open(RESULTS / "recorded.json", encoding="utf-8") as f:
        return json.load(f)


def test_page_is_what_the_generator_writes(generator: ModuleType) -> None:
    expected = generator.render(RESULTS)
    actual = PAGE.read_text(encoding="utf-8")
    if actual != expected:
        diff = [f"line {i + 1}: page {a!r} / generated {b!r}"
                for i, (a, b) in enumerate(zip(actual.splitlines(), expected.splitlines())) if a != b]
        pytest.fail("docs/benchmarks.md differs from what bench/render_benchmarks.py writes from "
                    "bench/results/*.json; run `python bench/render_benchmarks.py` (never edit the page by hand)\n"
                    + "\n".join(diff[:10] or [f"{len(actual.splitlines())} lines against "
                                              f"{len(expected.splitlines())}"]))


def test_readme_table_is_what_the_generator_writes(generator: ModuleType) -> None:
    readme = README.read_text(encoding="utf-8")
    assert readme == generator.render_readme(readme, RESULTS), (
        "README.md's headline table differs from what bench/render_benchmarks.py writes; run it")
    start = readme.index(generator.HEADLINE_START)
    table = readme[start:readme.index(generator.HEADLINE_END)].splitlines()[1:]
    assert len(table) >= 4 and all(line.startswith("|") for line in table)
    assert all(line.rstrip(" |").endswith("`") for line in table[2:]), "every headline figure names its command"


def test_check_option_agrees(generator: ModuleType) -> None:
    assert generator.main(["--check"]) == 0


def test_page_follows_the_json(generator: ModuleType, tmp_path: Path) -> None:
    """A figure changed in a result file changes the page: the page is drawn from the JSON, not kept beside it."""
    copy = tmp_path / "results"
    shutil.copytree(RESULTS, copy)
    bench = json.loads((copy / "bench.json").read_text(encoding="utf-8"))
    memory = next(b for b in bench["benchmarks"] if b.get("group") == "memory")
    memory["extra_info"]["peak_rss_bytes"] = 123_456_789
    (copy / "bench.json").write_text(json.dumps(bench), encoding="utf-8")
    ledger = json.loads((copy / "recorded.json").read_text(encoding="utf-8"))
    ledger["recorded"][0]["rows"][0][2] = 987_654
    (copy / "recorded.json").write_text(json.dumps(ledger), encoding="utf-8")
    page = generator.render(copy)
    assert page != generator.render(RESULTS)
    assert "| 123 MB |" in page and "987,654" in page


def test_every_figure_set_says_how_it_was_measured(ledger: dict) -> None:
    entries = list(ledger["sources"].items()) + [(e["id"], e) for e in ledger["recorded"]]
    for name, entry in entries:
        assert entry["command"].strip(), name
        assert entry["machine"] in ledger["machines"], name
        for part in entry["versions"].split(","):
            assert part.strip(), name
        assert entry["versions"].split(",")[0].strip() in ledger["versions"], name
        assert isinstance(entry["under_load"], bool), name
    for entry in ledger["recorded"]:
        assert entry["rows"], entry["id"]
        assert all(len(row) == len(entry["columns"]) for row in entry["rows"]), entry["id"]
        assert entry.get("recorded") is None or re.fullmatch(r"\d{4}-\d\d-\d\d", entry["recorded"]), entry["id"]


def test_figures_measured_under_load_are_marked(generator: ModuleType, ledger: dict) -> None:
    page = PAGE.read_text(encoding="utf-8")
    flagged = [e for e in ledger["recorded"] if e["under_load"]]
    flagged += [dict(s, id=k) for k, s in ledger["sources"].items() if s["under_load"]]
    assert flagged, "the ledger flags no figure set as measured under load"
    assert page.count(generator.UNDER_LOAD) == len(flagged)
    for entry in ledger["recorded"]:
        section = page.split(f"### {entry['title']}\n", 1)[1].split("\n### ", 1)[0]
        assert (generator.UNDER_LOAD in section) == entry["under_load"], entry["id"]


def test_commands_name_files_that_exist() -> None:
    page = PAGE.read_text(encoding="utf-8")
    named = set(re.findall(r"\bbench/[\w/]+\.py\b", page))
    assert named, "the page names no benchmark file"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, missing


def test_every_result_file_is_on_the_page(ledger: dict) -> None:
    on_disk = {p.name for p in RESULTS.glob("*.json")} - {"recorded.json"}
    assert on_disk == set(ledger["sources"]), "a result file has no entry in recorded.json's sources"
    page = PAGE.read_text(encoding="utf-8")
    for name in on_disk:
        assert f"bench/results/{name}" in page, name
