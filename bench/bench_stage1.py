"""Stage 1 per round against the pool's size: N = 300k and N = 3M, K1 = 10,000.

Run:  pytest bench/bench_stage1.py --benchmark-only --benchmark-group-by=group

Stage 1 takes the K1 lowest stale scores each round (fastzip.selection.greedy.Frontier):
a sorted list of the samples never re-scored, merged with sorted runs of the ones
re-scored and returned.  Its cost per round must not grow with N.

The scores are real: the stand-alone zstd-3 ratios of the bundled evals
samples (tests/data/openai_evals_5k.jsonl, 4,842 records), repeated to N
(so the pool is full of exact ties, broken by index as the engine breaks
them).  Each round takes K1, re-scores them (each score times a factor in
[1.0, 1.3), seeded), keeps K3 = 100 and gives the rest back, as the engine does.

Target (``test_stage1_targets``): the mean time per round at N = 3M is within
1.5x of N = 300k.  Checks: every round's K1 come in (score, index) order.
"""
from __future__ import annotations

import functools
import time

import corpora
import numpy as np
import pytest

from fastzip.samples.pool import Pool
from fastzip.scale import Scorer
from fastzip.selection.greedy import Frontier

K1, K3 = 10_000, 100
ROUNDS = 60
SIZES = [300_000, 3_000_000]
TARGET = 1.5


@functools.lru_cache(maxsize=1)
def real_scores() -> np.ndarray:
    rows = corpora.fixture_rows("openai_evals_5k.jsonl")
    return Scorer("zstd", 3).score_pool(Pool.from_samples(rows, "text")).scores   # zstd-3, as said above


def rounds(n: int) -> tuple[float, int]:
    """Mean seconds per stage-1 round (lowest + give back) over ROUNDS rounds, and the returned samples held."""
    base = real_scores()
    scores = np.resize(base, n)
    frontier = Frontier(scores)
    rng = np.random.default_rng(0)
    seconds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        taken = frontier.lowest(K1)
        fresh = scores[taken] * rng.uniform(1.0, 1.3, len(taken))
        frontier.give_back(taken[K3:], fresh[K3:])
        seconds.append(time.perf_counter() - started)
        s = scores[taken]                      # the stale scores they were taken by: (score, index) order
        assert len(taken) == K1 and np.all((s[1:] > s[:-1]) | ((s[1:] == s[:-1]) & (taken[1:] > taken[:-1])))
        scores[taken] = fresh
    return float(np.mean(seconds[5:])), sum(run.live for run in frontier.runs)


@pytest.mark.benchmark(group="stage 1 per round")
@pytest.mark.parametrize("n", SIZES, ids=lambda n: f"N={n:,}")
def test_stage1_per_round(benchmark, bench_results, n):
    per_round, heap = benchmark.pedantic(rounds, args=(n,), rounds=1, iterations=1)
    assert heap > 0
    bench_results.record("stage 1", n, {"per_round_s": per_round, "heap": heap})
    benchmark.extra_info.update(kind="stage1", n=n, k1=K1, k3=K3, rounds=ROUNDS, per_round_s=per_round)


@pytest.mark.reads_results
@pytest.mark.benchmark(group="targets")
def test_stage1_targets(timed_target, bench_results):
    """Stage 1's time per round at N = 3M is within 1.5x of N = 300k."""
    figures = bench_results.section("stage 1")
    if not all(n in figures for n in SIZES):
        pytest.skip("needs test_stage1_per_round at both sizes in the same run")
    ratio = figures[SIZES[1]]["per_round_s"] / figures[SIZES[0]]["per_round_s"]
    assert ratio <= TARGET, f"stage 1 per round at N=3M is {ratio:.2f}x N=300k (> {TARGET}x)"
