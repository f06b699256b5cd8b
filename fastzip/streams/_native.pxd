# Declarations of the C kernels in csrc/ (see csrc/fz_stream.h).
from libc.stdint cimport int64_t, uint8_t

cdef extern from "fz_common.h":
    int FZ_OK, FZ_ENOMEM, FZ_ECODEC, FZ_EINTR, FZ_EARG, FZ_EUNAVAIL
    int FZ_CODEC_ZLIB, FZ_CODEC_ZSTD, FZ_CODEC_LZ4, FZ_CODEC_LZ77, FZ_CODEC_COUNT
    unsigned FZ_CAP_SUM_OF_FRAMES, FZ_CAP_WHOLE_STREAM, FZ_CAP_CHEAP_APPEND, FZ_CAP_MONOTONE
    unsigned FZ_CAP_ESTIMATE
    ctypedef int fz_cancel_flag
    ctypedef struct fz_zstd_params:
        int window_log, hash_log, chain_log, search_log, min_match, target_length, strategy, ldm

cdef extern from "fz_batch.h":
    ctypedef int (*fz_poll_fn)(void *ctx) noexcept nogil
    ctypedef struct fz_batch:
        const uint8_t *data
        const int64_t *offsets
        const int64_t *index
        size_t n
        const uint8_t *prefix
        size_t prefix_len
        const uint8_t *suffix
        size_t suffix_len
        int64_t base
    int fz_have_openmp() nogil

cdef extern from "fz_stream.h":
    ctypedef struct fz_stream:
        pass
    int fz_codec_available(int codec) nogil
    unsigned fz_codec_version(int codec) nogil
    const char *fz_codec_name(int codec) nogil
    unsigned fz_codec_caps(int codec) nogil
    unsigned fz_stream_caps(const fz_stream *s) nogil
    int fz_stream_params(const fz_stream *s, size_t frame_len, fz_zstd_params *frame,
                         fz_zstd_params *dict_params) nogil
    int FZ_OPT_LONG_DISTANCE
    int fz_stream_new(int codec, int level, int options, fz_stream **out) nogil
    void fz_stream_free(fz_stream *s) nogil
    int fz_stream_append(fz_stream *s, const uint8_t *data, size_t length, fz_cancel_flag *cancel) nogil
    int fz_stream_seal(fz_stream *s) nogil
    int fz_stream_measure(fz_stream *s, const fz_batch *batch, int64_t *out, int n_threads,
                          fz_poll_fn poll, void *poll_ctx) nogil
