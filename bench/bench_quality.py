"""Quality next to speed: what a faster codec costs in selection quality.

Run:  pytest bench/bench_quality.py --benchmark-only --benchmark-group-by=group
      python3 bench/bench_quality.py     # the default codec against zstd-3, judged (not timed)

For each codec, a default-mode selection of 10% of a pool is timed, then
judged by one fixed, order-independent measure: the compression ratio of the
selected samples in pool-index order (text serializer, one per line) under
zstd-19 with a window covering the whole selection.  The same judge scores
random subsets of the same size (mean of 5 fixed seeds).  Lower is better
(ZIP prefers a low ratio: less redundancy); ``vs_random`` = judge / random.

Pools: the faq fixture (481 samples, every codec including the registered
bz2 and lzma, small K so recompression stays quick), 2,000 evals fixture
records, and 2,000 ShareGPT pairs (when installed).

The lz77 cost codec (the default codec) is judged beside zstd-3 (the
default before it) on those pools and on the evals fixture (4,842 records),
5,000 ShareGPT pairs and the chitchat fixture (1,000 chats) at budget 10%, K
10000/200/100; ``test_lz77_quality_target`` checks it is within 2% of
zstd-3's judge ratio there (the judge ratios of ``test_selection_quality``,
through the ``bench_results`` fixture, or its own selections when those did
not run).  ``test_lz77_tracks_zstd19`` reports the
Spearman rank correlation of lz77's (and zstd-3's) per-byte marginal sizes
with zstd-19's on natural text: the first half of each corpus is the
stream, 1,000 later samples the candidates.
"""
from __future__ import annotations

import functools
import random

import corpora
import numpy as np
import pytest
from codec_matrix import ALL_CODECS, BUILTIN_CODECS, CUSTOM_CODECS, codec_label

import fastzip
from fastzip.samples.pool import Pool
from fastzip.selection.judge import judge_ratio

RANDOM_SEEDS = (0, 1, 2, 3, 4)
# pool name -> (budget, k1, k2, k3); budget is 10% of the pool
POOLS = {
    "faq": (48, 481, 24, 12),
    "evals-2k": (200, 2000, 200, 100),
    "sharegpt-2k": (200, 2000, 200, 100),
    "evals-5k": (484, 10000, 200, 100),
    "sharegpt-5k": (500, 10000, 200, 100),
    "chitchat-1k": (100, 10000, 200, 100),
}
LZ77 = ("lz77", 2)
CASES = ([("faq", c, lv) for c, lv in ALL_CODECS + [LZ77]]
         + [(p, c, lv) for p in ("evals-2k", "sharegpt-2k") for c, lv in BUILTIN_CODECS + [LZ77]]
         + [(p, c, lv) for p in ("evals-5k", "sharegpt-5k", "chitchat-1k") for c, lv in (("zstd", 3), LZ77)])
#: the pools on which the default codec is compared with zstd-3 (python3 bench/bench_quality.py)
DEFAULT_CODEC_POOLS = ("sharegpt-5k", "evals-5k", "chitchat-1k")


@functools.cache
def quality_pool(name: str) -> tuple[list, Pool] | None:
    if name == "faq":
        rows = corpora.fixture_rows("faq_qa.jsonl")
    elif name == "evals-2k":
        rows = corpora.fixture_rows("openai_evals_5k.jsonl")[:2000]
    elif name == "evals-5k":
        rows = corpora.fixture_rows("openai_evals_5k.jsonl")
    elif name == "chitchat-1k":
        rows = corpora.fixture_rows("chitchat_1k.jsonl")
    else:
        pairs = corpora.sharegpt_pairs(None)
        if pairs is None:
            return None
        rows = pairs[:5000] if name == "sharegpt-5k" else pairs[:2000]
    return rows, Pool.from_samples(rows, "text")


@functools.cache
def random_judge_ratio(name: str) -> float:
    """Mean judge ratio of random subsets of the budget's size, 5 fixed seeds."""
    rows, pool = quality_pool(name)
    budget = POOLS[name][0]
    return float(np.mean([judge_ratio(pool, random.Random(seed).sample(range(len(rows)), budget))
                          for seed in RANDOM_SEEDS]))


def judged_selection(pool_name: str, codec: str | None, level: int | None) -> float:
    """The judge ratio of a default-mode selection of the pool's budget (untimed); codec None: the default."""
    rows, pool = quality_pool(pool_name)
    budget, k1, k2, k3 = POOLS[pool_name]
    result = fastzip.select(rows, budget, k1, k2, k3, codec=codec, level=level, n_threads=2)
    return judge_ratio(pool, result.indices.tolist())


@pytest.mark.parametrize("pool_name,codec,level", CASES,
                         ids=[f"{p}-{codec_label(c, lv)}" for p, c, lv in CASES])
def test_selection_quality(benchmark, bench_results, custom_codecs, pool_name, codec, level):
    loaded = quality_pool(pool_name)
    if loaded is None:
        pytest.skip(f"ShareGPT is not installed: {corpora.SHAREGPT_INSTALL}")
    if fastzip.streams.codecs.native_only(codec) and not fastzip.streams.codecs.uses_native(codec):
        pytest.skip(f"{codec} is native only and the native kernel is not in use")
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
    bench_results.record("quality", (pool_name, codec, level), judged)
    if codec in ("zstd", "lz77"):  # the whole-stream codecs must beat random selection
        assert judged < random_mean, f"{codec_label(codec, level)} selection is no better than random"
    benchmark.extra_info.update(kind="quality", pool=pool_name, pool_size=len(rows), budget=budget,
                                k1=k1, k2=k2, k3=k3, codec=codec, level=level,
                                label=codec_label(codec, level), custom=codec in CUSTOM_CODECS,
                                judge_ratio=judged, random_judge_ratio=random_mean,
                                vs_random=judged / random_mean, evaluations=result.evaluations)


