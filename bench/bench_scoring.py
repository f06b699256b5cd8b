"""CPU benchmarks of fastzip.scoring (pytest-benchmark).

Sizes follow the issue (logits 8 x 2048 x 32,000; 200,000 x 768 embeddings,
k = 2,000), scaled to a 2-core, 24 GiB machine: the ``slow`` cases run the
full-size inputs with fewer greedy steps; the others are a quarter or less.
Every case checks its result, so the file also passes with
``--benchmark-disable`` (one plain run each, as CI does).

    python -m pytest bench/bench_scoring.py -q                      # timings
    python -m pytest bench/bench_scoring.py -q -m "not slow"        # quick ones
    python -m pytest bench/bench_scoring.py --benchmark-disable -q  # CI
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fastzip import scoring

VOCAB = 32_000
DIM = 768
from embeddings import clustered  # noqa: E402

EVALS = Path(__file__).resolve().parent.parent / "tests" / "data" / "openai_evals_5k.jsonl"


def logits_batch(batch: int, seq: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((batch, seq, VOCAB), dtype=np.float32)
    logits *= 3.0
    labels = rng.integers(0, VOCAB, size=(batch, seq))
    labels[:, : seq // 4] = -100                      # a prompt that is not scored
    return logits, labels


def run(benchmark, fn, *args, **kwargs):
    """One round (these are long single calls); returns the function's result."""
    return benchmark.pedantic(fn, args=args, kwargs=kwargs, rounds=1, iterations=1,
                              warmup_rounds=0)


# --- losses --------------------------------------------------------------------------------

@pytest.mark.parametrize("batch,seq", [
    (2, 1024),
    pytest.param(8, 2048, marks=pytest.mark.slow),   # the size, 2 GiB of float32
])
def test_bench_token_nll(benchmark, batch, seq):
    logits, labels = logits_batch(batch, seq)
    nll = run(benchmark, scoring.token_nll, logits, labels, device="cpu")
    assert nll.shape == (batch,) and np.isfinite(nll).all()
    # standard-normal * 3 logits over 32k classes: NLL is about log(V) + 4.5
    assert np.all(np.abs(nll - (np.log(VOCAB) + 4.5)) < 0.5)


def test_bench_from_logprobs_and_ifd(benchmark):
    rng = np.random.default_rng(1)
    lp = -rng.exponential(2.0, size=(4096, 2048))
    mask = rng.random((4096, 2048)) < 0.7

    def score():
        cond = scoring.from_logprobs(lp, mask)
        return scoring.ifd(cond, cond * 1.25)

    out = run(benchmark, score)
    np.testing.assert_allclose(out, 0.8)


# --- diversity -----------------------------------------------------------------------------

@pytest.mark.parametrize("n,k", [
    (50_000, 100),
    pytest.param(200_000, 100, marks=pytest.mark.slow),
])
def test_bench_kcenter_greedy(benchmark, n, k):
    x = clustered(n)
    picks = run(benchmark, scoring.kcenter_greedy, x, k, device="cpu")
    assert picks.shape == (k,) and np.unique(picks).size == k


@pytest.mark.parametrize("n,budget", [
    (10_000, None),
    pytest.param(200_000, 5_000, marks=pytest.mark.slow),
])
def test_bench_deita_filter(benchmark, n, budget):
    x = clustered(n, n_clusters=2_000, seed=2, spread=(0.2, 0.6))
    order = np.random.default_rng(3).permutation(n)
    kept = run(benchmark, scoring.deita_filter, x, order, 0.9, budget, device="cpu")
    assert 0 < kept.size <= (budget or n - 1)   # some samples are near-duplicates


@pytest.mark.parametrize("n,k", [
    (4_000, 100),
    pytest.param(10_000, 200, marks=pytest.mark.slow),
])
def test_bench_facility_location(benchmark, n, k):
    x = clustered(n, seed=4)
    picks, gains = run(benchmark, scoring.facility_location_greedy, x, k, return_gains=True,
                       device="cpu")
    assert np.unique(picks).size == k and np.all(np.diff(gains) <= 1e-3)


@pytest.mark.parametrize("n,m", [
    (50_000, 2_000),
    pytest.param(200_000, 2_000, marks=pytest.mark.slow),
])
def test_bench_max_similarity(benchmark, n, m):
    x = clustered(n, seed=5)
    sims = run(benchmark, scoring.max_similarity, x, np.arange(0, n, n // m), device="cpu")
    assert sims.shape == (n,) and float(sims.max()) <= 1.0 + 1e-5


# --- compression distance ------------------------------------------------------------------

def test_bench_ncd_matrix(benchmark):
    try:
        from fastzip import IncrementalCompressor  # noqa: F401
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"fastzip.IncrementalCompressor is not available ({exc})")
    with open(EVALS, encoding="utf-8") as f:
        texts = [json.dumps(json.loads(line), ensure_ascii=False)
                 for _, line in zip(range(150), f)]
    m = run(benchmark, scoring.ncd_matrix, texts, codec="zstd", level=3)
    assert m.shape == (150, 150) and np.isfinite(m).all()
