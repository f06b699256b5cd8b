"""Quality next to speed: what a faster codec costs in selection quality.

Run:  pytest bench/bench_quality.py --benchmark-only --benchmark-group-by=group

For each codec, a default-mode selection of 10% of a pool is timed, then
judged by one fixed, order-independent measure: the compression ratio of the
selected samples in pool-index order (text serializer, one per line) under
zstd-19 with a window covering the whole selection.  The same judge scores
random subsets of the same size (mean of 5 fixed seeds).  Lower is better
(ZIP prefers a low ratio: less redundancy); ``vs_random`` = judge / random.

Pools: the faq fixture (481 samples, every codec including the registered
bz2 and lzma, small K so recompression stays quick), 2,000 evals fixture
records, and 2,000 ShareGPT pairs (when installed).
"""
from __future__ import annotations

import functools
import random

import numpy as np
import pytest

import corpora
import fastzip
from codec_matrix import ALL_CODECS, BUILTIN_CODECS, CUSTOM_CODECS, codec_label
from fastzip.judge import judge_ratio
from fastzip.serialize import Pool

RANDOM_SEEDS = (0, 1, 2, 3, 4)
# pool name -> (budget, k1, k2, k3); budget is 10% of the pool
POOLS = {
    "faq": (48, 481, 24, 12),
    "evals-2k": (200, 2000, 200, 100),
    "sharegpt-2k": (200, 2000, 200, 100),
}
CASES = ([("faq", c, lv) for c, lv in ALL_CODECS]
         + [(p, c, lv) for p in ("evals-2k", "sharegpt-2k") for c, lv in BUILTIN_CODECS])


@functools.lru_cache(maxsize=None)
def quality_pool(name: str) -> tuple[list, Pool] | None:
    if name == "faq":
        rows = corpora.fixture_rows("faq_qa.jsonl")
    elif name == "evals-2k":
        rows = corpora.fixture_rows("openai_evals_5k.jsonl")[:2000]
    else:
        pairs = corpora.sharegpt_pairs(None)
        if pairs is None:
            return None
        rows = pairs[:2000]
    return rows, Pool.from_samples(rows, "text")


@functools.lru_cache(maxsize=None)
def random_judge_ratio(name: str) -> float:
    """Mean judge ratio of random subsets of the budget's size, 5 fixed seeds."""
    rows, pool = quality_pool(name)
    budget = POOLS[name][0]
    return float(np.mean([judge_ratio(pool, random.Random(seed).sample(range(len(rows)), budget))
                          for seed in RANDOM_SEEDS]))


@pytest.mark.parametrize("pool_name,codec,level", CASES,
                         ids=[f"{p}-{codec_label(c, lv)}" for p, c, lv in CASES])
def test_selection_quality(benchmark, custom_codecs, pool_name, codec, level):
    loaded = quality_pool(pool_name)
    if loaded is None:
        pytest.skip(f"ShareGPT is not installed: {corpora.SHAREGPT_INSTALL}")
    rows, pool = loaded
    budget, k1, k2, k3 = POOLS[pool_name]
    benchmark.group = f"quality {pool_name}"
    result = benchmark.pedantic(fastzip.select, args=(rows, budget, k1, k2, k3),
                                kwargs={"codec": codec, "level": level, "n_threads": 2},
                                rounds=1, iterations=1)
    indices = result.indices.tolist()
    assert len(indices) == budget and len(set(indices)) == budget
    judged = judge_ratio(pool, indices)
    random_mean = random_judge_ratio(pool_name)
    if codec == "zstd":  # the whole-stream codec must beat random selection
        assert judged < random_mean, f"{codec_label(codec, level)} selection is no better than random"
    benchmark.extra_info.update(kind="quality", pool=pool_name, pool_size=len(rows), budget=budget,
                                k1=k1, k2=k2, k3=k3, codec=codec, level=level,
                                label=codec_label(codec, level), custom=codec in CUSTOM_CODECS,
                                judge_ratio=judged, random_judge_ratio=random_mean,
                                vs_random=judged / random_mean, evaluations=result.evaluations)
