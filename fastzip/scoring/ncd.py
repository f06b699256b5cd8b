"""Normalized compression distance between samples, on fastzip's native compressor.

``NCD(x, y) = (C(x ++ y) - min(C(x), C(y))) / max(C(x), C(y))`` where ``C`` is
the compressed size (Cilibrasi & Vitanyi 2005). ``C(x)`` for every item comes
from one batched call on an empty stream; ``C(x ++ y_j)`` for a row ``x`` and
all columns ``y_j`` comes from one batched call on a stream holding ``x``.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def ncd_matrix(a: Sequence[str | bytes], b: Sequence[str | bytes] | None = None,
               codec: str = "zstd", level: int = 3, n_threads: int = -1) -> np.ndarray:
    """Pairwise NCD between the items of *a* (rows) and *b* (columns; default *a*).

    Args:
        a, b: sequences of ``str`` (UTF-8 encoded) or bytes-like items.
            ``b=None`` compares *a* with itself (n x n).
        codec, level: passed to ``fastzip.IncrementalCompressor``.
        n_threads: threads for the native batch calls (-1: all cores).

    Returns:
        ``(len(a), len(b))`` float64 array. Entry ``[i, j]`` uses
        ``C(a[i] ++ b[j])``, so the matrix is only approximately symmetric and
        its diagonal is small but not zero (``C(xx) > C(x)``). Values lie in
        about ``[0, 1.1]``; smaller means more similar.
    """
    from fastzip import IncrementalCompressor  # the native kernels; loaded on first use

    rows = _as_bytes_list(a, "a")
    cols = rows if b is None else _as_bytes_list(b, "b")
    empty = IncrementalCompressor(codec=codec, level=level)
    size_rows = np.asarray(empty.marginal_sizes(rows, n_threads=n_threads), dtype=np.float64)
    size_cols = (size_rows if b is None else
                 np.asarray(IncrementalCompressor(codec=codec, level=level)
                            .marginal_sizes(cols, n_threads=n_threads), dtype=np.float64))
    packed_cols = _pack(cols)  # packed once, measured against every row
    out = np.empty((len(rows), len(cols)), dtype=np.float64)
    for i, item in enumerate(rows):
        stream = IncrementalCompressor(codec=codec, level=level)
        stream.extend([item])
        joint = np.asarray(stream.marginal_sizes(packed_cols, n_threads=n_threads),
                           dtype=np.float64)
        lo = np.minimum(size_rows[i], size_cols)
        hi = np.maximum(np.maximum(size_rows[i], size_cols), 1.0)  # sizes are > 0 anyway
        out[i] = (joint - lo) / hi
    return out


def _pack(items: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """The ``(uint8 buffer, int64 offsets)`` form that ``marginal_sizes`` accepts."""
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum([len(item) for item in items], out=offsets[1:])
    return np.frombuffer(b"".join(items), dtype=np.uint8), offsets


def _as_bytes_list(items: Any, name: str) -> list[bytes]:
    if isinstance(items, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be a sequence of items, not a single {type(items).__name__}")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            out.append(item.encode("utf-8", errors="surrogatepass"))
        elif isinstance(item, (bytes, bytearray, memoryview)):
            out.append(bytes(item))
        else:
            raise TypeError(f"{name}[{i}] must be str or bytes, got {type(item).__name__}")
    if not out:
        raise ValueError(f"{name} is empty")
    return out
