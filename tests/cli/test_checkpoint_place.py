"""``--checkpoint`` is checked like an output: before any work, never in an input, never an output, local only.

A run that fails on bad input or arguments leaves no checkpoint folder (it
could never resume, and would refuse the corrected rerun), and options the
run would not use are refused rather than ignored.
"""
from __future__ import annotations

import io
import json
import os
import sys

import pytest

from fastzip.cli import main
from tests.helpers import SMALL_SELECT


def _tree(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _refused(capsys, args: list[str], *words: str) -> str:
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1 and err.startswith("fastzip: error: "), err
    for word in words:
        assert word in err, err
    return err


@pytest.mark.parametrize("place", ["output", "indices", "in-input-folder", "in-glob-folder", "holds-input",
                                   "s3", "memory", "missing-parent"])
def test_a_bad_checkpoint_folder_is_refused_before_any_work(tmp_path, capsys, faq_copy, no_work, place):
    out = tmp_path / "sel.jsonl"
    inputs = {"in-input-folder": str(faq_copy.parent), "in-glob-folder": str(faq_copy.parent / "*.jsonl")}
    args = ["select", inputs.get(place, str(faq_copy)), "-o", str(out), *SMALL_SELECT]
    folder = {"output": str(out), "indices": str(tmp_path / "idx.json"), "in-input-folder": str(faq_copy.parent / "ck"),
              "in-glob-folder": str(faq_copy.parent / "ck"), "holds-input": str(tmp_path), "s3": "s3://bucket/ck",
              "memory": "memory://ck", "missing-parent": str(tmp_path / "no" / "such" / "ck")}[place]
    if place == "indices":
        args += ["--indices-out", folder]
    before = _tree(tmp_path)
    _refused(capsys, [*args, "--checkpoint", folder], folder)
    assert _tree(tmp_path) == before           # nothing created, the input folder untouched


def test_a_file_url_checkpoint_is_the_local_folder_and_resumes(tmp_path, capsys, faq_copy):
    folder = tmp_path / "ck"
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["select", str(faq_copy), "-o", str(first), *SMALL_SELECT, "--checkpoint", f"file://{folder}"]) == 0
    assert sorted(os.listdir(folder)) == ["engine.npz", "fastzip-checkpoint.json"]
    assert main(["select", str(faq_copy), "-o", str(second), *SMALL_SELECT, "--checkpoint", str(folder)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("file:")]


@pytest.mark.parametrize("fault", ["budget", "text-field"])
def test_a_run_failing_on_bad_arguments_leaves_no_checkpoint_and_the_rerun_works(tmp_path, capsys, faq_copy, fault):
    """Out of core the folder is opened before the pool is read: it goes again on bad input."""
    folder = tmp_path / "ck"
    out = tmp_path / "sel.jsonl"
    bad = {"budget": ["--budget", "500"], "text-field": ["--text-field", "nope"]}[fault]
    args = ["select", str(faq_copy), "-o", str(out), "--out-of-core", "on", "--checkpoint", str(folder), "--quiet"]
    _refused(capsys, [*args, *(bad if fault == "budget" else ["--budget", "5", *bad])])
    assert not folder.exists() and not out.exists()
    assert main([*args, "--budget", "5"]) == 0
    assert out.exists() and folder.is_dir()


def test_a_damaged_checkpoint_is_one_line(tmp_path, capsys, faq_copy):
    folder = tmp_path / "ck"
    args = ["select", str(faq_copy), "-o", str(tmp_path / "sel.jsonl"), *SMALL_SELECT, "--checkpoint", str(folder)]
    assert main(args) == 0
    engine = folder / "engine.npz"
    engine.write_bytes(engine.read_bytes()[:300])
    _refused(capsys, args, "engine.npz", "unreadable checkpoint")


def test_a_ray_run_needs_files(tmp_path, capsys, no_work):
    _refused(capsys, ["select", "-o", str(tmp_path / "s.jsonl"), "--ray", *SMALL_SELECT], "--ray", "give INPUT")


@pytest.mark.parametrize("source", ["stdin", "bundled"])
def test_out_of_core_on_refuses_an_input_read_once(tmp_path, capsys, faq_copy, monkeypatch, no_work, source):
    args = ["select", "-o", str(tmp_path / "s.jsonl"), "--out-of-core", "on", *SMALL_SELECT]
    if source == "stdin":
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(faq_copy.read_bytes())))
        args = ["select", "-", "--format", "jsonl", *args[1:]]
    _refused(capsys, args, "--out-of-core on")


