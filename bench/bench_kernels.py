"""marginal_sizes against a 10 MB stream: native vs fallback vs naive recompression.

Run:  pytest bench/bench_kernels.py --benchmark-only --benchmark-group-by=group

Candidates are real evals records: the fixture's own samples (one record,
about 0.75 KB) and, since the issue speaks of "about 2 KB candidates", three
records joined (about 2.3 KB).  The stream is 10 MB of the same corpus as
text.  The issue's targets on a 2-core machine are checked last (only
when timings are on; the rates travel in the ``bench_results`` fixture, see
bench/conftest.py) on the fixture's own samples: zstd-3 native >= 80,000
candidates/s with 2 threads, zlib-9 native >= 10,000/s, native >= 2x the
fallback for zstd, every codec >= 100x naive recompression.  The 2.3 KB
figures are reported beside them.

Group ``lz77 vs zstd-3 on ShareGPT``: the lz77 cost codec against zstd-3,
both native on 2 threads in the same run, with a 10 MB ShareGPT stream and
ShareGPT pairs of about 1.7 KB as candidates (skipped without ShareGPT).
Target: lz77 >= zstd-3 candidates/s.
"""
from __future__ import annotations

import json
import os
import zlib

import corpora
import numpy as np
import pytest
from corpora import fixture_rows, text_stream

import fastzip
from fastzip.streams import codecs

STREAM_BYTES = 10_000_000
N_CANDIDATES = 4000
CODECS = [("zstd", 3), ("zlib", 9), ("lz4", 0)]


CANDIDATE_SIZES = {"record": 1, "3records": 3}   # evals records per candidate


@pytest.fixture(scope="module")
def stream():
    return text_stream(fixture_rows("openai_evals_5k.jsonl"), STREAM_BYTES)


@pytest.fixture(scope="module", params=sorted(CANDIDATE_SIZES))
def workload(request, stream):
    per = CANDIDATE_SIZES[request.param]
    records = [json.dumps(r, ensure_ascii=False).encode() for r in fixture_rows("openai_evals_5k.jsonl")]
    n = len(records)
    cands = [b"\n".join(records[(per * i + j) % n] for j in range(per)) for i in range(N_CANDIDATES)]
    return request.param, stream, cands


def _compressor(codec: str, level: int, stream: bytes, fallback: bool, monkeypatch):
    if fallback:
        monkeypatch.setenv("FASTZIP_FORCE_FALLBACK", "1")
    else:
        monkeypatch.delenv("FASTZIP_FORCE_FALLBACK", raising=False)
    ic = fastzip.IncrementalCompressor(codec, level)
    ic.extend([stream])
    return ic


def _rate(benchmark, n: int) -> float:
    if benchmark.disabled or not benchmark.stats:
        return float("nan")
    return n / benchmark.stats.stats.mean


@pytest.mark.parametrize("codec,level", CODECS)
@pytest.mark.parametrize("way", ["native", "fallback"])
def test_marginal_sizes_10mb(benchmark, bench_results, workload, monkeypatch, codec, level, way):
    size, stream, cands = workload
    if way == "native" and not codecs.native_available(codec):
        pytest.skip(f"{codec} has no native kernel in this build")
    ic = _compressor(codec, level, stream, way == "fallback", monkeypatch)
    benchmark.group = f"marginal_sizes 10MB {codec}-{level} {size}"
    benchmark.extra_info.update(codec=codec, level=level, way=way, threads=2, candidate=size,
                                stream_bytes=len(stream), candidates=len(cands),
                                mean_candidate_bytes=float(np.mean([len(c) for c in cands])))
    sizes = benchmark.pedantic(ic.marginal_sizes, args=(cands,), kwargs={"n_threads": 2},
                               rounds=3, warmup_rounds=1, iterations=1)
    assert sizes.shape == (len(cands),)
    # spot-check exactness against one-shot compression where it is cheap
    if codec == "zlib":
        assert sizes[0] == len(zlib.compress(stream + cands[0], level))
    else:
        assert (sizes > ic.compressed_size).all()
    rate = _rate(benchmark, len(cands))
    bench_results.record("kernels", (codec, way, size), rate)    # candidates per second
    benchmark.extra_info["candidates_per_s"] = rate


def _naive_size(codec: str, level: int, stream: bytes, cand: bytes) -> int:
    if codec == "zlib":
        return len(zlib.compress(stream + cand, level))
    if codec == "zstd":
        import zstandard

        return len(zstandard.ZstdCompressor(level=level).compress(stream + cand))
    import lz4.block

    return len(lz4.block.compress(stream + cand, store_size=False))


