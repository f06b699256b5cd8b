"""compressed_sizes / pair_sizes / ncd_matrix equal the codecs' own Python calls, byte for byte."""
from __future__ import annotations

import gzip
import json
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastzip
from fastzip import scoring
from fastzip.errors import InputError
from tests.helpers import load_jsonl, require_zstd_match

zstandard = pytest.importorskip("zstandard")
lz4_frame = pytest.importorskip("lz4.frame")
lz4_block = pytest.importorskip("lz4.block")


def reference(codec: str, level: int, container: str):
    """The codec's own Python call, as a size function."""
    if codec == "gzip" or container == "gzip":
        return lambda x: len(gzip.compress(x, level, mtime=0))
    if codec == "zlib":
        if container == "raw":
            return lambda x: len(zlib.compress(x, level, wbits=-15))
        return lambda x: len(zlib.compress(x, level))
    if codec == "zstd":
        return lambda x: len(zstandard.ZstdCompressor(level=level).compress(x))
    if container == "frame":
        return lambda x: len(lz4_frame.compress(x, compression_level=level))
    store = container == "block"
    if level == 0:
        return lambda x: len(lz4_block.compress(x, store_size=store))
    if level < 0:
        return lambda x: len(lz4_block.compress(x, mode="fast", acceleration=-level, store_size=store))
    return lambda x: len(lz4_block.compress(x, mode="high_compression", compression=level, store_size=store))


CASES = ([("zlib", level, c) for level in range(10) for c in ("zlib", "gzip", "raw")]
         + [("gzip", 9, "gzip"), ("gzip", 0, "gzip")]
         + [("zstd", level, "frame") for level in (0, 1, 3, 19, -1, -5)]
         + [("lz4", level, "frame") for level in (0, -1, -8, 3, 9, 12)]
         + [("lz4", level, c) for level in (0, -4, 9, 12) for c in ("block", "raw")])


@pytest.fixture(scope="module")
def real_texts() -> list[bytes]:
    """Real records of every corpus in tests/data, short and long, plus edge cases."""
    evals = [json.dumps(r, ensure_ascii=False).encode() for r in load_jsonl("openai_evals_5k.jsonl")]
    chat = [json.dumps(r, ensure_ascii=False).encode() for r in load_jsonl("chitchat_1k.jsonl")]
    faq = [r["output"].encode() for r in load_jsonl("faq_qa.jsonl")]
    joined = b"\n".join(evals[:400])
    return (evals[:40] + chat[:20] + faq[:20] + [joined[:70_000], joined[:300_000], b"", b"a",
                                                  b"\x00" * 100_000, bytes(range(256)) * 3])


@pytest.fixture(params=["native", "fallback"])
def sizes_backend(request, monkeypatch):
    if request.param == "native":
        from fastzip.streams import sizes

        if sizes._pairs is None:
            pytest.skip("native extension not built")
        monkeypatch.delenv("FASTZIP_FORCE_FALLBACK", raising=False)
    else:
        monkeypatch.setenv("FASTZIP_FORCE_FALLBACK", "1")
    return request.param


@pytest.mark.parametrize("codec,level,container", CASES)
def test_compressed_sizes_equal_the_codec_call(sizes_backend, real_texts, codec, level, container):
    if codec == "zstd":
        require_zstd_match()
    got = fastzip.compressed_sizes(real_texts, codec, level, container, n_threads=2)
    assert got.dtype == np.int64
    assert got.tolist() == [reference(codec, level, container)(x) for x in real_texts]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(st.binary(max_size=3000) | st.text(max_size=300).map(lambda s: s.encode()),
                      min_size=1, max_size=12),
       case=st.sampled_from(CASES))
def test_compressed_sizes_on_any_bytes(items, case):
    codec, level, container = case
    if codec == "zstd":
        require_zstd_match()
    got = fastzip.compressed_sizes(items, codec, level, container, n_threads=2)
    assert got.tolist() == [reference(codec, level, container)(x) for x in items]


def test_zstd_raw_is_the_empty_stream_marginal(real_texts):
    got = fastzip.compressed_sizes(real_texts[:30], "zstd", 3, "raw")
    ic = fastzip.IncrementalCompressor("zstd", 3)
    assert got.tolist() == ic.marginal_sizes(real_texts[:30]).tolist()