@pytest.mark.parametrize("option", [["--partitions", "3"], ["--oversample", "2"], ["--seed", "5"]])
def test_greedi_options_are_refused_with_the_exact_strategy(tmp_path, capsys, faq_copy, no_work, option):
    _refused(capsys, ["select", str(faq_copy), "-o", str(tmp_path / "s.jsonl"), "--ray", "--strategy", "exact",
                      *SMALL_SELECT, *option], option[0], "--strategy exact")


@pytest.mark.parametrize("option", [["--oversample", "4.0"], ["--seed", "0"]])
def test_a_ray_option_given_at_its_default_is_still_refused_without_ray(tmp_path, capsys, faq_copy, no_work, option):
    _refused(capsys, ["select", str(faq_copy), "-o", str(tmp_path / "s.jsonl"), *SMALL_SELECT, *option],
             option[0], "--ray")


def test_a_token_count_past_int64_is_one_line(tmp_path, capsys, faq_copy):
    rows = [json.loads(line) for line in faq_copy.read_text(encoding="utf-8").splitlines()[:2]]
    rows[0]["n"], rows[1]["n"] = 100, 2**70
    src = tmp_path / "tok.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    _refused(capsys, ["select", str(src), "-o", str(tmp_path / "s.jsonl"), "--budget-tokens", "2000",
                      "--token-field", "n", "--quiet"], "record 1", "more than a count can hold")


def test_remote_shards_resume_from_a_local_checkpoint_and_show_progress(tmp_path, capsys, faq_copy):
    """Out of core over remote shards: the checkpoint's key names them by URL and size, and both bars show."""
    fsspec = pytest.importorskip("fsspec", reason="the remote extra is not installed")
    fs = fsspec.filesystem("memory")
    lines = faq_copy.read_bytes().splitlines(keepends=True)
    root = f"/ck{os.getpid()}"
    fs.pipe_file(f"{root}/a.jsonl", b"".join(lines[:250]))
    fs.pipe_file(f"{root}/b/c.jsonl", b"".join(lines[250:]))
    try:
        outs, errs = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"], []
        for out in outs:
            assert main(["select", f"memory:/{root}", "-o", str(out), "--budget", "5", "--k1", "50", "--k2", "10",
                         "--k3", "5", "--checkpoint", str(tmp_path / "ck")]) == 0
            errs.append(capsys.readouterr().err)
        assert "fastzip score" in errs[0] and "481 records" in errs[0], errs[0]     # the scoring bar, of records
        assert all("fastzip select:" in err and "out of core" in err for err in errs), errs
        assert outs[0].read_bytes() == outs[1].read_bytes()
    finally:
        fs.rm(root, recursive=True)


@pytest.mark.parametrize("extra, message", [
    (["--compat", "reference", "--level", "6", "--budget", "5"], "--compat reference always uses zlib level 9"),
    (["--compat", "reference", "--budget", "5", "--checkpoint", "ck"], "--checkpoint needs the default mode"),
    (["--out-of-core", "off", "--budget", "5"], "--out-of-core off reads one file in memory")])
def test_a_refusal_names_the_options_given(tmp_path, capsys, faq_copy, no_work, extra, message):
    src = str(faq_copy.parent) if "off" in extra else str(faq_copy)
    _refused(capsys, ["select", src, "-o", str(tmp_path / "s.jsonl"), "--quiet", *extra], message)


def test_out_of_core_on_refuses_a_pipe(tmp_path, capsys, no_work):
    fifo = tmp_path / "pool.jsonl"
    os.mkfifo(fifo)
    _refused(capsys, ["select", str(fifo), "-o", str(tmp_path / "s.jsonl"), "--out-of-core", "on", *SMALL_SELECT],
             "a pipe or device can be read once")
