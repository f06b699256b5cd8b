"""fastzip.ray: exact mode equals single-machine select; GreeDi is deterministic; resume after kill -9.

Marked ``ray``; skipped without Ray (pip install 'fastzip[ray]').
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'fastzip[ray]'")
pytest.importorskip("ray.data", reason="Ray Data is not installed: pip install 'fastzip[ray]'")
pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

import fastzip  # noqa: E402
from fastzip import scale  # noqa: E402
from fastzip.cli import main  # noqa: E402
from tests.helpers import ROOT  # noqa: E402

pytestmark = pytest.mark.ray
K = dict(k1=300, k2=60, k3=20)


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for the session; more logical CPUs than cores, so actors and tasks never wait on each other."""
    if not ray.is_initialized():
        ray.init(address="local", num_cpus=4, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    yield ray
    ray.shutdown()


def pools(evals_rows, chitchat_rows, faq_rows):
    return {"evals": evals_rows[:2500], "chitchat": chitchat_rows, "faq": faq_rows}


def with_ids(rows, step=7):
    return [{**r, "uid": i * step + 3} for i, r in enumerate(rows)]


@pytest.mark.parametrize("blocks", [1, 2, 4])
def test_exact_equals_single_machine(ray_session, evals_rows, chitchat_rows, faq_rows, blocks):
    import fastzip.scale.ray as fr

    for name, rows in pools(evals_rows, chitchat_rows, faq_rows).items():
        budget = 60 if name != "faq" else 30
        tagged = with_ids(rows)
        ds = ray.data.from_items(tagged, override_num_blocks=blocks)
        out = fr.select(ds, budget, id_column="uid", text_field=None, strategy="exact", **K)
        got = out.take_all()
        # the uid field is part of each row; the text serializer reads the content fields only
        full = fastzip.select(rows, budget, **K)
        assert [r["uid"] for r in got] == [tagged[i]["uid"] for i in full.indices], name
        assert [r["fastzip_rank"] for r in got] == list(range(budget))
        assert out.fastzip_trace["strategy"] == "exact"
        assert out.fastzip_trace["pool"] == len(rows)
        assert out.fastzip_trace["ratio"] == pytest.approx(full.ratio)
        assert scale.prefilter_size(budget, K["k1"], K["k3"]) < len(rows) or name == "faq"


@pytest.mark.parametrize("blocks", [1, 3])
def test_exact_on_parquet_row_hash(ray_session, tmp_path, evals_rows, blocks):
    import fastzip.scale.ray as fr

    rows = evals_rows[:2000]
    (tmp_path / "pq").mkdir()
    table = pa.Table.from_pylist(rows)
    for i in range(2):
        pq.write_table(table.slice(i * 1000, 1000), tmp_path / "pq" / f"part-{i}.parquet")
    ds = ray.data.read_parquet(str(tmp_path / "pq"), include_row_hash=True, override_num_blocks=blocks)
    allrows = ds.take_all()
    hashes = np.array([r["row_hash"] for r in allrows], dtype=np.uint64).view(np.int64)
    out = fr.select(ds, 50, **K)
    got = out.take_all()
    assert "row_hash" in got[0] and "fastzip_rank" in got[0]
    # single machine: the pool sorted by id (row_hash as int64)
    order = np.argsort(hashes, kind="stable")
    pool = [{k: v for k, v in allrows[i].items() if k != "row_hash"} for i in order]
    full = fastzip.select(pool, 50, **K)
    got_ids = np.array([r["row_hash"] for r in got], dtype=np.uint64).view(np.int64)
    assert got_ids.tolist() == [int(hashes[order][i]) for i in full.indices]


def test_greedi_deterministic_across_blocks_and_seeds(ray_session, evals_rows):
    import fastzip.scale.ray as fr

    tagged = with_ids(evals_rows[:2000])
    picks = []
    for blocks in (1, 4):
        ds = ray.data.from_items(tagged, override_num_blocks=blocks)
        out = fr.select(ds, 60, id_column="uid", strategy="greedi", partitions=4, seed=1, **K)
        picks.append([r["uid"] for r in out.take_all()])
        assert out.fastzip_trace["partitions"] == 4 and out.fastzip_trace["quota"] == 60
    assert picks[0] == picks[1] and len(set(picks[0])) == 60
    other = fr.select(ray.data.from_items(tagged, override_num_blocks=2), 60, id_column="uid",
                      strategy="greedi", partitions=4, seed=2, **K)
    assert [r["uid"] for r in other.take_all()] != picks[0]      # the seed matters


def test_greedi_tree_merge(ray_session, evals_rows):
    import fastzip.scale.ray as fr

    tagged = with_ids(evals_rows[:1500])
    ds = ray.data.from_items(tagged, override_num_blocks=2)
    out = fr.select(ds, 30, id_column="uid", strategy="greedi", partitions=8, max_driver_samples=70,
                    k1=100, k2=30, k3=10)
    assert out.fastzip_trace["merge_levels"] >= 2
    assert len(out.take_all()) == 30


def test_partition_of_is_splitmix64():
    import fastzip.scale.ray as fr

    def ref(x):   # the published splitmix64 finalizer, with Python ints
        m = (1 << 64) - 1
        z = (x + 0x9E3779B97F4A7C15) & m
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
        return z ^ (z >> 31)

    ids = np.array([0, 1, 2, 12345, 2**40 + 7, -5], dtype=np.int64)
    got = fr.partition_of(ids, 99, 16)
    assert got.tolist() == [ref((int(i) & ((1 << 64) - 1)) ^ 99) % 16 for i in ids]


def test_errors(ray_session, faq_rows):
    import fastzip.scale.ray as fr
    from fastzip.errors import InputError

    ds = ray.data.from_items(faq_rows[:50])
    with pytest.raises(InputError, match="unique integer id"):
        fr.select(ds, 5)
    with pytest.raises(InputError, match="no column 'nope'"):
        fr.select(ds, 5, id_column="nope")
    bad = ray.data.from_items([{"uid": 0, "text": "a b c"}, {"uid": 1, "text": ""}])
    with pytest.raises(InputError, match="empty sample"):
        fr.select(bad, 1, id_column="uid")


# --- the command line ---------------------------------------------------------
def split_jsonl(src: Path, folder: Path, per: int) -> None:
    folder.mkdir()
    lines = src.read_bytes().splitlines(keepends=True)
    for i in range(0, len(lines), per):
        (folder / f"part-{i // per:04d}.jsonl").write_bytes(b"".join(lines[i:i + per]))


CLI_K = ["--k1", "300", "--k2", "60", "--k3", "20", "--quiet"]


def test_cli_ray_exact_equals_in_memory(ray_session, tmp_path, data_dir):
    src = data_dir / "openai_evals_5k.jsonl"
    split_jsonl(src, tmp_path / "sh", 900)
    assert main(["select", str(src), "-o", str(tmp_path / "mem.jsonl"), "--budget", "60", *CLI_K,
                 "--indices-out", str(tmp_path / "mem.json"), "--out-of-core", "off"]) == 0
    assert main(["select", "--ray", str(tmp_path / "sh"), "-o", str(tmp_path / "ray.jsonl"), "--budget", "60",
                 *CLI_K, "--indices-out", str(tmp_path / "ray.json")]) == 0
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "mem.jsonl").read_bytes()
    assert json.loads((tmp_path / "ray.json").read_text()) == json.loads((tmp_path / "mem.json").read_text())
    # a folder output goes through Ray Data's writers
    assert main(["select", "--ray", str(tmp_path / "sh" / "*.jsonl"), "-o", str(tmp_path / "out"),
                 "--budget", "60", *CLI_K]) == 0
    written = [json.loads(x) for f in sorted((tmp_path / "out").glob("*.json*")) for x in f.read_text().splitlines()]
    written.sort(key=lambda r: r["fastzip_rank"])
    mem = [json.loads(x) for x in (tmp_path / "mem.jsonl").read_text().splitlines()]
    assert [{k: v for k, v in r.items() if k != "fastzip_rank"} for r in written] == mem


