"""fastzip.scale.ray: exact mode equals single-machine select; GreeDi is deterministic; resume after kill -9.

Marked ``ray``; skipped without Ray (pip install 'fastzip-select[ray]').
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

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'fastzip-select[ray]'")
pytest.importorskip("ray.data", reason="Ray Data is not installed: pip install 'fastzip-select[ray]'")
pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

import fastzip  # noqa: E402
from fastzip import scale  # noqa: E402
from fastzip.cli import main  # noqa: E402
from tests.helpers import ROOT  # noqa: E402

pytestmark = pytest.mark.ray
K = dict(k1=300, k2=60, k3=20)


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray for this module; more logical CPUs than cores, so actors and tasks never wait on each other.

    Shut down when the module ends (if it started it), so that later modules (the docs' Ray examples, which
    start their own) find none running."""
    started = not ray.is_initialized()
    if started:
        ray.init(address="local", num_cpus=4, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    yield ray
    if started:
        ray.shutdown()


def pools(evals_rows, chitchat_rows, faq_rows):
    return {"evals": evals_rows[:2500], "chitchat": chitchat_rows, "faq": faq_rows}


def with_ids(rows, step=7):
    return [{**r, "uid": i * step + 3} for i, r in enumerate(rows)]


# One block count in the default run; the others (a minute of Ray between them) in the slow set.
@pytest.mark.parametrize("blocks", [pytest.param(1, marks=pytest.mark.slow), 2,
                                    pytest.param(4, marks=pytest.mark.slow)])
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


@pytest.mark.parametrize("blocks", [pytest.param(1, marks=pytest.mark.slow), 3])
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


@pytest.mark.slow   # three Ray instances of their own: 45 s
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


# --- resume: a Dataset's selection, GreeDi's partitions and merges -----------
def engine_saves(monkeypatch, stop_at=None, where=""):
    """Save the engine's state after every round and record each saved round; stop (KeyboardInterrupt) once a
    state file under a path containing ``where`` holds round ``stop_at``: a run interrupted right there."""
    from fastzip.selection import checkpoint as ckpt

    monkeypatch.setattr(ckpt, "EVERY_ROUNDS", 1)
    real = ckpt.save_arrays
    saved = []

    def save_then_stop(path, arrays):
        real(path, arrays)
        if path.endswith(ckpt.ENGINE_FILE) and where in path:
            saved.append(json.loads(arrays["meta"].tobytes())["round_no"])
            if saved[-1] == stop_at:
                raise KeyboardInterrupt

    monkeypatch.setattr(ckpt, "save_arrays", save_then_stop)
    return saved


def uids(out):
    return [r["uid"] for r in out.take_all()]


def test_dataset_exact_checkpoint_resumes_after_interruption(ray_session, tmp_path, evals_rows, monkeypatch):
    """The driver's selection stopped after round 3 of 6 continues from round 4, also from rows in another order."""
    import fastzip.scale.ray as fr

    tagged = with_ids(evals_rows[:1500])
    kw = dict(id_column="uid", strategy="exact", k1=200, k2=40, k3=10)
    whole = uids(fr.select(ray.data.from_items(tagged, override_num_blocks=3), 60, **kw))
    saved = engine_saves(monkeypatch, stop_at=3)
    folder = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        fr.select(ray.data.from_items(tagged, override_num_blocks=3), 60, checkpoint=folder, **kw)
    assert saved == [1, 2, 3]
    saved.clear()
    # the same rows arriving in another order: the same input (the pool is "sorted by id")
    again = fr.select(ray.data.from_items(tagged[::-1], override_num_blocks=2), 60, checkpoint=folder, **kw)
    assert saved[0] == 4                     # rounds 1-3 were not run again
    assert uids(again) == whole
    assert (folder / "fastzip-input.json").exists() and (folder / "select" / "engine.npz").exists()


def test_dataset_checkpoint_refuses_another_run_in_one_line(ray_session, tmp_path, evals_rows):
    """Other arguments are refused before any work; another input (an edited, dropped or renumbered row) after the
    scoring pass identifies it; the same rows in another order and blocking are the same input."""
    import fastzip.scale.ray as fr
    from fastzip.errors import InputError

    tagged = with_ids(evals_rows[:600])
    kw = dict(id_column="uid", k1=100, k2=30, k3=10)
    folder = tmp_path / "ckpt"
    first = uids(fr.select(ray.data.from_items(tagged, override_num_blocks=2), 30, checkpoint=folder, **kw))

    def refused(ds, budget=30, **other):
        with pytest.raises(InputError) as exc:
            fr.select(ds, budget, checkpoint=folder, **{**kw, **other})
        message = str(exc.value)
        assert "made with other arguments or another input" in message and "\n" not in message
        return message

    # other arguments, on rows that scoring would refuse (an empty sample): refused before the scoring pass
    broken = ray.data.from_items([*tagged[:50], {"uid": -1, "instruction": ""}])
    refused(broken, budget=40)
    refused(broken, codec="zlib")
    refused(broken, strategy="greedi", partitions=2)
    refused(broken, k1=120)
    edited = [dict(r) for r in tagged]
    edited[17]["output"] = edited[17]["output"] + "!"
    refused(ray.data.from_items(edited))
    refused(ray.data.from_items(tagged[:-1]))
    refused(ray.data.from_items([{**r, "uid": r["uid"] + 1} for r in tagged]))
    shuffled = list(tagged)
    np.random.default_rng(5).shuffle(shuffled)
    assert uids(fr.select(ray.data.from_items(shuffled, override_num_blocks=3), 30, checkpoint=folder, **kw)) == first


def test_greedi_partitions_are_kept_and_reused(ray_session, tmp_path, evals_rows, monkeypatch):
    """A GreeDi run stopped after two of four partitions finished: the rerun selects only the other two, keeps
    the first two files untouched and gives the uninterrupted run's rows; another partitioning is refused."""
    import fastzip.scale.ray as fr
    from fastzip.errors import InputError

    tagged = with_ids(evals_rows[:2000])
    kw = dict(id_column="uid", strategy="greedi", partitions=4, seed=1, **K)
    ds = ray.data.from_items(tagged, override_num_blocks=3)
    whole = uids(fr.select(ds, 60, **kw))
    folder = tmp_path / "ckpt"
    parts = folder / "greedi"
    real = fr.save_arrays
    written = []

    def save_then_stop(path, arrays):
        real(path, arrays)
        if os.path.basename(path).startswith("part-"):
            written.append(path)
            if len(written) == 2:
                raise KeyboardInterrupt

    monkeypatch.setattr(fr, "save_arrays", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        fr.select(ds, 60, checkpoint=folder, **kw)
    monkeypatch.setattr(fr, "save_arrays", real)
    finished = {p: p.stat().st_mtime_ns for p in parts.glob("part-*.npz")}
    assert len(finished) == 2 and not (parts / "merge").exists()
    again = fr.select(ds, 60, checkpoint=folder, **kw)
    assert again.fastzip_trace["reused_partitions"] == 2 and again.fastzip_trace["partition_tasks"] == 2
    assert all(p.stat().st_mtime_ns == t for p, t in finished.items())       # reused, not written again
    assert len(list(parts.glob("part-*.npz"))) == 4 and (parts / "merge" / "engine.npz").exists()
    assert uids(again) == whole
    third = fr.select(ds, 60, checkpoint=folder, **kw)
    assert third.fastzip_trace["reused_partitions"] == 4 and third.fastzip_trace["partition_tasks"] == 0
    assert uids(third) == whole
    with pytest.raises(InputError, match="made with other arguments or another input"):
        fr.select(ds, 60, checkpoint=folder, **{**kw, "partitions": 3})
    with pytest.raises(InputError, match="made with other arguments or another input"):
        fr.select(ds, 60, checkpoint=folder, **{**kw, "seed": 2})


def test_greedi_tree_merge_results_are_reused(ray_session, tmp_path, evals_rows):
    """Each tree-merge task's result is kept; a rerun runs no partition and no merge task, with the same rows."""
    import fastzip.scale.ray as fr

    tagged = with_ids(evals_rows[:1500])
    kw = dict(id_column="uid", strategy="greedi", partitions=8, max_driver_samples=70, k1=100, k2=30, k3=10)
    ds = ray.data.from_items(tagged, override_num_blocks=2)
    whole = uids(fr.select(ds, 30, **kw))
    folder = tmp_path / "ckpt"
    first = fr.select(ds, 30, checkpoint=folder, **kw)
    merges = sorted((folder / "greedi").glob("merge-*.npz"))
    assert first.fastzip_trace["merge_levels"] >= 2 and merges
    assert first.fastzip_trace["reused_partitions"] == 0 and first.fastzip_trace["reused_merges"] == 0
    again = fr.select(ds, 30, checkpoint=folder, **kw)
    assert again.fastzip_trace["reused_partitions"] == 8 and again.fastzip_trace["partition_tasks"] == 0
    assert again.fastzip_trace["reused_merges"] == len(merges)
    assert uids(first) == uids(again) == whole


def test_files_greedi_final_merge_resumes(ray_session, tmp_path, data_dir, monkeypatch):
    """select_files with GreeDi stopped in the final merge (round 3 of 6): the rerun reuses all four partitions,
    continues the merge from round 4 and returns the uninterrupted run's indices and locations."""
    from fastzip.scale.ray import select_files

    split_jsonl(data_dir / "openai_evals_5k.jsonl", tmp_path / "sh", 1000)
    paths = sorted(str(p) for p in (tmp_path / "sh").iterdir())
    kw = dict(strategy="greedi", partitions=4, seed=2, k1=200, k2=40, k3=10)
    whole, where, _ = select_files(paths, 60, **kw)
    saved = engine_saves(monkeypatch, stop_at=3, where=os.path.join("greedi", "merge"))
    folder = str(tmp_path / "ckpt")
    with pytest.raises(KeyboardInterrupt):
        select_files(paths, 60, checkpoint=folder, **kw)
    assert saved == [1, 2, 3]
    saved.clear()
    got, got_where, trace = select_files(paths, 60, checkpoint=folder, **kw)
    assert trace["reused_partitions"] == 4 and trace["partition_tasks"] == 0
    assert saved[0] == 4                     # the merge continued from its saved state
    assert got.tolist() == whole.tolist() and np.array_equal(got_where, where)
    with pytest.raises(Exception, match="made with other arguments or another input"):
        select_files(paths, 60, checkpoint=folder, **{**kw, "max_driver_samples": 100})
