/*
 * fz_stream.h: the one entry point the Python layer uses.
 *
 * A stream is the selected set's bytes in one codec's view.  Every codec is
 * one `fz_codec` table, registered by id in fz_stream.c; the functions below
 * dispatch through it and contain no per-codec code.  Codecs that were not
 * found at build time have no table and report FZ_EUNAVAIL here, so the
 * wrapper never references a symbol that was not compiled.
 */
#ifndef FZ_STREAM_H
#define FZ_STREAM_H
#include "fz_common.h"
#include "fz_batch.h"

/* options: FZ_OPT_LONG_DISTANCE (zstd only; others ignore it) */
#define FZ_OPT_LONG_DISTANCE 1

/* The complete operations of one codec. */
typedef struct fz_codec {
    int id;                      /* FZ_CODEC_* */
    const char *name;            /* "zlib", "zstd", ... */
    unsigned caps;               /* FZ_CAP_* */
    /* version of the linked library (major*10000+minor*100+patch) */
    unsigned (*version)(void);
    int  (*stream_new)(int level, int options, void **out);
    void (*stream_free)(void *impl);
    int  (*append)(void *impl, const uint8_t *data, size_t len, fz_cancel_flag *cancel);
    /* make appended bytes visible to measure; NULL when there is nothing to do */
    int  (*seal)(void *impl);
    /* the frame / table parameters; NULL when the codec has none to report */
    int  (*params)(const void *impl, size_t frame_len, fz_zstd_params *frame, fz_zstd_params *dict);
    /* worker state and measurement, as the batch driver calls them */
    fz_codec_ops batch;
} fz_codec;

/* The registered table of a codec id, or NULL when it is not compiled in. */
const fz_codec *fz_codec_get(int codec);

typedef struct fz_stream fz_stream;

int  fz_codec_available(int codec);
/* Version number of the linked codec library (major*10000+minor*100+patch), or 0. */
unsigned fz_codec_version(int codec);
/* Name of a codec id ("" when unknown) and its FZ_CAP_* bits (0 when unavailable). */
const char *fz_codec_name(int codec);
unsigned fz_codec_caps(int codec);

int  fz_stream_new(int codec, int level, int options, fz_stream **out);
void fz_stream_free(fz_stream *s);
/* Append bytes.  For zstd the dictionary is rebuilt at the next seal. */
int  fz_stream_append(fz_stream *s, const uint8_t *data, size_t len, fz_cancel_flag *cancel);
/* Make the appended bytes visible to measure (zstd: rebuild the CDict). */
int  fz_stream_seal(fz_stream *s);
int  fz_stream_measure(fz_stream *s, const fz_batch *batch, int64_t *out, int n_threads,
                       fz_poll_fn poll, void *poll_ctx);
/* The codec's FZ_CAP_* bits. */
unsigned fz_stream_caps(const fz_stream *s);

/* The parameters of a frame of frame_len bytes (FZ_EUNAVAIL for codecs without any). */
int fz_stream_params(const fz_stream *s, size_t frame_len, fz_zstd_params *frame,
                     fz_zstd_params *dict);

/* The tables, defined next to each codec's kernels. */
extern const fz_codec fz_zlib_codec;
#ifdef FZ_HAVE_ZSTD
extern const fz_codec fz_zstd_codec;
#endif
#ifdef FZ_HAVE_LZ4
extern const fz_codec fz_lz4_codec;
#endif
extern const fz_codec fz_lz77_codec;
#endif