@pytest.mark.parametrize("codec,level", CODECS)
def test_naive_recompression_10mb(benchmark, bench_results, workload, codec, level):
    """What the reference does: recompress the whole stream for every candidate."""
    size, stream, cands = workload
    few = cands[:2] if codec == "zlib" else cands[:6]
    benchmark.group = f"marginal_sizes 10MB {codec}-{level} {size}"
    benchmark.extra_info.update(codec=codec, level=level, way="naive", threads=1, candidate=size,
                                stream_bytes=len(stream), candidates=len(few))

    def naive():
        return [_naive_size(codec, level, stream, c) for c in few]

    sizes = benchmark.pedantic(naive, rounds=1, iterations=1)
    assert all(s > 0 for s in sizes)
    rate = _rate(benchmark, len(few))
    bench_results.record("kernels", (codec, "naive", size), rate)
    benchmark.extra_info["candidates_per_s"] = rate


@pytest.fixture(scope="module")
def sharegpt_workload():
    pairs = corpora.sharegpt_pairs(None)
    if pairs is None:
        pytest.skip(f"ShareGPT is not installed: {corpora.SHAREGPT_INSTALL}")
    from fastzip.samples.serialize import serialize_sample

    stream = text_stream(pairs[:20000], STREAM_BYTES)
    texts = [serialize_sample(p, "text") for p in pairs[20000:]]
    # about 1.7 KB each: pairs between 1 and 2.5 KB, after the stream's pairs
    cands = [t for t in texts if 1000 <= len(t) <= 2500][:N_CANDIDATES]
    return stream, cands


@pytest.mark.benchmark(group="lz77 vs zstd-3 on ShareGPT")
@pytest.mark.parametrize("codec,level", [("zstd", 3), ("lz77", 2)])
def test_lz77_vs_zstd3_sharegpt(benchmark, bench_results, sharegpt_workload, monkeypatch, codec, level):
    stream, cands = sharegpt_workload
    if not codecs.native_available(codec):
        pytest.skip(f"{codec} has no native kernel in this build")
    ic = _compressor(codec, level, stream, False, monkeypatch)
    benchmark.extra_info.update(codec=codec, level=level, way="native", threads=2, candidate="sharegpt-pair",
                                stream_bytes=len(stream), candidates=len(cands),
                                mean_candidate_bytes=float(np.mean([len(c) for c in cands])))
    sizes = benchmark.pedantic(ic.added_sizes, args=(cands,), kwargs={"n_threads": 2},
                               rounds=3, warmup_rounds=1, iterations=1)
    assert (sizes > 0).all()
    rate = _rate(benchmark, len(cands))
    bench_results.record("kernels lz77", codec, rate)
    benchmark.extra_info["candidates_per_s"] = rate


def _timed_rates(bench_results, section: str, keys: list, made_by: str) -> dict:
    """The recorded rates of ``keys``, or skip: a benchmark missing or untimed."""
    rates = bench_results.need(section, keys, made_by)
    if any(np.isnan(v) for v in rates.values()):
        pytest.skip(f"{made_by} ran without timings")
    return rates


@pytest.mark.reads_results
@pytest.mark.benchmark(group="targets")
def test_lz77_target(timed_target, bench_results):
    """lz77 measures at least as many candidates per second as zstd-3 (same run)."""
    rates = _timed_rates(bench_results, "kernels lz77", ["lz77", "zstd"], "test_lz77_vs_zstd3_sharegpt")
    assert rates["lz77"] >= rates["zstd"], rates


@pytest.mark.reads_results
@pytest.mark.benchmark(group="targets")
def test_targets(timed_target, bench_results):
    """The issue's speed targets (2-core machine); skipped when timings are off.

    zstd-3 and zlib-9 native on one-record candidates must have been timed;
    the comparisons with the fallback and naive recompression are checked
    for the codecs whose rates were recorded too.
    """
    _timed_rates(bench_results, "kernels", [("zstd", "native", "record"), ("zlib", "native", "record")],
                 "test_marginal_sizes_10mb (one-record candidates, native zstd-3 and zlib-9)")
    if os.cpu_count() and os.cpu_count() < 2:
        pytest.skip("the targets are for 2 cores")
    rate = {key[:2]: value for key, value in bench_results.section("kernels").items()
            if key[2] == "record" and not np.isnan(value)}
    failures = []
    if rate.get(("zstd", "native"), 0) < 80_000:
        failures.append(f"zstd-3 native {rate.get(('zstd', 'native'), 0):,.0f}/s < 80,000/s")
    if rate.get(("zlib", "native"), 0) < 10_000:
        failures.append(f"zlib-9 native {rate.get(('zlib', 'native'), 0):,.0f}/s < 10,000/s")
    both = {("zstd", "native"), ("zstd", "fallback")} <= rate.keys()
    if both and rate[("zstd", "native")] < 2 * rate[("zstd", "fallback")]:
        failures.append("zstd native < 2x fallback")
    for codec, _ in CODECS:
        both = {(codec, "native"), (codec, "naive")} <= rate.keys()
        if both and rate[(codec, "native")] < 100 * rate[(codec, "naive")]:
            failures.append(f"{codec} native < 100x naive")
    assert not failures, "; ".join(failures)