@pytest.mark.reads_results
@pytest.mark.benchmark(group="targets")
def test_lz77_quality_target(benchmark, bench_results):
    """lz77's selections judge within 2% of zstd-3's on the 5k pools (lower is better).

    Not a timing: selections that test_selection_quality did not make in this
    run are made here.  ShareGPT counts when it is installed.
    """
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    if fastzip.streams.codecs.native_only("lz77") and not fastzip.streams.codecs.uses_native("lz77"):
        pytest.skip("lz77 is native only and the native kernel is not in use")
    pools = [p for p in ("evals-5k", "sharegpt-5k") if quality_pool(p) is not None]
    judged = {}
    for p in pools:
        for codec, level in (("zstd", 3), LZ77):
            judged[(p, codec, level)] = bench_results.get_or_compute(
                "quality", (p, codec, level), functools.partial(judged_selection, p, codec, level))
    worse = {p: judged[(p,) + LZ77] / judged[(p, "zstd", 3)] for p in pools}
    benchmark.extra_info.update(kind="quality-target", lz77_over_zstd3=worse)
    assert all(v <= 1.02 for v in worse.values()), worse


CORRELATION_CORPORA = ("evals", "faq", "chitchat", "sharegpt")


def _corpus_texts(name: str) -> list[bytes] | None:
    from fastzip.samples.serialize import serialize_sample

    if name == "sharegpt":
        rows = corpora.sharegpt_pairs(None)
        rows = None if rows is None else rows[:6000]
    else:
        rows = corpora.fixture_rows({"evals": "openai_evals_5k.jsonl", "faq": "faq_qa.jsonl",
                                     "chitchat": "chitchat_1k.jsonl"}[name])
    return None if rows is None else [serialize_sample(r, "text") for r in rows]


@pytest.mark.benchmark(group="lz77 rank correlation with zstd-19")
@pytest.mark.parametrize("corpus", CORRELATION_CORPORA)
def test_lz77_tracks_zstd19(benchmark, corpus):
    """Spearman correlation of per-byte marginal sizes with zstd-19's (1.0: same order)."""
    stats = pytest.importorskip("scipy.stats")
    texts = _corpus_texts(corpus)
    if texts is None:
        pytest.skip(f"ShareGPT is not installed: {corpora.SHAREGPT_INSTALL}")
    if fastzip.streams.codecs.native_only("lz77") and not fastzip.streams.codecs.uses_native("lz77"):
        pytest.skip("lz77 is native only and the native kernel is not in use")
    half = len(texts) // 2
    stream, cands = b"\n".join(texts[:half]), texts[half:half + 1000]
    lengths = np.array([len(c) for c in cands], dtype=np.float64)

    def per_byte(codec: str, level: int) -> np.ndarray:
        ic = fastzip.IncrementalCompressor(codec, level, separator=b"\n")
        ic.extend([stream])
        return ic.added_sizes(cands, n_threads=2) / lengths

    lz77 = benchmark.pedantic(per_byte, args=LZ77, rounds=1, iterations=1)
    zstd3, zstd19 = per_byte("zstd", 3), per_byte("zstd", 19)
    rho_lz77 = float(stats.spearmanr(lz77, zstd19).correlation)
    rho_zstd3 = float(stats.spearmanr(zstd3, zstd19).correlation)
    benchmark.extra_info.update(kind="correlation", corpus=corpus, stream_bytes=len(stream),
                                candidates=len(cands), spearman_lz77=rho_lz77, spearman_zstd3=rho_zstd3)
    # measured 0.44 (chitchat) to 0.95 (evals); an unrelated order gives about 0
    assert rho_lz77 > 0.4, (rho_lz77, rho_zstd3)


def compare_default_codec() -> None:
    """Print the judge ratio of default mode (no codec given) against zstd-3's on each pool (lower is better)."""
    codec, level = fastzip.streams.codecs.resolve_select(None, None)
    print(f"judge: zstd-19 ratio of the picks in pool order (lower is better); default codec {codec}-{level}")
    print(f"{'pool':<13} {'size':>6} {'budget':>6} {'zstd-3':>8} {codec + '-' + str(level):>8} {'change':>8} "
          f"{'random':>8}")
    for name in DEFAULT_CODEC_POOLS:
        loaded = quality_pool(name)
        if loaded is None:
            print(f"{name:<13} skipped: ShareGPT is not installed: {corpora.SHAREGPT_INSTALL}")
            continue
        zstd3, default = judged_selection(name, "zstd", 3), judged_selection(name, None, None)
        print(f"{name:<13} {len(loaded[0]):>6} {POOLS[name][0]:>6} {zstd3:>8.4f} {default:>8.4f} "
              f"{100 * (default / zstd3 - 1):>+7.2f}% {random_judge_ratio(name):>8.4f}")


if __name__ == "__main__":
    compare_default_codec()
