# cython: language_level=3, boundscheck=False, wraparound=False, auto_pickle=False
"""Thin Cython wrapper over the C kernels in csrc/.

One type, :class:`NativeStream`: a codec's view of a growing byte stream,
and a batch ``measure`` that runs outside the GIL on a thread pool.  It
implements :class:`fastzip.streams.protocol.Stream`; the codecs, their names and
capabilities come from the C registry (csrc/fz_stream.c).  All policy
(separators, compressed-size bookkeeping, fallbacks) lives in
``fastzip.streams.compressor``.
"""
import numpy as np
from cpython.exc cimport PyErr_CheckSignals
from libc.stdint cimport int64_t, uint8_t

from fastzip.streams.protocol import Capabilities

# name -> id of every codec compiled in (the C registry decides)
CODEC_IDS = {fz_codec_name(i).decode(): i for i in range(FZ_CODEC_COUNT) if fz_codec_available(i)}


def codec_available(str codec) -> bool:
    """True when the native kernel for ``codec`` was compiled in."""
    return codec in CODEC_IDS and fz_codec_available(CODEC_IDS[codec]) == 1


def codec_version(str codec) -> tuple:
    """(major, minor, patch) of the C library linked for ``codec``, or ()."""
    if not codec_available(codec):
        return ()
    cdef unsigned v = fz_codec_version(CODEC_IDS[codec])
    return (v // 10000, (v // 100) % 100, v % 100)


def codec_capabilities(str codec):
    """The :class:`Capabilities` of a compiled-in codec (ValueError otherwise)."""
    if not codec_available(codec):
        raise ValueError(f"codec {codec!r} is not compiled in")
    return Capabilities.from_bits(fz_codec_caps(CODEC_IDS[codec]))


def have_openmp() -> bool:
    """True when the batch driver was compiled with OpenMP."""
    return fz_have_openmp() == 1


include "_signals.pxi"


cdef class NativeStream:
    """A codec's incremental state for one growing byte stream."""
    cdef fz_stream *_s
    cdef readonly str codec
    cdef readonly int level

    def __cinit__(self, str codec, int level, bint long_distance=False):
        self._s = NULL
        if codec not in CODEC_IDS:
            raise ValueError(f"unknown codec {codec!r} (or not compiled in)")
        cdef int options = FZ_OPT_LONG_DISTANCE if long_distance else 0
        cdef int rc = fz_stream_new(CODEC_IDS[codec], level, options, &self._s)
        if rc != FZ_OK:
            _raise(rc, f"{codec} level {level}")
        self.codec = codec
        self.level = level

    def __dealloc__(self):
        if self._s != NULL:
            fz_stream_free(self._s)
            self._s = NULL

    def append(self, const uint8_t[::1] data not None):
        """Append raw bytes to the stream (call ``seal`` before measuring)."""
        cdef int rc
        cdef fz_cancel_flag cancel = 0
        cdef size_t n = data.shape[0]
        cdef const uint8_t *p = &data[0] if n else NULL
        with nogil:
            rc = fz_stream_append(self._s, p, n, &cancel)
        if rc != FZ_OK:
            _raise(rc, "append")

    def seal(self):
        """Make appended bytes visible to ``measure`` (zstd rebuilds its dictionary)."""
        cdef int rc
        with nogil:
            rc = fz_stream_seal(self._s)
        if rc != FZ_OK:
            _raise(rc, "seal")

    def measure(self, const uint8_t[::1] data not None, const int64_t[::1] offsets not None,
                bytes prefix=b"", bytes suffix=b"", int64_t base=0, int n_threads=1,
                const int64_t[::1] index=None):
        """Sizes of prefix ++ body ++ suffix against the stream, for every body.

        Body i is ``data[offsets[j]:offsets[j+1]]`` with ``j = index[i]``
        (``j = i`` when ``index`` is None).  Returns an int64 array of sizes,
        each plus ``base``.  Releases the GIL once for the whole batch and
        checks for Ctrl-C every 50 ms while it runs.
        """
        cdef Py_ssize_t n_items = offsets.shape[0] - 1
        cdef Py_ssize_t i, j, n
        if n_items < 0:
            raise ValueError("offsets must have at least one entry")
        n = n_items if index is None else index.shape[0]
        # check only the bodies this call reads (a pool can be far larger)
        for i in range(n):
            j = i if index is None else index[i]
            if j < 0 or j >= n_items:
                raise ValueError(f"index[{i}] = {j} is outside 0..{n_items - 1}")
            if offsets[j] < 0 or offsets[j + 1] > data.shape[0]:
                raise ValueError(f"offsets point outside the data buffer (at {j})")
            if offsets[j + 1] < offsets[j]:
                raise ValueError(f"offsets must not decrease (at {j})")
        out = np.empty(n, dtype=np.int64)
        if n == 0:
            return out
        cdef int64_t[::1] out_view = out
        cdef fz_batch batch
        cdef const uint8_t *empty = <const uint8_t *>b""
        batch.data = &data[0] if data.shape[0] else empty
        batch.offsets = &offsets[0]
        batch.index = &index[0] if index is not None else NULL
        batch.n = <size_t>n
        batch.prefix = <const uint8_t *>prefix
        batch.prefix_len = len(prefix)
        batch.suffix = <const uint8_t *>suffix
        batch.suffix_len = len(suffix)
        batch.base = base
        cdef int rc
        with nogil:
            rc = fz_stream_measure(self._s, &batch, &out_view[0], n_threads, _poll_signals, NULL)
        if rc != FZ_OK:
            _raise(rc, "measure")
        return out

    @property
    def capabilities(self):
        """What the codec can do (:class:`fastzip.streams.protocol.Capabilities`)."""
        return Capabilities.from_bits(fz_stream_caps(self._s))

    def params(self, size_t frame_len):
        """(frame parameters, table parameters) as dicts, for codecs that have them (zstd)."""
        cdef fz_zstd_params frame, dictp
        cdef int rc = fz_stream_params(self._s, frame_len, &frame, &dictp)
        if rc == FZ_EUNAVAIL:
            raise RuntimeError(f"params: codec {self.codec} has no parameters to report")
        if rc != FZ_OK:
            _raise(rc, "params")
        return frame, dictp

    def zstd_params(self, size_t frame_len):
        """zstd only: (frame parameters, dictionary parameters) as dicts."""
        if self.codec != "zstd":
            raise RuntimeError("zstd_params: codec is not zstd")
        return self.params(frame_len)
