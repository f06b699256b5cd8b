"""Codec throughput on real corpora, and marginal_sizes cost against the stream size.

Run:  pytest bench/bench_codecs.py --benchmark-only --benchmark-group-by=group

Groups
* ``throughput one-shot <corpus>``: compress up to 1 MB of the corpus (text
  serializer) once, through fastzip (``compression_ratio``); MB/s of input.
* ``throughput incremental <corpus>``: ``marginal_sizes`` of the corpus's
  next samples against a stream of up to 1 MB of it (1 thread); MB/s of
  candidate bytes and candidates/s.  Registered codecs (bz2, lzma) recompress
  the whole stream per candidate, which is what a user's own codec costs.

  These two are the plugin's benchmarks (``fastzip.benchmarks.measure``) on
  the repository's corpora (``corpora.THROUGHPUT_CORPORA``), over the
  plugin's codec matrix (``--fastzip-codecs`` picks codecs).
* ``marginal_sizes vs stream size``: candidates/s for 1 MB, 10 MB and 100 MB
  (slow) streams; the incremental kernels keep it flat.

Every benchmark checks its sizes against an independent measurement (see
``fastzip.benchmarks.matrix.check_marginal_sizes``), so ``--benchmark-disable`` runs
still test something.
"""
from __future__ import annotations

import corpora
import pytest
from codec_matrix import DEFAULT_LEVEL_CODECS, check_marginal_sizes, codec_label, rate, text_pieces

import fastzip
from fastzip.benchmarks import measure

MB = 1_000_000
FLAT_CANDIDATES = 1000
FLAT_THREADS = 2
STREAM_SIZES = [1 * MB, 10 * MB, pytest.param(100 * MB, marks=pytest.mark.slow)]


def test_one_shot_throughput(benchmark, repo_corpus, fastzip_codec):
    measure.one_shot(benchmark, repo_corpus, fastzip_codec)


def test_incremental_throughput(benchmark, repo_corpus, fastzip_codec):
    measure.incremental(benchmark, repo_corpus, fastzip_codec, threads=1)


@pytest.fixture(scope="module")
def flat_cost_material() -> tuple[list, list[bytes]]:
    """Rows for the stream (chitchat, faq, most of evals) and 1,000 evals samples as candidates."""
    evals = corpora.corpus_rows("evals")
    stream_rows = corpora.corpus_rows("chitchat") + corpora.corpus_rows("faq") + evals[:-FLAT_CANDIDATES]
    return stream_rows, text_pieces(evals[-FLAT_CANDIDATES:])


def stream_of_size(rows: list, size: int) -> bytes:
    """``size`` bytes of text whose last 1 MB is the same for every size.

    zlib and lz4 see only that tail, so every size measures the same work
    for them; zstd sees the whole stream, which is the point.
    """
    tail = corpora.text_stream(rows, 1 * MB)
    if size <= len(tail):
        return tail[-size:]
    return corpora.text_stream(rows[::-1], size - len(tail) - 1) + b"\n" + tail


@pytest.mark.benchmark(group="marginal_sizes vs stream size")
@pytest.mark.parametrize("stream_size", STREAM_SIZES, ids=lambda s: f"{s // MB}MB")
@pytest.mark.parametrize("codec,level", DEFAULT_LEVEL_CODECS, ids=lambda v: str(v))
def test_marginal_cost_vs_stream_size(benchmark, flat_cost_material, codec, level, stream_size):
    """The cost per candidate must not grow with the stream (the stream is real text, repeated past ~8 MB)."""
    stream_rows, cands = flat_cost_material
    stream = stream_of_size(stream_rows, stream_size)
    ic = fastzip.IncrementalCompressor(codec, level, separator=b"\n")
    ic.extend([stream])
    sizes = benchmark.pedantic(ic.marginal_sizes, args=(cands,), kwargs={"n_threads": FLAT_THREADS},
                               rounds=3, warmup_rounds=1, iterations=1)
    if stream_size <= 1 * MB:
        check_marginal_sizes(ic, stream, cands[:3], sizes[:3])
    else:  # batch and one-at-a-time agree, and every candidate adds something
        assert ic.marginal_sizes(cands[:3], n_threads=1).tolist() == sizes[:3].tolist()
        assert (sizes > ic.compressed_size).all()
    del stream
    benchmark.extra_info.update(kind="flat_cost", codec=codec, level=level, label=codec_label(codec, level),
                                stream_bytes=stream_size, candidates=len(cands), threads=FLAT_THREADS,
                                candidates_per_s=rate(benchmark, len(cands)))
