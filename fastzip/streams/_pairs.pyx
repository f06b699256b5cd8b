# cython: language_level=3, boundscheck=False, wraparound=False
"""Thin Cython wrapper over csrc/fz_pairs.c: one-shot and pair sizes.

Policy (codec names, containers, fallbacks) lives in ``fastzip.streams.sizes``.
"""
import numpy as np
from cpython.exc cimport PyErr_CheckSignals
from libc.stdint cimport int64_t, uint8_t


cdef extern from "fz_common.h":
    int FZ_OK, FZ_ENOMEM, FZ_ECODEC, FZ_EINTR, FZ_EARG, FZ_EUNAVAIL
    int FZ_CODEC_ZLIB, FZ_CODEC_ZSTD, FZ_CODEC_LZ4

cdef extern from "fz_batch.h":
    ctypedef int (*fz_poll_fn)(void *ctx) noexcept nogil

cdef extern from "fz_pairs.h":
    int FZ_CONT_RAW, FZ_CONT_ZLIB, FZ_CONT_GZIP, FZ_CONT_FRAME, FZ_CONT_BLOCK
    ctypedef struct fz_oneshot_cfg:
        int codec
        int level
        int container
    ctypedef struct fz_items:
        const uint8_t *data
        const int64_t *offsets
        size_t n
    ctypedef struct fz_pairs:
        fz_items a
        fz_items b
        const uint8_t *sep
        size_t sep_len
        const int64_t *row_ids
        size_t n_rows
        const int64_t *col_ptr
        const int64_t *cols
    int fz_oneshot_supported(int codec, int container) nogil
    int fz_oneshot_sizes(const fz_oneshot_cfg *cfg, const fz_items *items, const int64_t *index,
                         size_t n_out, int64_t *out, int n_threads, fz_poll_fn poll,
                         void *poll_ctx) nogil
    int fz_pair_sizes(const fz_oneshot_cfg *cfg, const fz_pairs *p, int64_t *out_a, int64_t *out_b,
                      int64_t *out_ab, int n_threads, fz_poll_fn poll, void *poll_ctx) nogil


CODEC_IDS = {"zlib": FZ_CODEC_ZLIB, "zstd": FZ_CODEC_ZSTD, "lz4": FZ_CODEC_LZ4}
CONTAINER_IDS = {"raw": FZ_CONT_RAW, "zlib": FZ_CONT_ZLIB, "gzip": FZ_CONT_GZIP,
                 "frame": FZ_CONT_FRAME, "block": FZ_CONT_BLOCK}


def supported(str codec, str container) -> bool:
    """True when this build computes ``codec`` in ``container`` natively."""
    if codec not in CODEC_IDS or container not in CONTAINER_IDS:
        return False
    return fz_oneshot_supported(CODEC_IDS[codec], CONTAINER_IDS[container]) == 1


include "_signals.pxi"


cdef fz_oneshot_cfg _cfg(str codec, int level, str container) except *:
    cdef fz_oneshot_cfg cfg
    if codec not in CODEC_IDS or container not in CONTAINER_IDS:
        raise ValueError(f"unknown codec/container {codec!r}/{container!r}")
    cfg.codec = CODEC_IDS[codec]
    cfg.level = level
    cfg.container = CONTAINER_IDS[container]
    return cfg


cdef void _items(fz_items *it, const uint8_t[::1] data, const int64_t[::1] offsets):
    cdef const uint8_t *empty = <const uint8_t *>b""
    it.data = &data[0] if data.shape[0] else empty
    it.offsets = &offsets[0]
    it.n = <size_t>(offsets.shape[0] - 1)


def oneshot_sizes(str codec, int level, str container, const uint8_t[::1] data not None,
                  const int64_t[::1] offsets not None, const int64_t[::1] index=None,
                  int n_threads=1):
    """One-shot size of every item (of ``index``'s items when given); int64 array.

    Offsets and index must already be checked (``fastzip.streams.sizes`` does).
    """
    cdef fz_oneshot_cfg cfg = _cfg(codec, level, container)
    cdef fz_items items
    _items(&items, data, offsets)
    cdef size_t n = items.n if index is None else <size_t>index.shape[0]
    out = np.empty(n, dtype=np.int64)
    if n == 0:
        return out
    cdef int64_t[::1] out_view = out
    cdef const int64_t *idx = &index[0] if index is not None else NULL
    cdef int rc
    with nogil:
        rc = fz_oneshot_sizes(&cfg, &items, idx, n, &out_view[0], n_threads, _poll_signals, NULL)
    if rc != FZ_OK:
        _raise(rc, "compressed_sizes")
    return out


def pair_sizes(str codec, int level, str container,
               const uint8_t[::1] a_data not None, const int64_t[::1] a_offsets not None,
               const uint8_t[::1] b_data not None, const int64_t[::1] b_offsets not None,
               bytes separator=b"", const int64_t[::1] row_ids=None,
               const int64_t[::1] col_ptr=None, const int64_t[::1] cols=None,
               bint singles=True, int n_threads=1):
    """(C(a_i), C(b_j), C(a_i ++ sep ++ b_j)) as int64 arrays.

    Dense (``row_ids`` None): the last is ``(len(a), len(b))``.  Sparse: row r
    pairs ``a[row_ids[r]]`` with ``b[cols[col_ptr[r]:col_ptr[r+1]]]`` and the
    last is flat, ``len(cols)`` long.  ``singles=False`` skips C(a_i), C(b_j).
    Inputs must already be checked (``fastzip.streams.sizes`` does).
    """
    cdef fz_oneshot_cfg cfg = _cfg(codec, level, container)
    cdef fz_pairs p
    _items(&p.a, a_data, a_offsets)
    _items(&p.b, b_data, b_offsets)
    p.sep = <const uint8_t *>separator
    p.sep_len = len(separator)
    cdef Py_ssize_t na = a_offsets.shape[0] - 1, nb = b_offsets.shape[0] - 1
    if row_ids is None:
        p.row_ids = NULL
        p.n_rows = na
        p.col_ptr = NULL
        p.cols = NULL
        ab = np.empty((na, nb), dtype=np.int64)
    else:
        p.row_ids = &row_ids[0] if row_ids.shape[0] else NULL
        p.n_rows = row_ids.shape[0]
        p.col_ptr = &col_ptr[0]
        p.cols = &cols[0] if cols.shape[0] else NULL
        ab = np.empty(cols.shape[0], dtype=np.int64)
        if row_ids.shape[0] == 0:
            p.row_ids = &col_ptr[0]          # any non-NULL: sparse with no rows
    size_a = np.empty(na if singles else 0, dtype=np.int64)
    size_b = np.empty(nb if singles else 0, dtype=np.int64)
    cdef int64_t[::1] va = size_a
    cdef int64_t[::1] vb = size_b
    cdef int64_t[::1] vab = ab.reshape(-1)
    cdef int64_t dummy = 0
    cdef int64_t *pa = &va[0] if (singles and na) else NULL
    cdef int64_t *pb = &vb[0] if (singles and nb) else NULL
    cdef int64_t *pab = &vab[0] if vab.shape[0] else &dummy
    cdef int rc
    with nogil:
        rc = fz_pair_sizes(&cfg, &p, pa, pb, pab, n_threads, _poll_signals, NULL)
    if rc != FZ_OK:
        _raise(rc, "pair_sizes")
    return size_a, size_b, ab