def test_cli_ray_parquet_greedi(ray_session, tmp_path, evals_rows):
    (tmp_path / "pq").mkdir()
    table = pa.Table.from_pylist(evals_rows[:3000])
    for i in range(3):
        pq.write_table(table.slice(i * 1000, 1000), tmp_path / "pq" / f"p{i}.parquet")
    args = ["select", "--ray", str(tmp_path / "pq"), "--budget", "60", "--strategy", "greedi",
            "--partitions", "4", *CLI_K]
    assert main([*args, "-o", str(tmp_path / "a.parquet")]) == 0
    assert main([*args, "-o", str(tmp_path / "b.parquet")]) == 0
    a = pq.read_table(tmp_path / "a.parquet")
    assert a.num_rows == 60 and a.equals(pq.read_table(tmp_path / "b.parquet"))


# --- separate Ray instances: CPUs, nodes, kill -9 ----------------------------
GREEDI_SCRIPT = textwrap.dedent("""
    import json, sys
    import ray, fastzip.scale.ray as fr
    cpus, nodes = int(sys.argv[1]), int(sys.argv[2])
    rows = [json.loads(l) for l in open(sys.argv[3])][:2000]
    rows = [{**r, "uid": i * 7 + 3} for i, r in enumerate(rows)]
    if nodes == 1:
        ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    else:
        from ray.cluster_utils import Cluster
        cluster = Cluster()
        for _ in range(nodes):
            cluster.add_node(num_cpus=cpus)
        ray.init(address=cluster.address, log_to_driver=False, logging_level="ERROR")
        assert len([n for n in ray.nodes() if n["Alive"]]) == nodes
    ray.data.DataContext.get_current().enable_progress_bars = False
    ds = ray.data.from_items(rows, override_num_blocks=4)
    out = fr.select(ds, 60, id_column="uid", strategy="greedi", partitions=4, seed=3, k1=300, k2=60, k3=20)
    print("PICKS", json.dumps([r["uid"] for r in out.take_all()]))
    ray.shutdown()
""")