def test_packed_input_index_and_str(real_texts):
    buffer, offsets = fastzip.pack(real_texts[:20])
    assert buffer.tobytes() == b"".join(real_texts[:20]) and offsets[-1] == buffer.size
    idx = np.array([5, 0, 5, 19])
    got = fastzip.compressed_sizes((buffer, offsets), "gzip", 6, index=idx)
    assert got.tolist() == [len(gzip.compress(real_texts[i], 6, mtime=0)) for i in idx]
    assert fastzip.compressed_sizes(["é ünïcode ✓"], "zlib", 9).tolist() == \
        [len(zlib.compress("é ünïcode ✓".encode(), 9))]


def test_one_item_takes_the_short_path():
    assert fastzip.compressed_sizes([b"ab"], "zlib", 9).tolist() == [len(zlib.compress(b"ab", 9))]
    assert fastzip.compressed_sizes([b"ab"], "gzip").tolist() == [len(gzip.compress(b"ab", 9))]


def test_bad_arguments_are_input_errors(real_texts):
    with pytest.raises(InputError, match="no container 'gzip'"):
        fastzip.compressed_sizes([b"x"], "zstd", 3, "gzip")
    with pytest.raises(InputError, match="unknown codec"):
        fastzip.compressed_sizes([b"x"], "brotli")
    with pytest.raises(InputError, match=r"index\[1\] = 9 is outside 0..1"):
        fastzip.compressed_sizes([b"x", b"y"], "zlib", index=[0, 9])
    with pytest.raises(InputError, match="outside the buffer"):
        fastzip.compressed_sizes((np.zeros(3, np.uint8), np.array([0, 5])), "zlib")
    with pytest.raises(InputError, match="must not decrease"):
        fastzip.compressed_sizes((np.zeros(3, np.uint8), np.array([0, 2, 1])), "zlib")
    with pytest.raises(InputError, match="order"):
        fastzip.pair_sizes([b"x"], [b"y"], order="xy")
    with pytest.raises(InputError, match=r"pairs\[:, 1\]\[0\] = 3"):
        fastzip.pair_sizes([b"x"], [b"y"], pairs=[(0, 3)])


def test_registered_codec():
    import bz2

    fastzip.register_codec("bz2_t12", lambda b: bz2.compress(b, 9), replace=True)
    try:
        got = fastzip.compressed_sizes([b"abc", b"x" * 1000, b"q"], "bz2_t12")
        assert got.tolist() == [len(bz2.compress(x, 9)) for x in (b"abc", b"x" * 1000, b"q")]
        _, _, ab = fastzip.pair_sizes([b"abc"], [b"abd"], "bz2_t12", separator=b"-")
        assert ab.tolist() == [[len(bz2.compress(b"abc-abd", 9))]]
    finally:
        fastzip.unregister_codec("bz2_t12")


# ------------------------------------------------------------------ pairs ---------------------
PAIR_CASES = [("zlib", 9, "zlib"), ("zlib", 6, "gzip"), ("zlib", 1, "raw"), ("zlib", 0, "gzip"),
              ("gzip", 9, "gzip"), ("zstd", 3, "frame"), ("lz4", 0, "frame"), ("lz4", 9, "block")]


@pytest.mark.parametrize("codec,level,container", PAIR_CASES)
@pytest.mark.parametrize("separator", [b"", b" "])
def test_pair_sizes_equal_one_shot_of_the_concatenation(sizes_backend, real_texts, codec, level,
                                                        container, separator):
    if codec == "zstd":
        require_zstd_match()
    # short rows (compressed again per column) and long ones (their state copied)
    a = [b"hi", b"x" * 100] + real_texts[:6] + [b""]
    b = real_texts[30:37] + [b"", b"q"]
    size = reference(codec, level, container)
    ca, cb, cab = fastzip.pair_sizes(a, b, codec, level, separator, container, n_threads=2)
    assert ca.tolist() == [size(x) for x in a] and cb.tolist() == [size(y) for y in b]
    assert cab.shape == (len(a), len(b))
    assert cab.tolist() == [[size(x + separator + y) for y in b] for x in a]
    _, _, cba = fastzip.pair_sizes(a, b, codec, level, separator, container, order="ba", n_threads=2)
    assert cba.tolist() == [[size(y + separator + x) for y in b] for x in a]


def test_pair_sizes_given_pairs_and_b_none(real_texts):
    a = real_texts[:12]
    pairs = np.array([(3, 1), (0, 0), (3, 3), (11, 2), (3, 1), (5, 10)])
    size = reference("zlib", 9, "gzip")
    ca, cb, got = fastzip.pair_sizes(a, None, "gzip", 9, b"\n", pairs=pairs, n_threads=2)
    assert got.tolist() == [size(a[i] + b"\n" + a[j]) for i, j in pairs]
    assert ca.tolist() == cb.tolist() == [size(x) for x in a]
    _, _, got_ba = fastzip.pair_sizes(a, None, "gzip", 9, b"\n", pairs=pairs, order="ba")
    assert got_ba.tolist() == [size(a[j] + b"\n" + a[i]) for i, j in pairs]
    _, _, none = fastzip.pair_sizes(a, None, "gzip", 9, pairs=np.zeros((0, 2), np.int64))
    assert none.shape == (0,)


