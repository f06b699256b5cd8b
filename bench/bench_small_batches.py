"""Small batches: what one call of a few lz77 candidates costs, inline or on the thread pool.

Run:  pytest bench/bench_small_batches.py --benchmark-only

Selection's stage 3 measures a few stale candidates at a time, one batch
per pick (8 at most by default), so at 100k picks it makes about 100,000
calls.  Waking the thread pool costs about 55 us on this 2-core VM, several
times what 8 lz77 candidates take, so a batch under the codec's inline
bound (``fz_codec_ops.inline_work`` in csrc/fz_batch.h) runs on the calling
thread.  This measures one call of 1 to 64 real evals samples (``pip install
--no-deps evals==3.0.1.post1``; the bundled 4,842 when it is missing)
against a stream of about 1 MB of them, on 2 threads.  Compare the calls
per second across batch sizes in one run: 8 candidates (inline) should cost
far less than 32 (pooled).

Checks: every batch's sizes equal those of measuring its candidates one at
a time on one thread.
"""
from __future__ import annotations

import functools

import corpora
import numpy as np
import pytest

import fastzip
from fastzip.samples.pool import Pool

SIZES = (1, 4, 8, 16, 32, 64)
CALLS = 500


@functools.lru_cache(maxsize=1)
def stream_and_pool() -> tuple[fastzip.IncrementalCompressor, Pool]:
    rows = corpora.evals_all_samples(20_000) or corpora.fixture_rows("openai_evals_5k.jsonl")
    pool = Pool.from_samples(rows, "text")
    ic = fastzip.IncrementalCompressor("lz77", separator=b"\n")
    ic.extend([pool.item(i) for i in range(0, min(len(pool), 5000), 2)])
    return ic, pool


@pytest.mark.benchmark(group="small lz77 batches (2 threads)")
@pytest.mark.parametrize("size", SIZES)
def test_small_batch(benchmark, size):
    ic, pool = stream_and_pool()
    rng = np.random.default_rng(size)
    batches = [rng.integers(len(pool) // 2, len(pool), size) for _ in range(CALLS)]
    packed = (pool.data, pool.offsets)

    def calls():
        return [ic.marginal_sizes(packed, 2, index=b) for b in batches]

    out = benchmark.pedantic(calls, rounds=3, iterations=1)
    alone = [[int(ic.marginal_sizes(packed, 1, index=[int(j)])[0]) for j in b] for b in batches[:20]]
    assert [o.tolist() for o in out[:20]] == alone
    benchmark.extra_info.update(kind="small batch", codec="lz77", size=size, calls=CALLS,
                                stream_bytes=ic.raw_size)
