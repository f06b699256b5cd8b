"""Selection end to end on ShareGPT pairs: per codec, per thread count, and against the pool size.

Run:  pytest bench/bench_scaling.py --benchmark-only --benchmark-group-by=group

Groups
* ``select 500 of 5k per codec and threads``: default mode with zlib-9,
  zstd-3 and lz4-0, and compat mode, each with 1 and 2 threads.
* ``selection scaling``: pools of 1k, 2k, 5k, 10k and 20k pairs, budget 10%,
  k1 = min(10000, pool), k2 = 200, k3 = 100, for default mode (zstd-3),
  compat mode (20k is marked slow: about 2 minutes on 2 cores) and the naive
  reference (bench/naive_reference.py; 1k and 2k; 5k is slow, about 7
  minutes; larger pools would take far beyond 10 minutes).

* ``selection at scale (evals)``: 20,000 of 300,000 and (slow) 100,000 of
  900,000 samples of every OpenAI eval (``pip install --no-deps
  evals==3.0.1.post1``), K 10000/200/100, 2 threads, default mode with zstd-3
  and with the lz77 cost codec in the same run.  Each records its per-round
  wall times from ``SelectionResult.trace`` and ``flatness``: the mean time
  of the last 50 rounds over the mean of rounds 11-60 (1.0: a pick costs the
  same at any selection size), and ``cpu_flatness``, the same with each
  round's process CPU time (far less disturbed by other jobs).  Targets (``test_scale_targets``): lz77 is
  >= 2.5x faster than zstd-3 at 20k of 300k and >= 10x at 100k of 900k, with
  flatness <= 1.5.

Skipped when the ShareGPT package is missing (see bench/corpora.py).
Checks: default mode picks exactly the budget without repeats; results do
not depend on the thread count (when both thread counts ran); compat indices
equal the naive reference's.  Indices and figures travel between tests in the
``bench_results`` fixture (bench/conftest.py).
"""
from __future__ import annotations

import functools

import corpora
import pytest
import rounds
from codec_matrix import codec_label
from naive_reference import naive_zip

import fastzip
from fastzip.samples.pool import Pool

PER_CODEC_POOL = 5000
PER_CODEC_MODES = [("default", "zlib", 9), ("default", "zstd", 3), ("default", "lz4", 0),
                   ("compat", "zlib", 9)]
POOL_SIZES = [1000, 2000, 5000, 10000, 20000]
# compat at 20k takes about 2 minutes on 2 cores: slow, to keep the fast suite under 10 minutes
SCALING_CASES = ([("default", n) for n in POOL_SIZES]
                 + [pytest.param("compat", n, marks=[pytest.mark.slow] if n > 10000 else [])
                    for n in POOL_SIZES])
NAIVE_POOL_SIZES = [1000, 2000, pytest.param(5000, marks=pytest.mark.slow)]
BUDGET_FRACTION = 10
K2, K3 = 200, 100


def k_values(pool_size: int) -> dict:
    """The default K values, clamped to the pool."""
    return {"k1": min(10000, pool_size), "k2": K2, "k3": K3}


def run_select(pool: list, mode: str, codec: str, level: int, threads: int) -> fastzip.SelectionResult:
    budget = len(pool) // BUDGET_FRACTION
    if mode == "compat":
        return fastzip.select(pool, budget, **k_values(len(pool)), compat="reference", n_threads=threads)
    return fastzip.select(pool, budget, **k_values(len(pool)), codec=codec, level=level, n_threads=threads)


def check_selection(result, pool_size: int, mode: str) -> None:
    budget = pool_size // BUDGET_FRACTION
    indices = result.indices.tolist()
    if mode == "default":
        assert len(indices) == budget and len(set(indices)) == budget
    else:  # compat overshoots to a multiple of k3 and may repeat (F1, F5)
        assert len(indices) >= budget and len(indices) % K3 == 0
    assert all(0 <= i < pool_size for i in indices)


def record(benchmark, result, pool_size: int, mode: str, codec: str, level: int, threads: int) -> None:
    benchmark.extra_info.update(kind="select", mode=mode, codec=codec, level=level,
                                label=codec_label(codec, level), threads=threads,
                                pool_size=pool_size, budget=pool_size // BUDGET_FRACTION,
                                **k_values(pool_size), selected=len(result.indices),
                                unique=len(set(result.indices.tolist())),
                                evaluations=result.evaluations, ratio=result.ratio)


@pytest.mark.benchmark(group="select 500 of 5k per codec and threads")
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("mode,codec,level", PER_CODEC_MODES,
                         ids=[f"{m}-{c}-{lv}" for m, c, lv in PER_CODEC_MODES])
def test_select_per_codec_and_threads(benchmark, bench_results, sharegpt_pairs_all, mode, codec, level, threads):
    pool = sharegpt_pairs_all[:PER_CODEC_POOL]
    result = benchmark.pedantic(run_select, args=(pool, mode, codec, level, threads), rounds=1, iterations=1)
    check_selection(result, len(pool), mode)
    key = (mode, codec, level, len(pool))      # + threads -> indices
    bench_results.record("scaling indices", key + (threads,), result.indices.tolist())
    other = bench_results.get("scaling indices", key + (3 - threads,))
    if other is not None:
        assert other == result.indices.tolist(), "the selection depends on the thread count"
    record(benchmark, result, len(pool), mode, codec, level, threads)


