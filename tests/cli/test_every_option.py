"""Every option on every path: honoured, or refused in one line before any work.

Reproduces issue 21, Why 3 (out of core, --report wrote nothing and
--keep-duplicates was ignored, both exiting 0) and Why 6 (errors that pointed
the wrong way; --budget-bytes 100KB was "invalid int value").
"""
from __future__ import annotations

import argparse
import json
import types

import pytest

from fastzip.cli import main
from fastzip.cli import select as cli_select
from fastzip.cli.common import byte_size

SMALL = ["--budget", "5", "--k1", "50", "--k2", "10", "--k3", "5", "--quiet"]


@pytest.fixture
def shards(tmp_path, data_dir):
    lines = (data_dir / "faq_qa.jsonl").read_bytes().splitlines(keepends=True)
    root = tmp_path / "sh"
    root.mkdir()
    for k in range(0, len(lines), 200):
        (root / f"part-{k // 200}.jsonl").write_bytes(b"".join(lines[k:k + 200]))
    return root


@pytest.fixture
def no_work(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the refusal")
    for name in ("select", "select_shards", "select_files", "require_ray"):
        monkeypatch.setattr(cli_select, name, forbidden)
    monkeypatch.setattr(cli_select.io, "read_pool", forbidden)


def _one_line_exit_2(capsys, args, *needles):
    try:
        rc = main([str(a) for a in args])
    except SystemExit as exc:          # argparse's own errors (bad option values) exit from the parser
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1 and err.startswith("fastzip: error: "), err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.mark.parametrize("extra, needle", [
    (["--report", "r.html"], "--report is not available out of core"),
    (["--report", "r.html", "--ray"], "--report is not available with --ray"),
    (["--on-invalid", "skip"], "--on-invalid skip is not available out of core"),
    (["--on-invalid", "skip", "--ray"], "--on-invalid skip is not available with --ray"),
    (["--format", "json"], "each shard is read as its name says (jsonl), not as --format json"),
    (["--format", "json", "--ray"], "each shard is read as its name says (jsonl), not as --format json"),
    (["--partitions", "4"], "--partitions applies to --ray runs only"),
    (["--strategy", "greedi"], "--strategy applies to --ray runs only"),
    (["--ray", "--threads", "2"], "--threads does not apply to --ray runs"),
    (["--ray", "--out-of-core", "off"], "--out-of-core off contradicts it"),
])
def test_out_of_core_and_ray_refuse_what_they_cannot_honour(tmp_path, capsys, shards, no_work, extra, needle):
    _one_line_exit_2(capsys, ["select", shards, "-o", tmp_path / "o.jsonl", *SMALL, *extra], needle)
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "r.html").exists()


def test_budget_bytes_needs_the_in_memory_path(tmp_path, capsys, shards, no_work):
    _one_line_exit_2(capsys, ["select", shards, "-o", tmp_path / "o.jsonl", "--budget-bytes", "10KB", "--quiet"],
                     "need default mode with --budget")


def test_ray_gets_keep_duplicates_and_its_budget_error_says_duplicates_were_dropped(tmp_path, capsys, shards,
                                                                                     monkeypatch):
    seen = {}

    def fake_select_files(paths, budget, **kwargs):
        seen.update(kwargs)
        from fastzip.errors import UsageError
        raise UsageError(f"budget ({budget}) is larger than the pool (400 samples)")
    fake_ray = types.SimpleNamespace(is_initialized=lambda: True, data=types.SimpleNamespace(
        DataContext=types.SimpleNamespace(get_current=lambda: types.SimpleNamespace())))
    monkeypatch.setattr(cli_select, "require_ray", lambda: fake_ray)
    monkeypatch.setattr(cli_select, "select_files", fake_select_files)
    _one_line_exit_2(capsys, ["select", shards, "-o", tmp_path / "o.jsonl", "--ray", "--budget", "450", "--quiet"],
                     "(400 samples after dropping exact duplicates); --keep-duplicates keeps them")
    assert seen["dedupe"] is True
    assert main(["select", str(shards), "-o", str(tmp_path / "o.jsonl"), "--ray", "--budget", "450", "--quiet",
                 "--keep-duplicates"]) == 2
    assert seen["dedupe"] is False
    assert "after dropping" not in capsys.readouterr().err
    assert list(tmp_path.glob("o.jsonl*")) == [] and list(tmp_path.glob(".o.jsonl*")) == []


