/* fz_stream.c: dispatch from one stream type to the codec tables (no per-codec code). */
#include <stdlib.h>
#include "fz_stream.h"

/* Codec id -> table; a codec not compiled in has no entry. */
static const fz_codec *const registry[FZ_CODEC_COUNT] = {
    [FZ_CODEC_ZLIB] = &fz_zlib_codec,
#ifdef FZ_HAVE_ZSTD
    [FZ_CODEC_ZSTD] = &fz_zstd_codec,
#endif
#ifdef FZ_HAVE_LZ4
    [FZ_CODEC_LZ4] = &fz_lz4_codec,
#endif
    [FZ_CODEC_LZ77] = &fz_lz77_codec,
};

struct fz_stream {
    const fz_codec *codec;
    void *impl;
    fz_workers workers;
};

const fz_codec *fz_codec_get(int codec) {
    if (codec < 0 || codec >= FZ_CODEC_COUNT) return NULL;
    return registry[codec];
}

int fz_codec_available(int codec) { return fz_codec_get(codec) != NULL; }

unsigned fz_codec_version(int codec) {
    const fz_codec *c = fz_codec_get(codec);
    return c ? c->version() : 0;
}

const char *fz_codec_name(int codec) {
    const fz_codec *c = fz_codec_get(codec);
    return c ? c->name : "";
}

unsigned fz_codec_caps(int codec) {
    const fz_codec *c = fz_codec_get(codec);
    return c ? c->caps : 0;
}

int fz_stream_new(int codec, int level, int options, fz_stream **out) {
    const fz_codec *c = fz_codec_get(codec);
    if (!c) return FZ_EUNAVAIL;
    fz_stream *s = calloc(1, sizeof(*s));
    if (!s) return FZ_ENOMEM;
    s->codec = c;
    int rc = c->stream_new(level, options, &s->impl);
    if (rc == FZ_OK && c->seal && (rc = c->seal(s->impl)) != FZ_OK) c->stream_free(s->impl);
    if (rc != FZ_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return FZ_OK;
}

void fz_stream_free(fz_stream *s) {
    if (!s) return;
    fz_workers_free(&s->workers, &s->codec->batch);
    s->codec->stream_free(s->impl);
    free(s);
}

int fz_stream_append(fz_stream *s, const uint8_t *data, size_t len, fz_cancel_flag *cancel) {
    return s->codec->append(s->impl, data, len, cancel);
}

int fz_stream_seal(fz_stream *s) {
    return s->codec->seal ? s->codec->seal(s->impl) : FZ_OK;
}

int fz_stream_measure(fz_stream *s, const fz_batch *batch, int64_t *out, int n_threads,
                      fz_poll_fn poll, void *poll_ctx) {
    return fz_batch_measure(&s->codec->batch, s->impl, &s->workers, batch, out, n_threads,
                            poll, poll_ctx);
}

unsigned fz_stream_caps(const fz_stream *s) { return s->codec->caps; }

int fz_stream_params(const fz_stream *s, size_t frame_len, fz_zstd_params *frame,
                     fz_zstd_params *dict) {
    if (!s->codec->params) return FZ_EUNAVAIL;
    return s->codec->params(s->impl, frame_len, frame, dict);
}
