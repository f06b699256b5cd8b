"""Exit 2 writes nothing, ever: every output is proven writable before any work, and all are committed together.

Reproduces issue 21, Why 4: a ``--report`` that could not be written left the
``-o`` selection behind, and an unwritable output folder was found only after
the whole selection.
"""
from __future__ import annotations

import itertools
import os

import pytest

from fastzip.cli import main
from fastzip.cli import select as cli_select
from fastzip.errors import OutputError
from tests.helpers import SMALL_SELECT, files_in


def _unwritable_folder(tmp_path):
    """A folder where no file can be created, even by root (/sys refuses creation to root as well)."""
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        return folder
    try:
        os.close(os.open("/sys/.fastzip-probe", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:
        return type(tmp_path)("/sys")
    os.unlink("/sys/.fastzip-probe")
    pytest.skip("no folder here refuses file creation to root")


# each output option: not given, a good file, a file in an unwritable folder, a file in a missing folder
CHOICES = {"-o": ["good", "unwritable", "missing"], "--indices-out": [None, "good", "unwritable", "missing"],
           "--report": [None, "good", "unwritable", "missing", "badsuffix"]}
SUFFIX = {"-o": "sel.jsonl", "--indices-out": "idx.json", "--report": "rep.html"}


@pytest.mark.parametrize("shape", ["file", "folder"])
@pytest.mark.parametrize("combo", [c for c in itertools.product(*CHOICES.values())
                                   if any(v not in (None, "good") for v in c)])
def test_any_bad_output_exits_2_before_any_work_and_leaves_nothing(tmp_path, capsys, faq_copy, no_work, combo, shape):
    pytest.importorskip("matplotlib")
    bad = _unwritable_folder(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    args = ["select", str(faq_copy if shape == "file" else faq_copy.parent), *SMALL_SELECT]
    for option, choice in zip(CHOICES, combo):
        if choice is None:
            continue
        name = SUFFIX[option] if choice != "badsuffix" else "rep.txt"
        folder = {"good": out_dir, "unwritable": bad, "missing": tmp_path / "nosuch", "badsuffix": out_dir}[choice]
        args += [option, str(folder / name)]
    before_bad = sorted(os.listdir(bad))
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1 and err.startswith("fastzip: error: "), err
    assert files_in(out_dir) == {}
    assert sorted(os.listdir(bad)) == before_bad
    assert not (tmp_path / "nosuch").exists()
    assert sorted(os.listdir(faq_copy.parent)) == ["pool.jsonl"]


def test_the_unwritable_option_is_the_one_named(tmp_path, capsys, faq_copy, no_work):
    bad = _unwritable_folder(tmp_path)
    rc = main(["select", str(faq_copy), "-o", str(tmp_path / "sel.jsonl"), "--indices-out", str(bad / "idx.json"),
               *SMALL_SELECT])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{bad / 'idx.json'}: cannot write --indices-out here" in err, err


def test_a_report_failing_late_leaves_no_selection_behind(tmp_path, capsys, faq_copy, monkeypatch):
    """The original fault: the report failed after -o and --indices-out were already in place."""
    pytest.importorskip("matplotlib")

    def failing_report(result, path, *args, **kwargs):
        raise OutputError("cannot write the output: No space left on device", path=str(path))
    monkeypatch.setattr(cli_select.report, "write_report", failing_report)
    out, idx, rep = tmp_path / "sel.jsonl", tmp_path / "idx.json", tmp_path / "rep.html"
    rc = main(["select", str(faq_copy), "-o", str(out), "--indices-out", str(idx), "--report", str(rep), *SMALL_SELECT])
    assert rc == 2
    assert "No space left" in capsys.readouterr().err
    assert files_in(tmp_path) == {}                       # no selection, no indices, no temporary file


def test_every_output_is_committed_together_on_success(tmp_path, capsys, faq_copy):
    pytest.importorskip("matplotlib")
    out, idx, rep = tmp_path / "sel.jsonl", tmp_path / "idx.json", tmp_path / "rep.html"
    assert main(["select", str(faq_copy), "-o", str(out), "--indices-out", str(idx), "--report", str(rep),
                 *SMALL_SELECT]) == 0
    assert sorted(files_in(tmp_path)) == ["idx.json", "rep.html", "sel.jsonl"]


@pytest.mark.parametrize("fault", ["budget", "malformed", "empty-sample"])
@pytest.mark.parametrize("shape", ["file", "folder", "gz"])
def test_a_fault_found_during_the_run_leaves_no_output_at_all(tmp_path, capsys, faq_copy, fault, shape):
    """Every output reserved, then the run fails: all temporary files go, no output appears."""
    import gzip
    lines = faq_copy.read_bytes().splitlines(keepends=True)
    if fault == "malformed":
        lines[300] = b'{"instruction": "cut here\n'
    elif fault == "empty-sample":
        lines[300] = b'""\n'
    data = b"".join(lines)
    if shape == "gz":
        faq_copy.unlink()
        src = faq_copy.with_name("pool.jsonl.gz")
        src.write_bytes(gzip.compress(data))
    else:
        faq_copy.write_bytes(data)
        src = faq_copy if shape == "file" else faq_copy.parent
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    budget = "5000" if fault == "budget" else "5"
    args = ["select", str(src), "-o", str(out_dir / "sel.jsonl"), "--indices-out", str(out_dir / "idx.json"),
            "--budget", budget, "--k1", "50", "--k2", "10", "--k3", "5", "--quiet"]
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    assert os.listdir(out_dir) == []


def test_standard_output_is_held_back_until_every_file_is_committed(tmp_path, capsysbinary, faq_copy, monkeypatch):
    pytest.importorskip("matplotlib")

    def failing_report(result, path, *args, **kwargs):
        raise OutputError("cannot write the output: No space left on device", path=str(path))
    monkeypatch.setattr(cli_select.report, "write_report", failing_report)
    rc = main(["select", str(faq_copy), "-o", "-", "--report", str(tmp_path / "rep.html"), *SMALL_SELECT])
    captured = capsysbinary.readouterr()
    assert rc == 2 and captured.out == b""                      # no selection on stdout either
    monkeypatch.undo()
    assert main(["select", str(faq_copy), "-o", "-", "--indices-out", str(tmp_path / "idx.json"), *SMALL_SELECT]) == 0
    assert len(capsysbinary.readouterr().out.splitlines()) == 5