def run_isolated(args, timeout=300):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.run([sys.executable, "-c", GREEDI_SCRIPT, *args], capture_output=True, text=True,
                          env=env, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("PICKS ")][-1]
    return json.loads(line[6:])


def test_greedi_same_on_2_and_4_cpus_and_2_nodes(data_dir):
    src = str(data_dir / "openai_evals_5k.jsonl")
    two = run_isolated(["2", "1", src])
    assert len(two) == 60
    assert run_isolated(["4", "1", src]) == two
    assert run_isolated(["2", "2", src]) == two        # a 2-node ray.cluster_utils.Cluster


def test_kill_during_scoring_then_resume(tmp_path, data_dir):
    """kill -9 while shards are being scored; the rerun with --checkpoint reuses them and gives the same output."""
    split_jsonl(data_dir / "openai_evals_5k.jsonl", tmp_path / "sh", 60)   # 81 shards
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RAY_ADDRESS", None)
    ckpt = tmp_path / "ckpt"
    base = [sys.executable, "-m", "fastzip", "select", "--ray", str(tmp_path / "sh"), "--budget", "60", *CLI_K,
            "--codec", "zlib", "--level", "9"]
    proc = subprocess.Popen([*base, "-o", str(tmp_path / "killed.jsonl"), "--checkpoint", str(ckpt)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 240
    try:
        while time.time() < deadline and proc.poll() is None:
            if len(list(ckpt.glob("*/*.done"))) >= 3:
                break
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)      # the run and the Ray processes it started
        proc.wait()
    done = len(list(ckpt.glob("*/*.done")))
    assert done >= 3, "no shard finished before the kill"
    assert not (tmp_path / "killed.jsonl").exists()
    finished = {p: p.stat().st_mtime_ns for p in ckpt.glob("*/*.done")}
    assert subprocess.run([*base, "-o", str(tmp_path / "resumed.jsonl"), "--checkpoint", str(ckpt)], env=env,
                          capture_output=True, timeout=300).returncode == 0
    assert len(list(ckpt.glob("*/*.done"))) == 81
    assert all(p.stat().st_mtime_ns == t for p, t in finished.items())     # finished shards were reused
    assert main(["select", str(data_dir / "openai_evals_5k.jsonl"), "-o", str(tmp_path / "mem.jsonl"),
                 "--budget", "60", *CLI_K, "--codec", "zlib", "--level", "9", "--out-of-core", "off"]) == 0
    assert (tmp_path / "resumed.jsonl").read_bytes() == (tmp_path / "mem.jsonl").read_bytes()