def test_zstd_raw_pairs_are_stream_marginals(real_texts):
    a, b = real_texts[:3], real_texts[10:14]
    _, _, cab = fastzip.pair_sizes(a, b, "zstd", 3, b"\n", "raw")
    for i, x in enumerate(a):
        ic = fastzip.IncrementalCompressor("zstd", 3, separator=b"\n")
        ic.extend([x])
        assert cab[i].tolist() == ic.marginal_sizes(b).tolist()


@pytest.mark.parametrize("codec,level,container", [("zlib", 9, "gzip"), ("zstd", 3, "frame"), ("lz4", 0, "frame")])
def test_same_results_on_any_thread_count(real_texts, codec, level, container):
    a, b = real_texts[:25], real_texts[40:75]     # few rows: work split into column blocks
    want = fastzip.pair_sizes(a, b, codec, level, b" ", container, n_threads=1)
    single = fastzip.compressed_sizes(real_texts, codec, level, container, n_threads=1)
    for threads in (2, 3, 7, -1):
        got = fastzip.pair_sizes(a, b, codec, level, b" ", container, n_threads=threads)
        assert all((g == w).all() for g, w in zip(got, want))
        assert (fastzip.compressed_sizes(real_texts, codec, level, container, n_threads=threads)
                == single).all()


# ------------------------------------------------------------------ ncd_matrix ----------------
def naive(formula, x, y, sep, size):
    a, b, ab = size(x), size(y), size(x + sep + y)
    if formula == "ncd":
        return (ab - min(a, b)) / max(a, b)
    if formula == "cdm":
        return ab / (a + b)
    return (1 - (a + b - ab)) / ab


@pytest.mark.parametrize("formula", ["ncd", "cdm", "clm"])
def test_ncd_matrix_formulas_bit_for_bit(real_texts, formula):
    rows, cols = real_texts[:7], real_texts[20:31]
    size = reference("zlib", 9, "gzip")
    got = scoring.ncd_matrix(rows, cols, codec="gzip", level=9, formula=formula, separator=" ")
    want = np.array([[naive(formula, x, y, b" ", size) for y in cols] for x in rows])
    assert np.array_equal(got, want)                      # exact, not approximately
    got_ba = scoring.ncd_matrix(rows, cols, codec="gzip", level=9, formula=formula, separator=" ",
                                order="ba")
    assert np.array_equal(got_ba, np.array([[naive(formula, y, x, b" ", size) for y in cols]
                                            for x in rows]))


def test_ncd_matrix_symmetric(real_texts):
    texts = real_texts[:9]
    full = scoring.ncd_matrix(texts, codec="zlib", level=6)
    sym = scoring.ncd_matrix(texts, codec="zlib", level=6, symmetric=True)
    assert np.array_equal(sym, sym.T)
    upper = np.triu_indices(9)
    assert np.array_equal(sym[upper], full[upper])
    with pytest.raises(ValueError, match="symmetric"):
        scoring.ncd_matrix(texts, texts, symmetric=True)
    with pytest.raises(ValueError, match="formula"):
        scoring.ncd_matrix(texts, formula="mse")


# ------------------------------------------------------------------ lazy compressed_size ------
def test_fresh_zlib_stream_finishes_no_extra_copy(monkeypatch):
    ic = fastzip.IncrementalCompressor("zlib", 9)
    calls = []
    real = ic._measure_locked
    monkeypatch.setattr(ic, "_measure_locked", lambda *a, **k: calls.append(1) or real(*a, **k))
    sizes = ic.marginal_sizes([b"abc", b"abd"])
    assert len(calls) == 1                                   # the batch, and nothing else
    assert sizes.tolist() == [len(zlib.compress(x, 9)) for x in (b"abc", b"abd")]
    assert ic.compressed_size == len(zlib.compress(b"", 9)) and len(calls) == 1
    ic.extend([b"hello world"])
    ic.marginal_sizes([b"x"])
    assert len(calls) == 2                                   # still no finishing copy
    assert ic.compressed_size == len(zlib.compress(b"hello world", 9)) and len(calls) == 3
    assert ic.added_sizes([b"x"]).tolist() == [len(zlib.compress(b"hello worldx", 9)) - ic.compressed_size]


