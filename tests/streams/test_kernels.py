"""Marginal sizes equal one-shot compression, for every codec and backend."""
from __future__ import annotations

import threading
import time
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastzip
from fastzip.benchmarks.matrix import zstd_versions_match
from fastzip.samples.pool import pack
from fastzip.streams import codecs
from tests.helpers import require_runnable, require_zstd_match


def zstd_reference_sizes(level: int, stream: bytes, pieces: list[bytes]) -> list[int]:
    """Each piece as one frame via python-zstandard, with ``stream`` as its raw-content dictionary.

    The parameters are those a fastzip zstd stream holding ``stream`` reports
    (``fastzip.streams.codecs.new_stream``, filled as ``IncrementalCompressor.extend``
    fills its own: one append, then a seal), so the compressor under test is
    checked against a second stream, not against its own internals.
    """
    import zstandard as zs

    probe = codecs.new_stream("zstd", level)
    probe.append(np.frombuffer(stream, dtype=np.uint8))
    probe.seal()

    def params(p):
        return zs.ZstdCompressionParameters(
            window_log=p["window_log"], hash_log=p["hash_log"], chain_log=p["chain_log"],
            search_log=p["search_log"], min_match=p["min_match"], target_length=p["target_length"],
            strategy=p["strategy"], enable_ldm=bool(p["ldm"]),
            write_checksum=False, write_content_size=False, write_dict_id=False)

    kwargs = {}
    if stream:
        d = zs.ZstdCompressionDict(stream, dict_type=zs.DICT_TYPE_RAWCONTENT)
        d.precompute_compress(compression_params=params(probe.params(0)[1]))
        kwargs["dict_data"] = d
    sizes = []
    for piece in pieces:
        obj = zs.ZstdCompressor(compression_params=params(probe.params(len(piece))[0]), **kwargs).compressobj()
        sizes.append(len(obj.compress(piece)) + len(obj.flush()))
    return sizes


