/*
 * fz_stream.h: the one entry point the Python layer uses.
 *
 * A stream is the selected set's bytes in one codec's view.  Codecs that
 * were not found at build time report FZ_EUNAVAIL here, so the wrapper never
 * references a symbol that was not compiled.
 */
#ifndef FZ_STREAM_H
#define FZ_STREAM_H
#include "fz_common.h"
#include "fz_batch.h"

typedef struct fz_stream fz_stream;

int  fz_codec_available(int codec);
/* Version number of the linked codec library (major*10000+minor*100+patch), or 0. */
unsigned fz_codec_version(int codec);

/* options: FZ_OPT_LONG_DISTANCE (zstd only) */
#define FZ_OPT_LONG_DISTANCE 1
int  fz_stream_new(int codec, int level, int options, fz_stream **out);
void fz_stream_free(fz_stream *s);
/* Append bytes.  For zstd the dictionary is rebuilt at the next seal. */
int  fz_stream_append(fz_stream *s, const uint8_t *data, size_t len, fz_cancel_flag *cancel);
/* Make the appended bytes visible to measure (zstd: rebuild the CDict). */
int  fz_stream_seal(fz_stream *s);
int  fz_stream_measure(fz_stream *s, const fz_batch *batch, int64_t *out, int n_threads,
                       fz_poll_fn poll, void *poll_ctx);

/* zstd only: the parameters of a frame of frame_len bytes (FZ_EUNAVAIL otherwise). */
#ifdef FZ_HAVE_ZSTD
#include "fz_zstd.h"
#else
typedef struct {
    int window_log, hash_log, chain_log, search_log, min_match, target_length, strategy, ldm;
} fz_zstd_params;
#endif
int fz_stream_zstd_params(const fz_stream *s, size_t frame_len, fz_zstd_params *frame,
                          fz_zstd_params *dict);
#endif
