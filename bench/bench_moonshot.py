"""The rates behind docs/scale-out.md's estimate of 1M picks from 1B samples: scoring per core, the driver's intake.

Run:  pytest bench/bench_moonshot.py --benchmark-only --benchmark-json=bench/results/moonshot.json

* ``scoring per core``: stand-alone scores (serialize as text, compress
  alone, ratio) of 200,000 samples of every OpenAI eval (``pip install
  --no-deps evals==3.0.1.post1``; the bundled 4,842 when it is missing),
  with one kernel thread: what one core of a Ray scoring worker does.
  lz77 (the default) and zstd-3.
* ``driver intake``: the exact prefilter on the driver,
  :class:`fastzip.scale.TopN` with duplicate dropping, fed the rows the
  workers stream back (id, score, bytes and a 16-byte digest per sample) in
  batches of 65,536, keeping N = 1,000,000 of 4,000,000 (the real evals
  scores, resampled with a seeded generator).  Rows per second.

The driver's time per round at K1 = 10,000 comes from bench_million.py and
bench_scaling.py (100k of 900k), which record every round.
Checks: the scores are finite and positive; TopN keeps exactly the N
lowest (score, id) of what it was fed.
"""
from __future__ import annotations

import functools
import hashlib
import time

import corpora
import numpy as np
import pytest

from fastzip.samples.pool import Pool
from fastzip.scale import Scorer, TopN
from fastzip.scale.core import ScoredBatch

SCORING_SAMPLES = 200_000
INTAKE_ROWS, INTAKE_KEEP, BATCH = 4_000_000, 1_000_000, 65_536


@functools.lru_cache(maxsize=1)
def scoring_pool() -> Pool:
    rows = corpora.evals_all_samples(SCORING_SAMPLES) or corpora.fixture_rows("openai_evals_5k.jsonl")
    return Pool.from_samples(rows, "text")


@pytest.mark.benchmark(group="scoring per core")
@pytest.mark.parametrize("codec,level", [("lz77", None), ("zstd", 3)], ids=["lz77", "zstd-3"])
def test_scoring_per_core(benchmark, bench_results, codec, level):
    pool = scoring_pool()
    scorer = Scorer(codec=codec, level=level, n_threads=1)
    times: list[float] = []

    def timed():
        started = time.perf_counter()
        out = scorer.score_pool(pool)
        times.append(time.perf_counter() - started)
        return out

    scored = benchmark.pedantic(timed, rounds=3, iterations=1)
    assert len(scored) == len(pool) and np.all(np.isfinite(scored.scores)) and np.all(scored.scores > 0)
    seconds = min(times)
    figures = {"samples": len(pool), "bytes": int(pool.offsets[-1]), "samples_per_s": len(pool) / seconds,
               "mb_per_s": pool.offsets[-1] / seconds / 1e6}
    bench_results.record("scoring per core", codec, figures)
    benchmark.extra_info.update(kind="scoring per core", codec=codec, threads=1, **figures)


def _intake() -> tuple[float, TopN, np.ndarray, np.ndarray]:
    base = Scorer(codec="lz77", n_threads=2).score_pool(scoring_pool()).scores
    rng = np.random.default_rng(0)
    scores = rng.choice(base, INTAKE_ROWS)
    ids = rng.permutation(INTAKE_ROWS).astype(np.int64)
    digests = np.empty(INTAKE_ROWS, dtype=object)
    digests[:] = [hashlib.sha256(int(i).to_bytes(8, "little")).digest()[:16] for i in ids]
    top = TopN(INTAKE_KEEP, dedupe=True)
    started = time.perf_counter()
    for at in range(0, INTAKE_ROWS, BATCH):
        part = slice(at, at + BATCH)
        top.add(ScoredBatch(ids[part], scores[part], np.ones(len(ids[part]), np.int64), digests[part]))
    kept = top.result()
    return time.perf_counter() - started, kept, ids, scores


@pytest.mark.benchmark(group="driver intake")
def test_driver_intake(benchmark, bench_results):
    seconds, kept, ids, scores = benchmark.pedantic(_intake, rounds=1, iterations=1)
    want = np.lexsort((ids, scores))[:INTAKE_KEEP]
    assert np.array_equal(kept.ids, ids[want])
    figures = {"rows": INTAKE_ROWS, "keep": INTAKE_KEEP, "rows_per_s": INTAKE_ROWS / seconds}
    bench_results.record("driver intake", "topn", figures)
    benchmark.extra_info.update(kind="driver intake", **figures)
