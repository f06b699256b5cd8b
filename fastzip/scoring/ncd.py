"""Compression distances between samples, on fastzip's pair sizes.

With ``C`` the one-shot compressed size (:func:`fastzip.compressed_sizes`),
``a = C(x)``, ``b = C(y)`` and ``ab = C(x ++ separator ++ y)``:

* ``ncd``: ``(ab - min(a, b)) / max(a, b)`` (Cilibrasi & Vitanyi 2005);
* ``cdm``: ``ab / (a + b)`` (compression-based dissimilarity);
* ``clm``: ``(1 - (a + b - ab)) / ab``, as npc_gzip writes it.

All sizes come from one :func:`fastzip.pair_sizes` call, and the formulas
are evaluated in float64 exactly as those programs do, so with the same codec,
level and separator the numbers are equal bit for bit (npc_gzip: ``codec="gzip",
level=9, separator=" ", order="ba"`` with the test texts as rows; ZIP-FIT:
``codec="gzip"`` at its level, no separator).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..streams.sizes import pair_sizes

Formula = Literal["ncd", "cdm", "clm"]
"""The distances :func:`ncd_matrix` computes (see the module docstring)."""

Order = Literal["ab", "ba"]
"""Which item comes first in a pair: ``a_i ++ sep ++ b_j`` or ``b_j ++ sep ++ a_i``."""

FORMULAS: tuple[Formula, ...] = get_args(Formula)


def ncd_matrix(a: Sequence[str | bytes], b: Sequence[str | bytes] | None = None,
               codec: str = "zstd", level: int | None = 3, n_threads: int = -1, *,
               formula: Formula = "ncd", separator: bytes | str = b"", container: str | None = None,
               order: Order = "ab", symmetric: bool = False) -> npt.NDArray[np.float64]:
    """Pairwise compression distance between the items of *a* (rows) and *b* (columns).

    Parameters
    ----------
    a : sequence of str or bytes
        The rows: ``str`` items (encoded as UTF-8) or bytes-like items.
    b : sequence of str or bytes, or None
        The columns; ``None`` compares *a* with itself (n x n).
    codec : str, default "zstd"
        As in :func:`fastzip.compressed_sizes`; ``"gzip"`` is gzip.compress.
    level : int or None, default 3
        The codec's level (``None``: its default).
    n_threads : int, default -1
        Threads of the native call (-1: all cores); results do not depend on it.
    formula : {"ncd", "cdm", "clm"}
        The distance (see the module docstring).
    separator : bytes or str, default b""
        Put between the two items of a pair.
    container : str or None
        As in :func:`fastzip.compressed_sizes`; the default is the codec's
        one-shot call (zstd: ``ZstdCompressor(level).compress``);
        ``container="raw"`` with zstd gives fastzip's incremental-stream sizes
        (the stream ``a_i``, the candidate ``b_j``).
    order : {"ab", "ba"}
        ``"ab"`` compresses ``a_i ++ sep ++ b_j``; ``"ba"`` ``b_j ++ sep ++ a_i``.
    symmetric : bool, default False
        Only with ``b=None``: compute the pairs ``i <= j`` once and mirror
        them, so the result is exactly symmetric, in about half the time.

    Returns
    -------
    numpy.ndarray
        ``(len(a), len(b))`` float64.  NCD lies in about ``[0, 1.1]``; smaller
        means more similar.  Without ``symmetric`` the matrix is only roughly
        symmetric, and its diagonal is small but not zero.

    Raises
    ------
    fastzip.errors.InputError
        An unknown formula, ``symmetric`` with ``b``, or what
        :func:`fastzip.pair_sizes` refuses (codec, level, container).
    TypeError
        A single str or bytes instead of a sequence, or an item that is
        neither.
    ValueError
        An empty ``a`` or ``b``.
    """
    if formula not in FORMULAS:
        raise InputError(f"formula must be one of {', '.join(FORMULAS)}, got {formula!r}")
    rows = _as_bytes_list(a, "a")
    cols = rows if b is None else _as_bytes_list(b, "b")
    if symmetric:
        if b is not None:
            raise InputError("symmetric=True compares a with itself: leave b out")
        n = len(rows)
        i, j = np.triu_indices(n)
        size_a, _, upper = pair_sizes(rows, None, codec, level, separator, container, order,
                                      pairs=np.stack([i, j], axis=1), n_threads=n_threads)
        joint = np.empty((n, n), dtype=np.int64)
        joint[i, j] = upper
        joint[j, i] = upper
        size_b = size_a
    else:
        size_a, size_b, joint = pair_sizes(rows, None if b is None else cols, codec, level, separator, container,
                                           order, n_threads=n_threads)
    return _formula(formula, size_a[:, None].astype(np.float64), size_b[None, :].astype(np.float64),
                    joint.astype(np.float64))


def _formula(formula: Formula, a: npt.NDArray[np.float64], b: npt.NDArray[np.float64],
             ab: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """npc_gzip's / ZIP-FIT's float64 arithmetic, element by element, broadcast."""
    out: npt.NDArray[np.float64]
    if formula == "ncd":
        out = (ab - np.minimum(a, b)) / np.maximum(a, b)
    elif formula == "cdm":
        out = ab / (a + b)
    else:
        out = (1 - (a + b - ab)) / ab
    return out


def _as_bytes_list(items: Iterable[object], name: str) -> list[bytes]:
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
        raise InputError(f"{name} is empty")
    return out
