/* fz_stream.c: dispatch from one stream type to the codec kernels. */
#include <stdlib.h>
#include "fz_stream.h"
#include "fz_zlib.h"
#ifdef FZ_HAVE_ZSTD
#include <zstd.h>
#include "fz_zstd.h"
#endif
#ifdef FZ_HAVE_LZ4
#include <lz4.h>
#include "fz_lz4.h"
#endif
#include <zlib.h>

struct fz_stream {
    int codec;
    void *impl;
    const fz_codec_ops *ops;
    fz_workers workers;
};

static const fz_codec_ops zlib_ops = { fz_zlib_worker_new, fz_zlib_worker_free, fz_zlib_measure };
#ifdef FZ_HAVE_ZSTD
static const fz_codec_ops zstd_ops = { fz_zstd_worker_new, fz_zstd_worker_free, fz_zstd_measure };
#endif
#ifdef FZ_HAVE_LZ4
static const fz_codec_ops lz4_ops = { fz_lz4_worker_new, fz_lz4_worker_free, fz_lz4_measure };
#endif

int fz_codec_available(int codec) {
    switch (codec) {
    case FZ_CODEC_ZLIB: return 1;
#ifdef FZ_HAVE_ZSTD
    case FZ_CODEC_ZSTD: return 1;
#endif
#ifdef FZ_HAVE_LZ4
    case FZ_CODEC_LZ4: return 1;
#endif
    default: return 0;
    }
}

static unsigned parse_version(const char *v) {
    unsigned parts[3] = {0, 0, 0};
    for (int i = 0; i < 3 && *v; i++) {
        while (*v >= '0' && *v <= '9') parts[i] = parts[i] * 10 + (unsigned)(*v++ - '0');
        if (*v == '.') v++;
    }
    return parts[0] * 10000 + parts[1] * 100 + parts[2];
}

unsigned fz_codec_version(int codec) {
    switch (codec) {
    case FZ_CODEC_ZLIB: return parse_version(zlibVersion());
#ifdef FZ_HAVE_ZSTD
    case FZ_CODEC_ZSTD: return ZSTD_versionNumber();
#endif
#ifdef FZ_HAVE_LZ4
    case FZ_CODEC_LZ4: return (unsigned)LZ4_versionNumber();
#endif
    default: return 0;
    }
}

int fz_stream_new(int codec, int level, int options, fz_stream **out) {
    fz_stream *s = calloc(1, sizeof(*s));
    if (!s) return FZ_ENOMEM;
    s->codec = codec;
    int rc = FZ_EUNAVAIL;
    switch (codec) {
    case FZ_CODEC_ZLIB:
        s->ops = &zlib_ops;
        rc = fz_zlib_new(level, (fz_zlib_stream **)&s->impl);
        break;
#ifdef FZ_HAVE_ZSTD
    case FZ_CODEC_ZSTD:
        s->ops = &zstd_ops;
        rc = fz_zstd_new(level, options & FZ_OPT_LONG_DISTANCE, (fz_zstd_stream **)&s->impl);
        if (rc == FZ_OK && (rc = fz_zstd_seal(s->impl)) != FZ_OK) fz_zstd_free(s->impl);
        break;
#endif
#ifdef FZ_HAVE_LZ4
    case FZ_CODEC_LZ4:
        s->ops = &lz4_ops;
        rc = fz_lz4_new(level, (fz_lz4_stream **)&s->impl);
        break;
#endif
    default:
        break;
    }
    (void)options;   /* only zstd has options; unused when it is not compiled in */
    if (rc != FZ_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return FZ_OK;
}

void fz_stream_free(fz_stream *s) {
    if (!s) return;
    fz_workers_free(&s->workers, s->ops);
    switch (s->codec) {
    case FZ_CODEC_ZLIB: fz_zlib_free(s->impl); break;
#ifdef FZ_HAVE_ZSTD
    case FZ_CODEC_ZSTD: fz_zstd_free(s->impl); break;
#endif
#ifdef FZ_HAVE_LZ4
    case FZ_CODEC_LZ4: fz_lz4_free(s->impl); break;
#endif
    default: break;
    }
    free(s);
}

int fz_stream_append(fz_stream *s, const uint8_t *data, size_t len, fz_cancel_flag *cancel) {
    switch (s->codec) {
    case FZ_CODEC_ZLIB: return fz_zlib_append(s->impl, data, len, cancel);
#ifdef FZ_HAVE_ZSTD
    case FZ_CODEC_ZSTD: return fz_zstd_append(s->impl, data, len);
#endif
#ifdef FZ_HAVE_LZ4
    case FZ_CODEC_LZ4: return fz_lz4_append(s->impl, data, len);
#endif
    default: return FZ_EUNAVAIL;
    }
}

int fz_stream_seal(fz_stream *s) {
#ifdef FZ_HAVE_ZSTD
    if (s->codec == FZ_CODEC_ZSTD) return fz_zstd_seal(s->impl);
#endif
    (void)s;
    return FZ_OK;
}

int fz_stream_measure(fz_stream *s, const fz_batch *batch, int64_t *out, int n_threads,
                      fz_poll_fn poll, void *poll_ctx) {
    return fz_batch_measure(s->ops, s->impl, &s->workers, batch, out, n_threads, poll, poll_ctx);
}

int fz_stream_zstd_params(const fz_stream *s, size_t frame_len, fz_zstd_params *frame,
                          fz_zstd_params *dict) {
#ifdef FZ_HAVE_ZSTD
    if (s->codec == FZ_CODEC_ZSTD) {
        fz_zstd_frame_params(s->impl, frame_len, frame);
        fz_zstd_dict_params(s->impl, dict);
        return FZ_OK;
    }
#endif
    (void)s; (void)frame_len; (void)frame; (void)dict;
    return FZ_EUNAVAIL;
}
