"""Committing a run's outputs: all of them or none, even when a rename fails half way.

Reproduces the review's section 2 (second bullet of "Where"): ``staged_outputs``
renamed one output after another with no rollback, so when a later rename
failed the earlier outputs were already replaced, and a remote output was put
before the local renames.
"""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import pytest

from fastzip.cli import main
from fastzip.errors import OutputError
from fastzip.io import write as fio_write
from fastzip.io.write import staged_outputs, write_bytes_atomic
from tests.helpers import SMALL_SELECT, files_in


def _fail_on_call(monkeypatch, number: int) -> list[tuple[str, str]]:
    """Make the ``number``-th rename of an output into place fail as a failing disk would; the rest pass."""
    real = os.replace
    calls: list[tuple[str, str]] = []

    def replace(src, dst):
        if ".fastzip-" in os.path.basename(src):      # an output's temporary file or kept old file (not scratch)
            calls.append((os.fspath(src), os.fspath(dst)))
            if len(calls) == number:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
        real(src, dst)
    monkeypatch.setattr(fio_write.os, "replace", replace)
    return calls


@pytest.mark.parametrize("old", [True, False], ids=["old-outputs", "no-old-outputs"])
@pytest.mark.parametrize("mode", ["off", "on"])
def test_a_failed_second_rename_puts_the_first_output_back(tmp_path, capsys, faq_copy, monkeypatch, old, mode):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out, idx = out_dir / "sel.jsonl", out_dir / "idx.json"
    if old:
        out.write_bytes(b"old selection\n")
        idx.write_bytes(b"[0]\n")
    before = files_in(out_dir)
    calls = _fail_on_call(monkeypatch, 2)
    rc = main(["select", str(faq_copy), "-o", str(out), "--indices-out", str(idx), *SMALL_SELECT,
               "--out-of-core", mode])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    assert calls[0][1] == str(out) and calls[1][1] == str(idx)       # -o was renamed into place first ...
    assert files_in(out_dir) == before                                  # ... and put back: no trace of the run
    assert "idx.json: cannot write the output" in err and "nothing was written" in err, err


def test_a_folder_that_appears_at_a_later_output_during_the_run_changes_nothing(tmp_path):
    first, second = tmp_path / "sel.jsonl", tmp_path / "idx.json"
    first.write_bytes(b"old selection\n")
    with pytest.raises(OutputError, match=r"idx\.json: --indices-out: is a directory; .*nothing was written"):
        with staged_outputs([("-o", str(first)), ("--indices-out", str(second))]):
            write_bytes_atomic(str(first), b"new selection\n")
            write_bytes_atomic(str(second), b"[1, 2]\n")
            second.mkdir()                                            # another process, during the run
    assert first.read_bytes() == b"old selection\n"
    assert sorted(os.listdir(tmp_path)) == ["idx.json", "sel.jsonl"] and second.is_dir()


def test_an_interrupt_between_two_renames_puts_the_first_back(tmp_path, monkeypatch):
    first, second = tmp_path / "sel.jsonl", tmp_path / "idx.json"
    first.write_bytes(b"old selection\n")
    real = os.replace

    def replace_then_interrupt(src, dst):
        real(src, dst)
        if os.fspath(dst) == str(first) and os.path.basename(src).endswith(".tmp"):
            raise KeyboardInterrupt                                   # Ctrl-C right after the first rename
    monkeypatch.setattr(fio_write.os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        with staged_outputs([("-o", str(first)), ("--indices-out", str(second))]):
            write_bytes_atomic(str(first), b"new selection\n")
            write_bytes_atomic(str(second), b"[1, 2]\n")
    assert files_in(tmp_path) == {"sel.jsonl": b"old selection\n"}


def test_a_remote_output_is_put_only_after_every_local_rename(tmp_path, monkeypatch):
    fsspec = pytest.importorskip("fsspec", reason="the remote extra is not installed")
    fs = fsspec.filesystem("memory")
    remote = f"memory://commit-{os.getpid()}/sel.jsonl"
    local = tmp_path / "idx.json"
    local.write_bytes(b"[0]\n")
    _fail_on_call(monkeypatch, 1)
    with pytest.raises(OutputError, match="idx.json: cannot write the output"):
        with staged_outputs([("-o", remote), ("--indices-out", str(local))]):
            write_bytes_atomic(remote, b"new selection\n")
            write_bytes_atomic(str(local), b"[1, 2]\n")
    assert not fs.exists(remote.split("://", 1)[1])                   # the object was never put
    assert files_in(tmp_path) == {"idx.json": b"[0]\n"}
    monkeypatch.undo()
    with staged_outputs([("-o", remote), ("--indices-out", str(local))]):
        write_bytes_atomic(remote, b"new selection\n")
        write_bytes_atomic(str(local), b"[1, 2]\n")
    assert fs.cat_file(remote.split("://", 1)[1]) == b"new selection\n"
    assert json.loads(local.read_bytes()) == [1, 2] and files_in(tmp_path) == {"idx.json": b"[1, 2]\n"}
    fs.rm(remote.split("://", 1)[1].rsplit("/", 1)[0], recursive=True)


def test_a_killed_commits_kept_old_output_is_removed_by_the_next_run(tmp_path, capsys, faq_copy):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "o.jsonl"
    kept = tmp_path / f".o.jsonl.fastzip-{dead.pid}-abc123.old"
    kept.write_text("old output, kept while a killed run committed")
    assert main(["select", str(faq_copy), "-o", str(out), *SMALL_SELECT]) == 0
    assert not kept.exists() and sorted(os.listdir(tmp_path)) == ["in", "o.jsonl"]