@settings(max_examples=40, deadline=None)
@given(a_len=st.integers(150, 2200), b_lens=st.lists(st.integers(0, 2100), min_size=1, max_size=4),
       sep=st.sampled_from([b"", b" ", b"\n\n"]), level=st.sampled_from([1, 6, 9]),
       container=st.sampled_from(["zlib", "gzip", "raw"]), seed=st.integers(0, 10_000))
def test_pair_rows_with_a_small_window_are_exact(a_len, b_lens, sep, level, container, seed):
    """Rows copy a deflate state whose window is just large enough: check around those edges."""
    text = b" ".join(json.dumps(r).encode() for r in load_jsonl("faq_qa.jsonl")[seed % 400:][:20])
    a = [text[seed % 500:][:a_len]]
    b = [text[(seed * 7 + k * 131) % 3000:][:n] for k, n in enumerate(b_lens)]
    size = reference("zlib", level, container)
    _, _, got = fastzip.pair_sizes(a, b, "zlib", level, sep, container, n_threads=1)
    assert got[0].tolist() == [size(a[0] + sep + y) for y in b]


@settings(max_examples=40, deadline=None)
@given(a=st.lists(st.binary(min_size=0, max_size=2500), min_size=1, max_size=3),
       b=st.lists(st.binary(min_size=0, max_size=2500), min_size=1, max_size=3),
       sep=st.binary(max_size=3), case=st.sampled_from(PAIR_CASES), threads=st.sampled_from([1, 2]))
def test_pair_sizes_on_any_bytes(a, b, sep, case, threads):
    codec, level, container = case
    if codec == "zstd":
        require_zstd_match()
    size = reference(codec, level, container)
    ca, cb, got = fastzip.pair_sizes(a, b, codec, level, sep, container, n_threads=threads)
    assert ca.tolist() == [size(x) for x in a] and cb.tolist() == [size(y) for y in b]
    assert got.tolist() == [[size(x + sep + y) for y in b] for x in a]


@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_stops_a_long_pair_job(tmp_path, threads):
    """SIGINT during one long pair_sizes call: KeyboardInterrupt within a fraction of a second."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "long.py"
    script.write_text(
        "import sys, time, fastzip\n"
        "texts = [bytes([65 + i % 26]) * 50 + str(i).encode() * 300 for i in range(4000)]\n"
        "print('ready', flush=True)\n"
        "try:\n"
        f"    fastzip.pair_sizes(texts, texts, 'zlib', 9, n_threads={threads})\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', time.perf_counter(), flush=True)\n"
        "    sys.exit(7)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 7, out
    assert float(out.split()[-1]) - sent < 2.0      # well before 16 million pairs could finish


IDLE_PROBE = """
import json, sys, time
import fastzip
texts = [json.dumps(json.loads(l)).encode() for l in open(sys.argv[1])][:200]
ic = fastzip.IncrementalCompressor("zlib", 9)
ic.extend(texts[:5])
idle = 0.0
for threads in (1, 2):
    for _ in range(3):
        ic.marginal_sizes(texts[:100], n_threads=threads)               # fz_batch's pool
        fastzip.compressed_sizes(texts * 5, "zlib", 6, n_threads=threads)  # fz_pairs' jobs
        before = time.process_time()
        time.sleep(0.2)
        idle += time.process_time() - before
print(idle)
"""


@pytest.mark.parametrize("openmp", [False, True], ids=["pool", "openmp-active"])
def test_idle_pool_threads_use_no_cpu(data_dir, openmp):
    """Between batches the pool's threads sleep: pauses cost the process no CPU time.

    The OpenMP team with OMP_WAIT_POLICY=active spins instead, which shows
    that this test sees spinning threads when there are any.
    """
    import os
    import subprocess
    import sys

    if openmp and not fastzip.build_info()["openmp"]:
        pytest.skip("built without OpenMP")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), FASTZIP_OPENMP="1" if openmp else "0")
    env.pop("FASTZIP_FORCE_FALLBACK", None)      # this is the native pool's test, whatever the session forces
    if openmp:
        env["OMP_WAIT_POLICY"] = "active"
    out = subprocess.run([sys.executable, "-c", IDLE_PROBE, str(data_dir / "openai_evals_5k.jsonl")],
                         env=env, check=True, capture_output=True, text=True).stdout
    idle_cpu = float(out)                        # over 1.2 s of pauses
    if openmp:
        assert idle_cpu > 0.1                    # a spinning thread burns the pauses
    else:
        assert idle_cpu < 0.05
