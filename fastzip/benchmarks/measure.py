"""The benchmark bodies, shared by the plugin's tests and the repository's ``bench/``.

Each function times one thing with pytest-benchmark's ``benchmark`` fixture,
checks the result against an independent measurement (so a run with
``--benchmark-disable`` still tests something), and records its figures in
``benchmark.extra_info`` (keys: :mod:`fastzip.benchmarks.results`).
"""
from __future__ import annotations

import zlib
from typing import Any

from ..selection.api import select
from ..selection.judge import judge_ratio
from ..streams.compressor import IncrementalCompressor, compression_ratio
from .corpus import CANDIDATES_BUILTIN, CANDIDATES_REGISTERED, MB, Corpus, QualityPool
from .matrix import CodecSpec, check_marginal_sizes, rate
from .results import QUALITY, THROUGHPUT, Benchmark, record

#: below this pool size a selection need not beat random subsets
MIN_POOL_TO_BEAT_RANDOM = 100


def _rounds(spec: CodecSpec) -> int:
    """Slow cells (registered codecs, zstd-19) run once; the rest three times."""
    return 1 if spec.registered or (spec.codec == "zstd" and spec.level >= 19) else 3


def _codec_info(spec: CodecSpec) -> dict[str, Any]:
    return {"codec": spec.codec, "level": spec.level, "label": spec.label, "registered": spec.registered}


def one_shot(benchmark: Benchmark, corpus: Corpus, spec: CodecSpec) -> float:
    """Time compressing up to 1 MB of the corpus once (:func:`fastzip.compression_ratio`).

    Group ``throughput one-shot CORPUS``; zlib's size is checked against the
    stdlib's :func:`zlib.compress`.

    Parameters
    ----------
    benchmark : pytest_benchmark.fixture.BenchmarkFixture
        The test's ``benchmark`` fixture.
    corpus : Corpus
        The corpus.
    spec : CodecSpec
        The codec and level.

    Returns
    -------
    float
        The compression ratio.
    """
    blob = corpus.one_shot_blob()
    benchmark.group = f"throughput one-shot {corpus.name}"
    ratio: float = benchmark.pedantic(compression_ratio, args=(blob,),
                                      kwargs={"codec": spec.codec, "level": spec.level},
                                      rounds=_rounds(spec), iterations=1)
    compressed = len(blob) / ratio
    assert abs(compressed - round(compressed)) < 1e-6 * len(blob), f"{spec.label}: size is not a whole number"
    if spec.codec == "zlib":
        assert round(compressed) == len(zlib.compress(blob, spec.level)), f"{spec.label}: ratio is not zlib's"
    record(benchmark, kind=THROUGHPUT, mode="one-shot", corpus=corpus.name, **_codec_info(spec),
           bytes=len(blob), ratio=ratio, mb_per_s=rate(benchmark, len(blob) / MB))
    return ratio


def incremental(benchmark: Benchmark, corpus: Corpus, spec: CodecSpec, threads: int = 1) -> None:
    """Time ``marginal_sizes`` of the corpus's next samples against a stream of its first ones.

    The stream holds whole samples up to 1 MB (or half the corpus); the
    candidates are the 200 samples after it (3 for a registered codec, which
    recompresses the whole stream for each).  Group ``throughput incremental
    CORPUS``; the first sizes are checked by :func:`~fastzip.benchmarks.matrix.check_marginal_sizes`.

    Parameters
    ----------
    benchmark, corpus, spec
        As in :func:`one_shot`.
    threads : int, default 1
        Threads of ``marginal_sizes``.
    """
    stream, cands = corpus.stream_and_candidates(CANDIDATES_REGISTERED if spec.registered else CANDIDATES_BUILTIN)
    ic = IncrementalCompressor(spec.codec, spec.level, separator=b"\n")
    ic.extend([stream])
    benchmark.group = f"throughput incremental {corpus.name}"
    sizes = benchmark.pedantic(ic.marginal_sizes, args=(cands,), kwargs={"n_threads": threads},
                               rounds=_rounds(spec), iterations=1)
    check_marginal_sizes(ic, stream, cands[:2], sizes[:2])
    cand_bytes = sum(len(c) for c in cands)
    record(benchmark, kind=THROUGHPUT, mode="incremental", corpus=corpus.name, **_codec_info(spec),
           threads=threads, stream_bytes=len(stream), candidates=len(cands), bytes=cand_bytes,
           mb_per_s=rate(benchmark, cand_bytes / MB), candidates_per_s=rate(benchmark, len(cands)))


def selection_quality(benchmark: Benchmark, qpool: QualityPool, spec: CodecSpec, threads: int = 1) -> float:
    """Time a default-mode selection of 1/10 of the pool and judge it against random subsets.

    The judge is :func:`fastzip.selection.judge.judge_ratio` (zstd-19 over the whole
    selection, in index order); ``vs_random`` is the selection's judge ratio
    divided by the mean of 5 random subsets of the same size (lower is
    better).  With zstd on a pool of 100 samples or more the selection must
    beat random subsets.

    Parameters
    ----------
    benchmark : pytest_benchmark.fixture.BenchmarkFixture
        The test's ``benchmark`` fixture.
    qpool : QualityPool
        The selection pool.
    spec : CodecSpec
        The codec and level of the selection.
    threads : int, default 1
        Threads of :func:`fastzip.select`.

    Returns
    -------
    float
        ``vs_random``.
    """
    benchmark.group = f"quality {qpool.name}"
    result = benchmark.pedantic(select, args=(qpool.pool, qpool.budget, qpool.k1, qpool.k2, qpool.k3),
                                kwargs={"codec": spec.codec, "level": spec.level, "n_threads": threads},
                                rounds=1, iterations=1)
    indices = result.indices.tolist()
    assert len(indices) == qpool.budget and len(set(indices)) == qpool.budget
    judged = judge_ratio(qpool.pool, indices)
    random_mean = qpool.random_judge_ratio()
    if spec.codec == "zstd" and len(qpool.pool) >= MIN_POOL_TO_BEAT_RANDOM:
        # the whole-stream codec must beat random subsets
        assert judged < random_mean, (f"{spec.label}: the selection is no less redundant than random subsets "
                                      f"(judge ratio {judged:.4f}, random {random_mean:.4f})")
    record(benchmark, kind=QUALITY, corpus=qpool.corpus, pool=qpool.name, pool_size=len(qpool.pool),
           budget=qpool.budget, k1=qpool.k1, k2=qpool.k2, k3=qpool.k3, **_codec_info(spec), threads=threads,
           judge_ratio=judged, random_judge_ratio=random_mean, vs_random=judged / random_mean,
           evaluations=result.evaluations)
    return judged / random_mean
