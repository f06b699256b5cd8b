"""Every codec of the matrix on each corpus: one-shot compression and incremental marginal sizes.

Groups ``throughput one-shot CORPUS`` (MB/s of input, ratio) and
``throughput incremental CORPUS`` (candidates/s and MB/s of candidates
against a stream of up to 1 MB).  Every result is checked against an
independent measurement, so ``--benchmark-disable`` runs test them too.
"""
from __future__ import annotations

import pytest

from . import measure
from .corpus import Corpus
from .matrix import CodecSpec
from .results import Benchmark

pytest.importorskip("pytest_benchmark", reason="the benchmarks need pytest-benchmark: pip install pytest-benchmark")


def test_one_shot(benchmark: Benchmark, fastzip_corpus: Corpus, fastzip_codec: CodecSpec) -> None:
    measure.one_shot(benchmark, fastzip_corpus, fastzip_codec)


def test_incremental(benchmark: Benchmark, fastzip_corpus: Corpus, fastzip_codec: CodecSpec,
                     fastzip_threads: int) -> None:
    measure.incremental(benchmark, fastzip_corpus, fastzip_codec, fastzip_threads)
