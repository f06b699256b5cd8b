"""One-shot compressed sizes and pair sizes, batched and threaded (docs/semantics.md §7).

:func:`compressed_sizes` gives, for many byte strings at once, exactly the
length that the codec's usual Python call returns:

============  ===========  ====================================================
codec         container    each size equals
============  ===========  ====================================================
``zlib``      ``zlib``     ``len(zlib.compress(x, level))`` (the default)
``zlib``      ``gzip``     ``len(gzip.compress(x, level, mtime=0))``
``zlib``      ``raw``      ``len(zlib.compress(x, level, wbits=-15))``
``gzip``      ``gzip``     the same as ``zlib`` / ``gzip``
``zstd``      ``frame``    ``len(zstandard.ZstdCompressor(level=level).compress(x))``
``zstd``      ``raw``      fastzip's own zstd frame (no content size; see
                           ``IncrementalCompressor``), i.e. its marginal size
                           on an empty stream
``lz4``       ``frame``    ``len(lz4.frame.compress(x, compression_level=level))``
``lz4``       ``block``    ``len(lz4.block.compress(x, ...))``: level 0 the
                           default mode, level < 0 ``mode="fast",
                           acceleration=-level``, 1..12 ``mode="high_compression",
                           compression=level``
``lz4``       ``raw``      the same block without its 4-byte size
                           (``store_size=False``)
============  ===========  ====================================================

A gzip member's size does not depend on its mtime, so ``mtime=0`` only makes
the bytes reproducible. zstd sizes equal python-zstandard's when both link the
same libzstd (``fastzip.build_info()`` says which this build links).

:func:`pair_sizes` gives ``C(a_i)``, ``C(b_j)`` and ``C(a_i ++ sep ++ b_j)``
for a whole matrix (or a list of pairs) in one C call: the work is split
over (row, block of columns) on the thread pool, and for zlib the deflate
state after ``a_i ++ sep`` is built once per row and copied per column.
"""
from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterable

import lz4.block
import lz4.frame
import numpy as np
import numpy.typing as npt
import zstandard

from ..errors import InputError
from ..samples.pool import pack
from . import codecs
from .compressor import Candidates, IncrementalCompressor, as_packed
from .protocol import I64Array, U8Array
from .threads import resolve_threads

try:
    from . import _pairs
except ImportError:  # the extension is not built: the bindings only
    # mypy types the name as the module; None is its documented "not built" value
    _pairs = None  # type: ignore[assignment]

__all__ = ["compressed_sizes", "pair_sizes", "pack", "CONTAINERS"]

#: containers per codec; the first is the default
CONTAINERS = {"zlib": ("zlib", "gzip", "raw"), "zstd": ("frame", "raw"), "lz4": ("frame", "block", "raw")}

Items = Candidates   # a list of bytes/str, or a packed (buffer, offsets) pair
# (codec, level, container) as given -> size
_ZLIB_CALLS: dict[tuple[str, int | None, str | None], Callable[[bytes], int]] = {}


def _resolve(codec: str, level: int | None, container: str | None) -> tuple[str, int, str | None]:
    """Check codec, level and container; fill in the defaults."""
    if codec == "gzip":
        if container not in (None, "gzip"):
            raise InputError(f"codec 'gzip' has only the gzip container, got {container!r}")
        codec, container = "zlib", "gzip"
    if codec == "zstd" and level == 0:
        level = 3            # zstd level 0 is libzstd's default level, as python-zstandard passes it on
    if codec == "lz77":
        raise InputError("lz77 estimates what a piece adds to a growing stream (IncrementalCompressor); it writes "
                         "no compressed output, so one-shot and pair sizes take zlib, gzip, zstd, lz4 or a "
                         "registered codec")
    try:
        codec, level = codecs.resolve(codec, level)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if codec not in CONTAINERS:   # a registered codec: its own output, no container
        if container is not None:
            raise InputError(f"codec {codec!r} is a registered codec: it takes no container")
        return codec, level, None
    if container is None:
        container = CONTAINERS[codec][0]
    if container not in CONTAINERS[codec]:
        raise InputError(f"codec {codec!r} has no container {container!r}; "
                         f"choose one of {', '.join(CONTAINERS[codec])}")
    return codec, level, container