@pytest.mark.benchmark(group="selection scaling")
@pytest.mark.parametrize("mode,pool_size", SCALING_CASES, ids=lambda v: f"{v // 1000}k" if isinstance(v, int) else v)
def test_selection_scaling(benchmark, bench_results, sharegpt_pairs_all, mode, pool_size):
    pool = sharegpt_pairs_all[:pool_size]
    codec, level = ("zstd", 3) if mode == "default" else ("zlib", 9)
    result = benchmark.pedantic(run_select, args=(pool, mode, codec, level, 2), rounds=1, iterations=1)
    check_selection(result, pool_size, mode)
    bench_results.record("scaling indices", (mode, codec, level, pool_size, 2), result.indices.tolist())
    record(benchmark, result, pool_size, mode, codec, level, 2)


@pytest.mark.benchmark(group="selection scaling")
@pytest.mark.parametrize("pool_size", NAIVE_POOL_SIZES, ids=lambda n: f"{n // 1000}k")
def test_selection_scaling_naive(benchmark, bench_results, sharegpt_pairs_all, pool_size):
    """The naive reference (2 processes); its picks must equal compat mode's."""
    pool = sharegpt_pairs_all[:pool_size]
    kv = k_values(pool_size)
    budget = pool_size // BUDGET_FRACTION
    indices = benchmark.pedantic(naive_zip, args=(pool, budget, kv["k1"], kv["k2"], kv["k3"]),
                                 kwargs={"processes": 2}, rounds=1, iterations=1)
    compat = bench_results.get_or_compute("scaling indices", ("compat", "zlib", 9, pool_size, 2),
                                          lambda: run_select(pool, "compat", "zlib", 9, 2).indices.tolist())
    assert indices == compat, "compat mode differs from the naive reference"
    benchmark.extra_info.update(kind="select", mode="naive", codec="zlib", level=9, label="zlib-9", threads=2,
                                pool_size=pool_size, budget=budget, **kv, selected=len(indices),
                                unique=len(set(indices)))


# ------------------------------------------------------------ at scale -----
SCALE_CASES = [pytest.param(20_000, 300_000, id="20k-of-300k"),
               pytest.param(100_000, 900_000, id="100k-of-900k", marks=pytest.mark.slow)]
SCALE_CODECS = [("zstd", 3), ("lz77", 2)]
SCALE_SPEEDUP = {300_000: 2.5, 900_000: 10.0}
FLATNESS_MAX = 1.5


@functools.lru_cache(maxsize=2)
def evals_pool(pool_size: int) -> Pool | None:
    rows = corpora.evals_all_samples(pool_size)
    if rows is None or len(rows) < pool_size:
        return None
    return Pool.from_samples(rows, "text")


def trace_flatness(trace, cpu: bool = False) -> float:
    """:func:`rounds.flatness` of each round's wall (or CPU) time."""
    return rounds.flatness([t.cpu_s if cpu else t.stage1_s + t.stage2_s + t.stage3_s for t in trace])


@pytest.mark.benchmark(group="selection at scale (evals)")
@pytest.mark.parametrize("codec,level", SCALE_CODECS, ids=[codec_label(c, lv) for c, lv in SCALE_CODECS])
@pytest.mark.parametrize("budget,pool_size", SCALE_CASES)
def test_selection_at_scale(benchmark, bench_results, budget, pool_size, codec, level):
    if fastzip.streams.codecs.native_only(codec) and not fastzip.streams.codecs.uses_native(codec):
        pytest.skip(f"{codec} is not available in this build")
    pool = evals_pool(pool_size)
    if pool is None:
        pytest.skip(f"the evals package is not installed (or too small): {corpora.EVALS_INSTALL}")
    result = benchmark.pedantic(fastzip.select, args=(pool, budget),
                                kwargs=dict(k1=10000, k2=200, k3=100, codec=codec, level=level, n_threads=2),
                                rounds=1, iterations=1)
    indices = result.indices.tolist()
    assert len(indices) == budget and len(set(indices)) == budget
    figures = dict(seconds=result.seconds, flatness=trace_flatness(result.trace),
                   cpu_flatness=trace_flatness(result.trace, cpu=True), rounds=len(result.trace),
                   stage1_s=sum(t.stage1_s for t in result.trace),
                   stage2_s=sum(t.stage2_s for t in result.trace),
                   stage3_s=sum(t.stage3_s for t in result.trace),
                   ratio=result.ratio, evaluations=result.evaluations)
    bench_results.record("at scale", (pool_size, codec), figures)
    benchmark.extra_info.update(kind="select", mode="default", codec=codec, level=level,
                                label=codec_label(codec, level), threads=2, pool_size=pool_size,
                                budget=budget, k1=10000, k2=K2, k3=K3, **figures)


@pytest.mark.reads_results
@pytest.mark.benchmark(group="targets")
def test_scale_targets(timed_target, bench_results):
    """lz77 beats zstd-3 by the issue's factors at scale, with a flat cost per pick."""
    scale = bench_results.section("at scale")   # (pool_size, codec) -> figures
    pools = sorted({p for p, _ in scale if (p, "zstd") in scale and (p, "lz77") in scale})
    if not pools:
        pytest.skip("needs test_selection_at_scale for both zstd-3 and lz77 on one pool in the same run "
                    "(deselected, skipped, or run alone)")
    failures = []
    for p in pools:
        speedup = scale[(p, "zstd")]["seconds"] / scale[(p, "lz77")]["seconds"]
        if speedup < SCALE_SPEEDUP[p]:
            failures.append(f"{p}: lz77 only {speedup:.2f}x faster than zstd-3 (< {SCALE_SPEEDUP[p]}x)")
        if not scale[(p, "lz77")]["flatness"] <= FLATNESS_MAX:
            failures.append(f"{p}: lz77 flatness {scale[(p, 'lz77')]['flatness']:.2f} > {FLATNESS_MAX}")
    assert not failures, "; ".join(failures)