def test_out_of_core_honours_indices_out_and_keep_duplicates(tmp_path, capsys, shards):
    (shards / "part-9.jsonl").write_bytes((shards / "part-0.jsonl").read_bytes())    # 200 exact duplicates
    out, idx = tmp_path / "o.jsonl", tmp_path / "i.json"
    args = ["select", str(shards), "-o", str(out), "--indices-out", str(idx), "--budget", "10", "--k1", "681",
            "--k2", "50", "--k3", "10", "--quiet"]
    assert main(args) == 0
    dropped = json.loads(idx.read_text())
    assert main([*args, "--keep-duplicates"]) == 0
    kept = json.loads(idx.read_text())
    assert len(dropped) == len(kept) == 10
    assert max(dropped) < 481                 # the duplicates (pool indices 481..680) are gone
    lines = b"".join((shards / f).read_bytes() for f in sorted(p.name for p in shards.iterdir())).splitlines(True)
    assert out.read_bytes() == b"".join(lines[i] for i in kept)


@pytest.mark.parametrize("text, value", [("100000", 100000), ("1e5", 100000), ("100KB", 100000),
                                         ("1.5MiB", 1572864), ("2k", 2048), ("1GB", 10**9), ("64 KiB", 65536)])
def test_budget_bytes_accepts_sizes(text, value):
    assert byte_size(text) == value


@pytest.mark.parametrize("text", ["100XB", "abc", "0", "-5", "1.5", "0.0005KB", "inf", "nan", ""])
def test_budget_bytes_refuses_non_sizes(text):
    with pytest.raises(argparse.ArgumentTypeError):
        byte_size(text)


def test_budget_bytes_100kb_selects(tmp_path, capsys, data_dir):
    out = tmp_path / "o.jsonl"
    assert main(["select", str(data_dir / "faq_qa.jsonl"), "-o", str(out), "--budget-bytes", "100KB",
                 "--quiet"]) == 0
    assert 0 < len(out.read_bytes().splitlines())


@pytest.mark.parametrize("args, needles", [
    (["select", "{tmp}/nosuchdir/", "--budget", "3"], ["nosuchdir/: no such folder"]),
    (["select", "{tmp}/nosuch.jsonl", "--budget", "3"], ["nosuch.jsonl: no such file"]),
    (["ratio", "{tmp}"], ["is a folder; fastzip ratio measures one file"]),
    (["ratio", "{tmp}/nosuchdir/"], ["no such folder"]),
    (["ratio", "{tmp}/pool.json"], ["this looks like JSONL", "--format jsonl"]),
    (["select", "{tmp}/pool.jsonl", "--budget", "3", "-o", "{tmp}/out.csv"], ["does not write .csv files"]),
    (["select", "{tmp}/pool.jsonl", "--budget-bytes", "100XB"], ["'100XB' is not a size"]),
])
def test_errors_point_the_right_way(tmp_path, capsys, data_dir, args, needles):
    (tmp_path / "pool.json").write_bytes((data_dir / "faq_qa.jsonl").read_bytes())     # JSONL in a .json
    (tmp_path / "pool.jsonl").write_bytes((data_dir / "faq_qa.jsonl").read_bytes())
    args = [a.format(tmp=tmp_path) for a in args]
    if args[0] == "select" and "-o" not in args:
        args += ["-o", str(tmp_path / "o.jsonl")]
    _one_line_exit_2(capsys, args, *needles)
    assert "does not say the format" not in capsys.readouterr().err
    assert not list(tmp_path.glob("o*")) and not (tmp_path / "out.csv").exists()
