"""fastzip.scoring.ncd_matrix against the NCD formula on one-shot compression."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from fastzip import scoring

TEXTS = [
    "the quick brown fox jumps over the lazy dog " * 4,
    "the quick brown fox leaps over the lazy cat " * 4,
    "lorem ipsum dolor sit amet, consectetur adipiscing elit " * 3,
    "SELECT name, count(*) FROM users GROUP BY name ORDER BY 2 DESC;",
    b"\x00\x01\x02 binary payload \xff\xfe" * 5,
]


def naive_ncd(a, b, size):
    a = [t.encode() if isinstance(t, str) else t for t in a]
    b = [t.encode() if isinstance(t, str) else t for t in b]
    out = np.empty((len(a), len(b)))
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            cx, cy, cxy = size(x), size(y), size(x + y)
            out[i, j] = (cxy - min(cx, cy)) / max(cx, cy)
    return out


class ZlibStream:
    """Stand-in with IncrementalCompressor's contract, on zlib one-shot compression."""

    def __init__(self, codec="zlib", level=6):
        assert codec == "zlib"
        self.level, self.data = level, b""

    def extend(self, items):
        self.data += b"".join(items)

    def marginal_sizes(self, items, n_threads=-1):
        if isinstance(items, tuple):                        # the (buffer, offsets) form
            buf, off = bytes(items[0]), items[1]
            items = [buf[off[i]:off[i + 1]] for i in range(len(off) - 1)]
        return np.array([len(zlib.compress(self.data + x, self.level)) for x in items],
                        dtype=np.int64)


def test_ncd_formula_on_a_stand_in_compressor(monkeypatch):
    import fastzip

    monkeypatch.setattr(fastzip, "IncrementalCompressor", ZlibStream, raising=False)
    got = scoring.ncd_matrix(TEXTS, codec="zlib", level=6)
    want = naive_ncd(TEXTS, TEXTS, lambda s: len(zlib.compress(s, 6)))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    got_ab = scoring.ncd_matrix(TEXTS[:2], TEXTS[2:], codec="zlib", level=6)
    np.testing.assert_allclose(got_ab, want[:2, 2:], rtol=1e-12)
    with pytest.raises(ValueError, match="a is empty"):
        scoring.ncd_matrix([], codec="zlib")
    with pytest.raises(TypeError, match="a\\[1\\] must be str or bytes"):
        scoring.ncd_matrix(["x", 3], codec="zlib")
    with pytest.raises(TypeError, match="sequence of items"):
        scoring.ncd_matrix("abc", codec="zlib")


def _native_compressor():
    try:
        from fastzip import IncrementalCompressor
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"fastzip.IncrementalCompressor is not available yet ({exc})")
    return IncrementalCompressor


def test_ncd_native_zlib_equals_one_shot_zlib():
    _native_compressor()
    got = scoring.ncd_matrix(TEXTS, codec="zlib", level=6)
    want = naive_ncd(TEXTS, TEXTS, lambda s: len(zlib.compress(s, 6)))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_ncd_native_zstd_properties():
    _native_compressor()
    texts = TEXTS[:4]
    m = scoring.ncd_matrix(texts, codec="zstd", level=3)
    assert m.shape == (4, 4) and np.isfinite(m).all()
    assert (m >= 0).all() and (m <= 1.2).all()
    off = m[~np.eye(4, dtype=bool)]
    assert np.diag(m).max() < off.min()                       # NCD(x, x) is the smallest
    assert m[0, 1] < m[0, 2] and m[0, 1] < m[0, 3]            # fox/fox closer than fox/lorem
    np.testing.assert_allclose(m, m.T, atol=0.15)             # roughly symmetric


def test_lz77_has_no_one_shot_sizes_and_says_so_in_one_line():
    import fastzip
    from fastzip.errors import InputError
    from fastzip.scoring import ncd_matrix

    for call in (lambda: fastzip.compressed_sizes([b"abc def"], codec="lz77"),
                 lambda: fastzip.pair_sizes([b"abc def"], codec="lz77"),
                 lambda: ncd_matrix(["abc def", "abc xyz"], codec="lz77", level=2)):
        with pytest.raises(InputError, match="lz77 estimates what a piece adds") as err:
            call()
        assert "\n" not in str(err.value)