def _native(codec: str, container: str | None) -> bool:
    return (_pairs is not None and container is not None and not codecs.force_fallback()
            and _pairs.supported(codec, container))


def _binding(codec: str, level: int, container: str | None) -> Callable[[bytes], int]:
    """The size of one item through the PyPI binding / the standard library."""
    if container is None:
        compress = codecs._CUSTOM[codec]
        return lambda x: len(compress(x))
    if codec == "zlib":
        if container == "zlib":
            return lambda x: len(zlib.compress(x, level))
        if container == "gzip":
            return lambda x: len(gzip.compress(x, level, mtime=0))
        # the zlib container is the same deflate body plus a 2-byte header and a 4-byte Adler-32
        # (zlib.compress's wbits=-15 would say it directly, but only from Python 3.11)
        return lambda x: len(zlib.compress(x, level)) - 6
    if codec == "zstd":
        if container == "raw":
            return lambda x: int(_raw_stream_sizes(codec, level, [x], 1)[0])
        cctx = zstandard.ZstdCompressor(level=level)
        return lambda x: len(cctx.compress(x))
    if container == "frame":
        return lambda x: len(lz4.frame.compress(x, compression_level=level))
    store = container == "block"
    if level == 0:
        return lambda x: len(lz4.block.compress(x, store_size=store))
    if level < 0:
        return lambda x: len(lz4.block.compress(x, mode="fast", acceleration=-level, store_size=store))
    return lambda x: len(lz4.block.compress(x, mode="high_compression", compression=level,
                                            store_size=store))


def _raw_stream_sizes(codec: str, level: int, items: Candidates, n_threads: int) -> I64Array:
    return IncrementalCompressor(codec, level).marginal_sizes(items, n_threads=n_threads)


def _checked(items: Candidates, name: str) -> tuple[U8Array, I64Array]:
    """(uint8 buffer, int64 offsets), with the offsets checked against the buffer."""
    try:
        data, offsets = as_packed(items)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None
    if offsets.ndim != 1 or offsets.size == 0:
        raise InputError(f"{name}: offsets must be a 1-D array with one entry more than items")
    if offsets[0] < 0 or offsets[-1] > data.size:
        raise InputError(f"{name}: offsets point outside the buffer")
    steps = np.diff(offsets)
    if steps.size and steps.min() < 0:
        raise InputError(f"{name}: offsets must not decrease (at item {int(np.argmin(steps))})")
    return data, offsets


