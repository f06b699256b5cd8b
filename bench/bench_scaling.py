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

Skipped when the ShareGPT package is missing (see bench/corpora.py).
Checks: default mode picks exactly the budget without repeats; results do
not depend on the thread count; compat indices equal the naive reference's.
"""
from __future__ import annotations

import pytest

import fastzip
from codec_matrix import codec_label
from naive_reference import naive_zip

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

_RESULTS: dict[tuple, list[int]] = {}   # (mode, codec, level, pool, threads) -> indices


def k_values(pool_size: int) -> dict:
    """The default K values, clamped to the pool."""
    return {"k1": min(10000, pool_size), "k2": K2, "k3": K3}


def run_select(pool: list, mode: str, codec: str, level: int, threads: int) -> "fastzip.SelectionResult":
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
def test_select_per_codec_and_threads(benchmark, sharegpt_pairs_all, mode, codec, level, threads):
    pool = sharegpt_pairs_all[:PER_CODEC_POOL]
    result = benchmark.pedantic(run_select, args=(pool, mode, codec, level, threads), rounds=1, iterations=1)
    check_selection(result, len(pool), mode)
    key = (mode, codec, level, len(pool))
    _RESULTS[key + (threads,)] = result.indices.tolist()
    other = _RESULTS.get(key + (3 - threads,))
    if other is not None:
        assert other == result.indices.tolist(), "the selection depends on the thread count"
    record(benchmark, result, len(pool), mode, codec, level, threads)


@pytest.mark.benchmark(group="selection scaling")
@pytest.mark.parametrize("mode,pool_size", SCALING_CASES, ids=lambda v: f"{v // 1000}k" if isinstance(v, int) else v)
def test_selection_scaling(benchmark, sharegpt_pairs_all, mode, pool_size):
    pool = sharegpt_pairs_all[:pool_size]
    codec, level = ("zstd", 3) if mode == "default" else ("zlib", 9)
    result = benchmark.pedantic(run_select, args=(pool, mode, codec, level, 2), rounds=1, iterations=1)
    check_selection(result, pool_size, mode)
    _RESULTS[(mode, codec, level, pool_size, 2)] = result.indices.tolist()
    record(benchmark, result, pool_size, mode, codec, level, 2)


@pytest.mark.benchmark(group="selection scaling")
@pytest.mark.parametrize("pool_size", NAIVE_POOL_SIZES, ids=lambda n: f"{n // 1000}k")
def test_selection_scaling_naive(benchmark, sharegpt_pairs_all, pool_size):
    """The naive reference (2 processes); its picks must equal compat mode's."""
    pool = sharegpt_pairs_all[:pool_size]
    kv = k_values(pool_size)
    budget = pool_size // BUDGET_FRACTION
    indices = benchmark.pedantic(naive_zip, args=(pool, budget, kv["k1"], kv["k2"], kv["k3"]),
                                 kwargs={"processes": 2}, rounds=1, iterations=1)
    compat = _RESULTS.get(("compat", "zlib", 9, pool_size, 2))
    if compat is None:
        compat = run_select(pool, "compat", "zlib", 9, 2).indices.tolist()
    assert indices == compat, "compat mode differs from the naive reference"
    benchmark.extra_info.update(kind="select", mode="naive", codec="zlib", level=9, label="zlib-9", threads=2,
                                pool_size=pool_size, budget=budget, **kv, selected=len(indices),
                                unique=len(set(indices)))