# ---------------------------------------------------------------- zlib -----
@pytest.mark.parametrize("level", [0, 1, 4, 6, 9])
@pytest.mark.parametrize("stream_len", [0, 1, 5_000, 40_000, 300_000])
def test_zlib_marginal_equals_one_shot(backend, evals_stream, evals_bytes, level, stream_len):
    stream = evals_stream[:stream_len]
    ic = fastzip.IncrementalCompressor("zlib", level)
    # appended in uneven pieces: deflate's output must not depend on slicing
    cut = [0, stream_len // 7, stream_len // 2, stream_len]
    for a, b in zip(cut, cut[1:]):
        ic.extend([stream[a:b]])
    cands = evals_bytes[4000:4040] + [b"", b"\x00" * 3000, "é ünïcode ✓"]
    got = ic.marginal_sizes(cands, n_threads=2)
    want = [len(zlib.compress(stream + (c.encode() if isinstance(c, str) else c), level)) for c in cands]
    assert got.tolist() == want
    assert ic.compressed_size == len(zlib.compress(stream, level))
    assert ic.raw_size == len(stream)


def test_zlib_separator_prefix_suffix(evals_bytes):
    ic = fastzip.IncrementalCompressor("zlib", 9, separator=b", ")
    ic.extend([b"[" + evals_bytes[0]])
    ic.extend([evals_bytes[1], evals_bytes[2]])
    stream = b"[" + b", ".join(evals_bytes[:3])
    got = ic.marginal_sizes(evals_bytes[10:20], prefix=b"<", suffix=b"]")
    assert got.tolist() == [len(zlib.compress(stream + b", <" + c + b"]", 9)) for c in evals_bytes[10:20]]


# ---------------------------------------------------------------- zstd -----
@pytest.mark.parametrize("level", [1, 3, 9, 19])
@pytest.mark.parametrize("stream_len", [0, 1_000, 200_000, pytest.param(3_000_000, marks=pytest.mark.slow)])
def test_zstd_marginal_equals_python_zstandard(backend, evals_stream, evals_bytes, level, stream_len):
    require_zstd_match()
    stream = evals_stream[:stream_len]
    ic = fastzip.IncrementalCompressor("zstd", level)
    ic.extend([stream])
    cands = evals_bytes[4000:4012] + [b"", b"x", b"\x00" * 4000]
    base = ic.compressed_size
    got = ic.marginal_sizes(cands, n_threads=2)
    assert [g - base for g in got.tolist()] == zstd_reference_sizes(level, stream, cands)


def test_zstd_stream_size_is_sum_of_frames(evals_bytes):
    ic = fastzip.IncrementalCompressor("zstd", 3, separator=b"\n")
    total = 0
    for i in range(0, 60, 20):
        batch = evals_bytes[i:i + 20]
        predicted = ic.marginal_sizes([b"\n".join(batch)])[0]   # the separator goes before all but the first
        ic.extend(batch)
        total = ic.compressed_size
        assert total == predicted, i
    assert ic.raw_size == len(b"\n".join(evals_bytes[:60]))


@pytest.mark.parametrize("level", [1, 3])
def test_zstd_marginal_on_a_multi_megabyte_stream(evals_stream, evals_bytes, level):
    """The 3 MB case of the test above at the fast levels (level 9/19 are slow)."""
    require_zstd_match()
    stream = (evals_stream * 2)[:3_000_000]
    ic = fastzip.IncrementalCompressor("zstd", level)
    ic.extend([stream])
    cands = evals_bytes[4000:4010]
    got = ic.added_sizes(cands)
    assert got.tolist() == zstd_reference_sizes(level, stream, cands)


def test_zstd_reaches_the_whole_stream(evals_stream, evals_bytes):
    """A sample repeated from the start of a multi-MB stream is recognised."""
    big = (evals_stream * 2)[:5_000_000]
    ic = fastzip.IncrementalCompressor("zstd", 3)
    ic.extend([big])
    early = [s for s in evals_bytes[:300] if len(s) > 500][:50]   # in the first ~250 KB
    fresh = fastzip.IncrementalCompressor("zstd", 3).marginal_sizes(early)
    repeated = ic.added_sizes(early)
    # with level-3 default tables these shrink only ~20%; grown tables reach them
    assert np.median(repeated / fresh) < 0.15


# ----------------------------------------------------------------- lz4 -----
@pytest.mark.parametrize("level", [0, -4, 3, 9, 12])
@pytest.mark.parametrize("stream_len", [0, 3, 30_000, 200_000])
def test_lz4_marginal_equals_python_lz4(backend, evals_stream, evals_bytes, level, stream_len):
    import lz4.block

    stream = evals_stream[:stream_len]
    ic = fastzip.IncrementalCompressor("lz4", level)
    ic.extend([stream])
    if level >= 1:
        kw = {"mode": "high_compression", "compression": level}
    elif level < 0:
        kw = {"mode": "fast", "acceleration": -level}
    else:
        kw = {}
    cands = evals_bytes[4000:4030] + [b"y", b"\x00" * 5000]
    got = ic.added_sizes(cands, n_threads=2)
    want = [len(lz4.block.compress(c, store_size=False, dict=stream[-65536:], **kw)) for c in cands]
    assert got.tolist() == want


# ------------------------------------------------------------- batching ----
@pytest.mark.parametrize("codec", ["zlib", "zstd", "lz4", "lz77"])
def test_thread_count_does_not_change_results(codec, evals_stream, evals_bytes):
    require_runnable(codec)
    ic = fastzip.IncrementalCompressor(codec)
    ic.extend([evals_stream[:500_000]])
    results = [ic.marginal_sizes(evals_bytes[:800], n_threads=n) for n in (1, 2, 4)]
    assert np.array_equal(results[0], results[1]) and np.array_equal(results[0], results[2])


@pytest.mark.parametrize("codec", ["zlib", "lz77"])
def test_small_batches_inline_or_pooled_agree(codec, evals_stream, evals_bytes):
    """Batches on both sides of the codec's inline bound give the sizes of one-at-a-time calls."""
    require_runnable(codec)
    ic = fastzip.IncrementalCompressor(codec)
    ic.extend([evals_stream[:200_000]])
    one_by_one = [int(ic.marginal_sizes([b], n_threads=1)[0]) for b in evals_bytes[:64]]
    for n in (1, 2, 7, 8, 9, 16, 17, 40, 64):
        for threads in (1, 2):
            assert ic.marginal_sizes(evals_bytes[:n], n_threads=threads).tolist() == one_by_one[:n]


@pytest.mark.parametrize("codec", ["zlib", "zstd", "lz4", "lz77", "registered"])
def test_extend_with_the_measured_size_equals_measuring_again(codec, evals_bytes):
    """extend(measured=) takes the marginal size the caller measured: the same stream as extend alone."""
    if codec != "registered":
        require_runnable(codec)
    if codec == "registered":
        fastzip.register_codec("test-measured-zlib", lambda b: zlib.compress(b, 6), replace=True)
        codec = "test-measured-zlib"
    try:
        _extend_both_ways(codec, evals_bytes)
    finally:
        if codec == "test-measured-zlib":
            fastzip.unregister_codec(codec)


def _extend_both_ways(codec, evals_bytes):
    plain = fastzip.IncrementalCompressor(codec, separator=b"\n")
    given = fastzip.IncrementalCompressor(codec, separator=b"\n")
    for piece in evals_bytes[:40]:
        measured = int(given.marginal_sizes([piece])[0])
        plain.extend([piece])
        given.extend([piece], measured=measured)
        assert given.compressed_size == plain.compressed_size
        assert given.raw_size == plain.raw_size
    after = evals_bytes[40:60]
    assert given.marginal_sizes(after).tolist() == plain.marginal_sizes(after).tolist()
    with pytest.raises(fastzip.UsageError, match="one piece"):
        given.extend(evals_bytes[:2], measured=1)


@pytest.mark.parametrize("codec", ["zlib", "zstd", "lz4"])
def test_fallback_equals_native(codec, monkeypatch, evals_stream, evals_bytes):
    if not codecs.native_available(codec):
        pytest.skip(f"{codec} has no native kernel in this build")
    if codec == "zstd" and not zstd_versions_match():
        pytest.skip("python-zstandard bundles a different libzstd")
    sizes = {}
    for mode in ("native", "fallback"):
        if mode == "fallback":
            monkeypatch.setenv("FASTZIP_FORCE_FALLBACK", "1")
        else:
            monkeypatch.delenv("FASTZIP_FORCE_FALLBACK", raising=False)
        ic = fastzip.IncrementalCompressor(codec, separator=b"\n")
        assert ic.native == (mode == "native")
        ic.extend(evals_bytes[:1500])
        ic.extend(evals_bytes[1500:1600])
        sizes[mode] = (ic.compressed_size, ic.marginal_sizes(evals_bytes[2000:2300], prefix=b"P\n").tolist())
    assert sizes["native"] == sizes["fallback"]


def test_packed_input_and_index(evals_bytes):
    ic = fastzip.IncrementalCompressor("zlib")
    data, offsets = pack(evals_bytes[:50])
    index = np.array([5, 3, 3, 49], dtype=np.int64)
    assert ic.marginal_sizes((data, offsets), index=index).tolist() == \
        ic.marginal_sizes([evals_bytes[i] for i in index]).tolist()
    assert ic.marginal_sizes((data.tobytes(), offsets)).tolist() == ic.marginal_sizes(evals_bytes[:50]).tolist()


def test_gil_is_released_during_a_batch(evals_stream):
    """Another Python thread keeps running while a long native batch runs."""
    if not codecs.uses_native("zlib"):
        pytest.skip("needs the native kernel")
    ic = fastzip.IncrementalCompressor("zlib", 9)
    ic.extend([evals_stream[:100_000]])
    cands = [evals_stream[i:i + 3000] for i in range(0, 3_000_000, 3000)]
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    t = threading.Thread(target=ticker)
    t.start()
    start = time.perf_counter()
    ic.marginal_sizes(cands, n_threads=1)
    elapsed = time.perf_counter() - start
    done.set()
    t.join()
    during = [x for x in ticks if start < x < start + elapsed]
    assert elapsed > 0.05
    # a thread blocked on the GIL would tick about once per 5 ms switch interval at best
    assert len(during) >= 0.5 * elapsed / 0.005 * 0.5


# ----------------------------------------------------------- properties ----
CODEC_LEVELS = [("zlib", 9), ("zlib", 1), ("zstd", 3), ("zstd", 1), ("lz4", 0), ("lz4", 9)]
adversarial = st.one_of(
    st.binary(max_size=3000),
    st.just(b""),
    st.binary(min_size=1, max_size=1),
    st.builds(lambda b, n: b * n, st.binary(min_size=1, max_size=4), st.integers(1, 2000)),
    st.just(b"\xff\xfe\x00invalid utf-8 \xc3\x28"),
)


def one_shot_size(codec: str, level: int, stream: bytes, piece: bytes, ic) -> int:
    if codec == "zlib":
        return len(zlib.compress(stream + piece, level))
    if codec == "lz4":
        import lz4.block

        kw = {"mode": "high_compression", "compression": level} if level >= 1 else {}
        # a private copy: lz4 treats a source that overlaps its dictionary specially
        # (hypothesis can hand us the very same bytes object for both)
        piece = bytes(bytearray(piece))
        return ic.compressed_size + len(lz4.block.compress(piece, store_size=False, dict=stream[-65536:], **kw))
    return ic.compressed_size + zstd_reference_sizes(level, stream, [piece])[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=adversarial, pieces=st.lists(adversarial, min_size=1, max_size=6),
       which=st.sampled_from(CODEC_LEVELS))
def test_marginal_sizes_match_one_shot_on_any_bytes(stream, pieces, which):
    codec, level = which
    if codec == "zstd" and not zstd_versions_match():
        return
    ic = fastzip.IncrementalCompressor(codec, level)
    ic.extend([stream])
    got = ic.marginal_sizes(pieces, n_threads=2).tolist()
    assert got == [one_shot_size(codec, level, stream, p, ic) for p in pieces]


@pytest.mark.slow
def test_ten_megabyte_candidate(evals_stream):
    big = (evals_stream * 3)[:10_000_000]
    for codec in ("zlib", "zstd", "lz4"):
        ic = fastzip.IncrementalCompressor(codec)
        ic.extend([evals_stream[:100_000]])
        got = ic.marginal_sizes([big])[0]
        if codec == "zlib":
            assert got == len(zlib.compress(evals_stream[:100_000] + big, 9))
        elif codec == "lz4" or zstd_versions_match():
            assert got == one_shot_size(codec, ic.level, evals_stream[:100_000], big, ic)


def test_compression_ratio_repr_matches_reference_formula(faq_rows, evals_rows, chitchat_rows):
    for rows in (faq_rows, evals_rows[:1500], chitchat_rows[:300]):
        s = str(rows).encode("utf-8")
        assert fastzip.compression_ratio(rows, codec="zlib", level=9, serializer="repr") == \
            len(s) / len(zlib.compress(s, 9))


def test_zstd_one_frame_sees_all_of_itself(evals_stream, evals_bytes):
    """Without a dictionary (an empty stream, or compression_ratio of a whole
    selection) a large frame's own tables grow too, so a repeat from megabytes
    back is still found, and the size still matches python-zstandard."""
    early = b"\n".join(evals_bytes[:200])
    blob = early + b"\n" + evals_stream[:4_000_000] + b"\n" + early
    ic = fastzip.IncrementalCompressor("zstd", 3)
    whole = ic.marginal_sizes([blob])[0]
    without_repeat = ic.marginal_sizes([early + b"\n" + evals_stream[:4_000_000]])[0]
    fresh = ic.marginal_sizes([early])[0]
    assert whole - without_repeat < 0.05 * fresh
    if zstd_versions_match():
        assert whole == zstd_reference_sizes(3, b"", [blob])[0]


def test_measuring_an_unsealed_zstd_stream_is_refused():
    if not codecs.native_available("zstd"):
        pytest.skip("needs the native zstd kernel")
    from fastzip.streams._native import NativeStream

    stream = NativeStream("zstd", 3)
    stream.append(np.frombuffer(b"appended but not sealed", np.uint8))
    data, offsets = pack([b"candidate"])
    with pytest.raises(ValueError, match="invalid argument"):
        stream.measure(data, offsets)
    stream.seal()
    assert stream.measure(data, offsets)[0] > 0