def _check_index(index: npt.ArrayLike, n: int, name: str) -> I64Array:
    idx = np.ascontiguousarray(index, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(np.flatnonzero((idx < 0) | (idx >= n))[0])
        raise InputError(f"{name}[{bad}] = {int(idx[bad])} is outside 0..{n - 1}")
    return idx


def _items_of(data: U8Array, offsets: I64Array, index: I64Array | None) -> list[bytes]:
    raw = data.tobytes()
    ids: Iterable[int] = range(len(offsets) - 1) if index is None else index.tolist()
    return [raw[offsets[i]:offsets[i + 1]] for i in ids]


def compressed_sizes(items: Items, codec: str = "zlib", level: int | None = None,
                     container: str | None = None, *, index: npt.ArrayLike | None = None,
                     n_threads: int | None = -1) -> I64Array:
    """One-shot compressed size of every item, exactly as the codec's Python call gives it.

    Parameters
    ----------
    items : list of bytes or str, or (buffer, offsets)
        The items (str as UTF-8), or a packed pair where item i is
        ``buffer[offsets[i]:offsets[i+1]]`` (see :func:`fastzip.samples.pool.pack`).
    codec : str, optional
        ``"zlib"``, ``"gzip"``, ``"zstd"``, ``"lz4"`` or a codec given to
        :func:`fastzip.register_codec`.
    level : int or None, optional
        The codec's level; None is fastzip's default (zlib 9, zstd 3, lz4 0).
        Note that ``zlib.compress``'s own default is 6.
    container : str or None, optional
        See the table in the module docstring; None is the codec's usual
        one-shot call (zlib: ``zlib``, gzip: ``gzip``, zstd and lz4: ``frame``).
    index : array_like of int, optional
        Measure only these items, in this order.
    n_threads : int or None, optional
        Threads (-1: every core); results do not depend on it.

    Returns
    -------
    numpy.ndarray of int64
        One size per item (per index entry).

    Raises
    ------
    fastzip.errors.InputError
        An unknown codec, level or container, or items or an index that do
        not fit together.

    Examples
    --------
    >>> import gzip, fastzip
    >>> texts = [b"the cat sat on the mat", b"SELECT 1;"]
    >>> list(fastzip.compressed_sizes(texts, "gzip", 9)) == [len(gzip.compress(t, 9)) for t in texts]
    True
    """
    # one or two small items: the standard library's zlib is the cheapest exact
    # answer (zstd and lz4 stay on the native kernels, whose library version
    # may differ from the bindings')
    if type(items) is list and len(items) <= 2 and index is None:
        key = (codec, level, container)
        size = _ZLIB_CALLS.get(key)
        if size is None and codec in ("zlib", "gzip"):
            size = _ZLIB_CALLS[key] = _binding(*_resolve(codec, level, container))
        if size is not None:
            out = np.empty(len(items), dtype=np.int64)
            for k, x in enumerate(items):
                if type(x) is not bytes or len(x) >= 4096:
                    break
                out[k] = size(x)
            else:
                return out
    codec, level, container = _resolve(codec, level, container)
    threads = resolve_threads(n_threads)
    data, offsets = _checked(items, "items")
    idx = None if index is None else _check_index(index, offsets.size - 1, "index")
    if codec == "zstd" and container == "raw":
        return IncrementalCompressor(codec, level).marginal_sizes((data, offsets), n_threads=threads,
                                                                  index=idx)
    if container is not None and _native(codec, container):
        return _pairs.oneshot_sizes(codec, level, container, data, offsets, idx, threads)
    size = _binding(codec, level, container)
    return np.array([size(x) for x in _items_of(data, offsets, idx)], dtype=np.int64)


def pair_sizes(a: Items, b: Items | None = None, codec: str = "zlib", level: int | None = None,
               separator: bytes | str = b"", container: str | None = None, order: str = "ab", *,
               pairs: npt.ArrayLike | None = None, n_threads: int | None = -1) -> tuple[I64Array, I64Array, I64Array]:
    """``(C(a_i), C(b_j), C(a_i ++ separator ++ b_j))`` for a whole matrix, in one C call.

    ``C`` is the one-shot size of :func:`compressed_sizes` with the same codec,
    level and container, so every number equals the codec's own Python call on
    the concatenated bytes.

    Parameters
    ----------
    a : list of bytes or str, or (buffer, offsets)
        The first items, or a packed pair.
    b : list of bytes or str, or (buffer, offsets), or None, optional
        The second items; None is ``a``.
    codec, level, container : str, int or None, str or None, optional
        As in :func:`compressed_sizes`.
    separator : bytes or str, optional
        Put between the two items (str as UTF-8).
    order : str, optional
        ``"ab"`` joins ``a_i ++ sep ++ b_j``; ``"ba"`` joins
        ``b_j ++ sep ++ a_i`` (the result is still indexed ``[i, j]``).
    pairs : array_like of int, optional
        A ``(k, 2)`` array of ``(i, j)``: only these pairs; the third result
        is then ``(k,)`` in the same order.
    n_threads : int or None, optional
        Threads (-1: every core); results do not depend on it.

    Returns
    -------
    size_a, size_b, size_ab : numpy.ndarray of int64
        ``(len(a),)``, ``(len(b),)`` and ``(len(a), len(b))`` (or ``(k,)``).

    Raises
    ------
    fastzip.errors.InputError
        An unknown codec, level, container or order, a separator that is
        neither bytes nor str, or pairs outside the items.

    Examples
    --------
    >>> import zlib, fastzip
    >>> ca, cb, cab = fastzip.pair_sizes([b"abc abc"], [b"abd", b"xyz"], "zlib", 9, separator=b" ")
    >>> int(cab[0, 1]) == len(zlib.compress(b"abc abc xyz", 9))
    True
    """
    codec, level, container = _resolve(codec, level, container)
    if isinstance(separator, str):
        separator = separator.encode("utf-8")
    if not isinstance(separator, (bytes, bytearray, memoryview)):
        raise InputError("separator must be bytes or str")
    sep = bytes(separator)
    if order not in ("ab", "ba"):
        raise InputError(f"order must be 'ab' or 'ba', got {order!r}")
    threads = resolve_threads(n_threads)
    a_data, a_off = _checked(a, "a")
    b_data, b_off = (a_data, a_off) if b is None else _checked(b, "b")
    na, nb = a_off.size - 1, b_off.size - 1
    pair_arr = None
    if pairs is not None:
        pair_arr = np.ascontiguousarray(pairs, dtype=np.int64)
        if pair_arr.ndim != 2 or pair_arr.shape[1] != 2:
            raise InputError("pairs must be a (k, 2) array of (i, j)")
        _check_index(pair_arr[:, 0], na, "pairs[:, 0]")
        _check_index(pair_arr[:, 1], nb, "pairs[:, 1]")
    if order == "ba":
        swapped = None if pair_arr is None else np.ascontiguousarray(pair_arr[:, ::-1])
        cb, ca, cba = _pair_sizes(codec, level, container, b_data, b_off, a_data, a_off, sep, swapped, threads)
        return ca, cb, (cba if pair_arr is not None else np.ascontiguousarray(cba.T))
    return _pair_sizes(codec, level, container, a_data, a_off, b_data, b_off, sep, pair_arr, threads)


def _pair_sizes(codec: str, level: int, container: str | None, a_data: U8Array, a_off: I64Array,
                b_data: U8Array, b_off: I64Array, sep: bytes, pair_arr: I64Array | None,
                threads: int) -> tuple[I64Array, I64Array, I64Array]:
    """The three results of :func:`pair_sizes` in order ``ab``, native or through the bindings."""
    na, nb = a_off.size - 1, b_off.size - 1
    if container is not None and _native(codec, container):
        if pair_arr is None:
            return _pairs.pair_sizes(codec, level, container, a_data, a_off, b_data, b_off, sep,
                                     n_threads=threads)
        # rows of the sparse form: pairs grouped by i, each row's stream built once
        perm = np.argsort(pair_arr[:, 0], kind="stable")
        rows_sorted = pair_arr[perm, 0]
        row_ids, starts = np.unique(rows_sorted, return_index=True)
        col_ptr = np.append(starts, rows_sorted.size).astype(np.int64)
        cols = np.ascontiguousarray(pair_arr[perm, 1])
        ca, cb, flat = _pairs.pair_sizes(codec, level, container, a_data, a_off, b_data, b_off, sep,
                                         row_ids=np.ascontiguousarray(row_ids, dtype=np.int64),
                                         col_ptr=col_ptr, cols=cols, n_threads=threads)
        out = np.empty_like(flat)
        out[perm] = flat
        return ca, cb, out
    a_items = _items_of(a_data, a_off, None)
    b_items = _items_of(b_data, b_off, None)
    if codec == "zstd" and container == "raw":
        # fastzip's stream semantics: a_i ++ sep is the stream, b_j the candidate
        ca = _raw_stream_sizes(codec, level, a_items, threads) if na else np.zeros(0, np.int64)
        cb = _raw_stream_sizes(codec, level, b_items, threads) if nb else np.zeros(0, np.int64)

        def row(i: int, cols: Iterable[int]) -> I64Array:
            ic = IncrementalCompressor(codec, level, separator=sep)
            ic.extend([a_items[i]])
            return ic.marginal_sizes([b_items[j] for j in cols], n_threads=threads)
    else:
        size = _binding(codec, level, container)
        ca = np.array([size(x) for x in a_items], dtype=np.int64)
        cb = np.array([size(x) for x in b_items], dtype=np.int64)

        def row(i: int, cols: Iterable[int]) -> I64Array:
            return np.array([size(a_items[i] + sep + b_items[j]) for j in cols], dtype=np.int64)
    if pair_arr is None:
        matrix: I64Array = np.empty((na, nb), dtype=np.int64)
        for i in range(na):
            if nb:
                matrix[i] = row(i, range(nb))
        return ca, cb, matrix
    listed: I64Array = np.empty(len(pair_arr), dtype=np.int64)
    for i in np.unique(pair_arr[:, 0]):
        where = np.flatnonzero(pair_arr[:, 0] == i)
        listed[where] = row(int(i), [int(j) for j in pair_arr[where, 1]])
    return ca, cb, listed
