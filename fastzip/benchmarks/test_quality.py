"""Selection quality next to speed, for every codec of the matrix on each corpus.

A default-mode selection of 1/10 of a pool (the corpus's first 2,000
samples, and its first 300 where registered codecs run too) is timed, then
judged by :func:`fastzip.selection.judge.judge_ratio` against random subsets of the
same size: ``vs_random`` below 1 means less redundant than random.  Groups
``quality CORPUS SIZE``.
"""
from __future__ import annotations

import pytest

from . import measure
from .corpus import Corpus
from .matrix import CodecSpec
from .results import Benchmark

pytest.importorskip("pytest_benchmark", reason="the benchmarks need pytest-benchmark: pip install pytest-benchmark")


def test_selection_quality(benchmark: Benchmark, fastzip_corpus: Corpus, fastzip_quality_size: int,
                           fastzip_codec: CodecSpec, fastzip_threads: int) -> None:
    qpool = fastzip_corpus.quality_pool(fastzip_quality_size)
    measure.selection_quality(benchmark, qpool, fastzip_codec, fastzip_threads)
