"""Codec throughput on real corpora, and marginal_sizes cost against the stream size.

Run:  pytest bench/bench_codecs.py --benchmark-only --benchmark-group-by=group

Groups
* ``throughput one-shot <corpus>``: compress up to 1 MB of the corpus (text
  serializer) once, through fastzip (``compression_ratio``); MB/s of input.
* ``throughput incremental <corpus>``: ``marginal_sizes`` of the corpus's
  next samples against a stream of up to 1 MB of it (1 thread); MB/s of
  candidate bytes and candidates/s.  Registered codecs (bz2, lzma) recompress
  the whole stream per candidate, which is what a user's own codec costs.
* ``marginal_sizes vs stream size``: candidates/s for 1 MB, 10 MB and 100 MB
  (slow) streams; the incremental kernels keep it flat.

Every benchmark checks its sizes against an independent measurement (see
``codec_matrix.check_marginal_sizes``), so ``--benchmark-disable`` runs
still test something.
"""
from __future__ import annotations

import functools

import pytest

import corpora
import fastzip
from codec_matrix import (ALL_CODECS, CUSTOM_CODECS, DEFAULT_LEVEL_CODECS, check_marginal_sizes,
                          codec_label, rate, text_pieces)

MB = 1_000_000
ONE_SHOT_BYTES = 1 * MB
INCREMENTAL_STREAM_BYTES = 1 * MB
CANDIDATES_BUILTIN = 200
CANDIDATES_CUSTOM = 3           # a registered codec recompresses the 1 MB stream per candidate
CORPORA = ["evals", "faq", "chitchat", "sharegpt", "evals-all"]
FLAT_CANDIDATES = 1000
FLAT_THREADS = 2
STREAM_SIZES = [1 * MB, 10 * MB, pytest.param(100 * MB, marks=pytest.mark.slow)]
CODEC_IDS = [codec_label(c, lv) for c, lv in ALL_CODECS]


@functools.lru_cache(maxsize=None)
def corpus_rows(name: str) -> tuple | None:
    """The corpus's samples, or None when its package is not installed."""
    if name == "evals":
        return tuple(corpora.fixture_rows("openai_evals_5k.jsonl"))
    if name == "faq":
        return tuple(corpora.fixture_rows("faq_qa.jsonl"))
    if name == "chitchat":
        return tuple(corpora.fixture_rows("chitchat_1k.jsonl"))
    if name == "sharegpt":
        pairs = corpora.sharegpt_pairs(None)
        return None if pairs is None else tuple(pairs[:4000])
    if name == "evals-all":
        rows = corpora.evals_all_samples()
        return None if rows is None else tuple(rows)
    raise ValueError(name)


def corpus_or_skip(name: str) -> tuple:
    rows = corpus_rows(name)
    if rows is None:
        install = corpora.SHAREGPT_INSTALL if name == "sharegpt" else corpora.EVALS_INSTALL
        pytest.skip(f"corpus {name!r} is not installed: {install}")
    return rows


@functools.lru_cache(maxsize=None)
def throughput_workload(name: str) -> tuple[bytes, bytes, list[bytes]]:
    """(one-shot blob, incremental stream, candidates) for a corpus.

    The stream takes whole samples up to 1 MB or half the corpus, whichever
    is smaller; the candidates are the samples that follow it.
    """
    pieces = text_pieces(list(corpus_or_skip(name)))
    blob = b"\n".join(pieces)[:ONE_SHOT_BYTES]
    target = min(INCREMENTAL_STREAM_BYTES, sum(len(p) + 1 for p in pieces) // 2)
    size, split = 0, 0
    while size < target:
        size += len(pieces[split]) + 1
        split += 1
    stream = b"\n".join(pieces[:split])
    return blob, stream, pieces[split:split + CANDIDATES_BUILTIN]


@pytest.mark.parametrize("codec,level", ALL_CODECS, ids=CODEC_IDS)
@pytest.mark.parametrize("corpus", CORPORA)
def test_one_shot_throughput(benchmark, custom_codecs, corpus, codec, level):
    blob, _, _ = throughput_workload(corpus)
    benchmark.group = f"throughput one-shot {corpus}"
    ratio = benchmark.pedantic(fastzip.compression_ratio, args=(blob,),
                               kwargs={"codec": codec, "level": level},
                               rounds=1 if codec in CUSTOM_CODECS or level >= 19 else 3, iterations=1)
    compressed = len(blob) / ratio
    assert abs(compressed - round(compressed)) < 1e-6 * len(blob) and ratio > 1
    mb_s = rate(benchmark, len(blob) / MB)
    benchmark.extra_info.update(kind="throughput", mode="one-shot", corpus=corpus, codec=codec, level=level,
                                label=codec_label(codec, level), bytes=len(blob), ratio=ratio,
                                mb_per_s=mb_s)


@pytest.mark.parametrize("codec,level", ALL_CODECS, ids=CODEC_IDS)
@pytest.mark.parametrize("corpus", CORPORA)
def test_incremental_throughput(benchmark, custom_codecs, corpus, codec, level):
    _, stream, cands = throughput_workload(corpus)
    if codec in CUSTOM_CODECS:
        cands = cands[:CANDIDATES_CUSTOM]
    ic = fastzip.IncrementalCompressor(codec, level, separator=b"\n")
    ic.extend([stream])
    benchmark.group = f"throughput incremental {corpus}"
    sizes = benchmark.pedantic(ic.marginal_sizes, args=(cands,), kwargs={"n_threads": 1},
                               rounds=1 if codec in CUSTOM_CODECS else 3, iterations=1)
    check_marginal_sizes(ic, stream, cands[:2], sizes[:2])
    cand_bytes = sum(len(c) for c in cands)
    benchmark.extra_info.update(kind="throughput", mode="incremental", corpus=corpus, codec=codec,
                                level=level, label=codec_label(codec, level), threads=1,
                                stream_bytes=len(stream), candidates=len(cands), bytes=cand_bytes,
                                mb_per_s=rate(benchmark, cand_bytes / MB),
                                candidates_per_s=rate(benchmark, len(cands)))


@functools.lru_cache(maxsize=1)
def flat_cost_material() -> tuple[list, list[bytes]]:
    """Rows for the stream (chitchat, faq, most of evals) and 1,000 evals samples as candidates."""
    evals = list(corpus_rows("evals"))
    stream_rows = list(corpus_rows("chitchat")) + list(corpus_rows("faq")) + evals[:-FLAT_CANDIDATES]
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
def test_marginal_cost_vs_stream_size(benchmark, codec, level, stream_size):
    """The cost per candidate must not grow with the stream (the stream is real text, repeated past ~8 MB)."""
    stream_rows, cands = flat_cost_material()
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
