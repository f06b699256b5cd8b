"""Out-of-core select: one streaming pass over shards gives the in-memory result."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from fastzip import scale
from fastzip.cli import main
from fastzip.scale import ooc as shards

K = ["--k1", "400", "--k2", "60", "--k3", "20"]


def split_jsonl(src, folder, lines_per_shard):
    folder.mkdir()
    lines = src.read_bytes().splitlines(keepends=True)
    for i in range(0, len(lines), lines_per_shard):
        (folder / f"part-{i // lines_per_shard:03d}.jsonl").write_bytes(b"".join(lines[i:i + lines_per_shard]))
    return lines


def run(*argv):
    assert main(["select", *argv, "--quiet"]) == 0


def test_folder_and_glob_equal_in_memory(tmp_path, data_dir):
    src = data_dir / "openai_evals_5k.jsonl"
    split_jsonl(src, tmp_path / "sh", 1000)
    run(str(src), "-o", str(tmp_path / "mem.jsonl"), "--budget", "100", *K, "--indices-out", str(tmp_path / "mem.json"),
        "--out-of-core", "off")
    run(str(tmp_path / "sh"), "-o", str(tmp_path / "ooc.jsonl"), "--budget", "100", *K,
        "--indices-out", str(tmp_path / "ooc.json"))
    run(str(tmp_path / "sh" / "*.jsonl"), "-o", str(tmp_path / "glob.jsonl"), "--budget", "100", *K)
    run(str(src), "-o", str(tmp_path / "one.jsonl"), "--budget", "100", *K, "--out-of-core", "on")
    mem = (tmp_path / "mem.jsonl").read_bytes()
    assert len(mem.splitlines()) == 100
    for name in ("ooc.jsonl", "glob.jsonl", "one.jsonl"):
        assert (tmp_path / name).read_bytes() == mem, name
    assert json.loads((tmp_path / "ooc.json").read_text()) == json.loads((tmp_path / "mem.json").read_text())


def test_prefilter_really_drops_and_result_is_the_same(data_dir, evals_rows):
    import fastzip

    res = shards.select_shards(str(data_dir / "openai_evals_5k.jsonl"), 100, k1=400, k2=60, k3=20, batch_size=333)
    assert res.pool_size == len(evals_rows)
    assert res.kept == scale.prefilter_size(100, 400, 20) < res.pool_size
    full = fastzip.select(evals_rows, 100, k1=400, k2=60, k3=20)
    assert np.array_equal(res.indices, full.indices)
    assert res.ratio == pytest.approx(full.ratio)


def test_small_pool_behaves_as_today(tmp_path, data_dir):
    src = data_dir / "faq_qa.jsonl"
    run(str(src), "-o", str(tmp_path / "mem.jsonl"), "--budget", "30", "--out-of-core", "off")
    run(str(src), "-o", str(tmp_path / "ooc.jsonl"), "--budget", "30", "--out-of-core", "on")
    assert (tmp_path / "ooc.jsonl").read_bytes() == (tmp_path / "mem.jsonl").read_bytes()


def test_parquet_shards_equal_in_memory(tmp_path, evals_rows):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = evals_rows[:3000]
    table = pa.Table.from_pylist(rows)
    pq.write_table(table, tmp_path / "pool.parquet", row_group_size=700)
    (tmp_path / "sh").mkdir()
    for i in range(3):
        pq.write_table(table.slice(i * 1000, 1000), tmp_path / "sh" / f"p{i}.parquet", row_group_size=300)
    run(str(tmp_path / "pool.parquet"), "-o", str(tmp_path / "mem.parquet"), "--budget", "80", *K,
        "--out-of-core", "off")
    run(str(tmp_path / "sh"), "-o", str(tmp_path / "ooc.parquet"), "--budget", "80", *K)
    run(str(tmp_path / "pool.parquet"), "-o", str(tmp_path / "one.parquet"), "--budget", "80", *K,
        "--out-of-core", "on")
    mem = pq.read_table(tmp_path / "mem.parquet")
    assert mem.num_rows == 80
    assert pq.read_table(tmp_path / "ooc.parquet").equals(mem)
    assert pq.read_table(tmp_path / "one.parquet").equals(mem)
    # Parquet in, JSONL out: the same records
    run(str(tmp_path / "sh"), "-o", str(tmp_path / "ooc.jsonl"), "--budget", "80", *K)
    assert [json.loads(x) for x in (tmp_path / "ooc.jsonl").read_text().splitlines()] == mem.to_pylist()


def test_errors_name_shard_record_and_line(tmp_path, data_dir, capsys):
    split_jsonl(data_dir / "faq_qa.jsonl", tmp_path / "sh", 200)
    bad = tmp_path / "sh" / "part-001.jsonl"
    lines = bad.read_text().splitlines(keepends=True)
    lines[5] = "{not json\n"
    bad.write_text("".join(lines))
    out = tmp_path / "out.jsonl"
    assert main(["select", str(tmp_path / "sh"), "-o", str(out), "--budget", "10", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "part-001.jsonl: record 205 (line 6): malformed JSON" in err
    assert not out.exists()
    lines[5] = json.dumps({"text": ""}) + "\n"
    bad.write_text("".join(lines))
    assert main(["select", str(tmp_path / "sh"), "-o", str(out), "--budget", "10", "--quiet"]) == 2
    assert "part-001.jsonl: record 205 (line 6): empty sample" in capsys.readouterr().err


def test_refusals(tmp_path, data_dir, capsys):
    split_jsonl(data_dir / "faq_qa.jsonl", tmp_path / "sh", 200)
    out = str(tmp_path / "o.jsonl")
    assert main(["select", str(tmp_path / "sh"), "-o", out, "--budget", "1000", "--quiet"]) == 2
    assert "budget (1000) is larger than the pool (481 samples)" in capsys.readouterr().err
    assert main(["select", str(tmp_path / "sh"), "-o", out, "--budget-bytes", "1000", "--quiet"]) == 2
    assert "need default mode with --budget" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["select", str(tmp_path / "empty"), "-o", out, "--budget", "3", "--quiet"]) == 2
    assert "holds no .jsonl" in capsys.readouterr().err
    assert main(["select", str(tmp_path / "nothing-*.jsonl"), "-o", out, "--budget", "3", "--quiet"]) == 2
    assert "no file matches" in capsys.readouterr().err
    assert not os.path.exists(out)


def test_stdout_output(tmp_path, data_dir, capsysbinary):
    src = data_dir / "openai_evals_5k.jsonl"
    split_jsonl(src, tmp_path / "sh", 1000)
    run(str(src), "-o", str(tmp_path / "mem.jsonl"), "--budget", "40", *K, "--out-of-core", "off")
    capsysbinary.readouterr()
    run(str(tmp_path / "sh"), "-o", "-", "--budget", "40", *K)
    assert capsysbinary.readouterr().out == (tmp_path / "mem.jsonl").read_bytes()


def test_a_shard_changed_during_the_run_fails_and_writes_nothing(tmp_path, data_dir, monkeypatch, capsys):
    """The chosen records are copied out of the shards by offset: a changed shard must stop the run."""
    split_jsonl(data_dir / "openai_evals_5k.jsonl", tmp_path / "sh", 1000)
    real = shards._select_kept

    def select_then_change_a_shard(*args, **kwargs):
        part = real(*args, **kwargs)
        with open(tmp_path / "sh" / "part-002.jsonl", "ab") as f:
            f.write(b'{"text": "appended while the run was going"}\n')
        return part

    monkeypatch.setattr(shards, "_select_kept", select_then_change_a_shard)
    out = tmp_path / "ooc.jsonl"
    assert main(["select", str(tmp_path / "sh"), "-o", str(out), "--budget", "100", *K, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "part-002.jsonl" in err[0] and "changed during the run" in err[0]
    assert not out.exists()
