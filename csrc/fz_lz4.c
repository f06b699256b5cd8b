/*
 * fz_lz4.c: marginal compressed sizes with lz4.
 *
 * lz4 only looks 64 KB back, so the stream is represented by its last 64 KB.
 * Loading a dictionary hashes all of it (and for HC fills a 256 KB chain
 * table), so we load it once per append into a template state; a candidate
 * then starts from a memcpy of the template.  The copied state is exactly
 * what LZ4_loadDict / LZ4_loadDictHC would build, so the block is the same
 * as python-lz4 compressing the candidate with dict=<last 64 KB>.
 */
#include <stdlib.h>
#include <string.h>
#define LZ4_DISABLE_DEPRECATE_WARNINGS   /* LZ4_resetStreamHC: python-lz4's call */
#include <lz4.h>
#include <lz4hc.h>
#include "fz_lz4.h"
#include "fz_stream.h"

#define FZ_LZ4_DICT 65536

struct fz_lz4_stream {
    int level;
    uint8_t tail[FZ_LZ4_DICT];   /* the stream's last bytes, oldest first */
    size_t tail_len;
    LZ4_stream_t fast;           /* template states after loading the tail */
    LZ4_streamHC_t hc;
};

typedef struct {
    LZ4_stream_t fast;
    LZ4_streamHC_t hc;
    uint8_t *input;  /* prefix ++ body ++ suffix, contiguous */
    size_t input_cap;
    uint8_t *output;
    size_t output_cap;
} fz_lz4_worker;

static int is_hc(int level) { return level >= 1; }

static void load_template(fz_lz4_stream *s) {
    if (is_hc(s->level)) {
        LZ4_resetStreamHC(&s->hc, s->level);
        LZ4_loadDictHC(&s->hc, (const char *)s->tail, (int)s->tail_len);
    } else {
        LZ4_resetStream(&s->fast);
        LZ4_loadDict(&s->fast, (const char *)s->tail, (int)s->tail_len);
    }
}

int fz_lz4_new(int level, fz_lz4_stream **out) {
    if (level > LZ4HC_CLEVEL_MAX || level < -65537) return FZ_EARG;
    fz_lz4_stream *s = calloc(1, sizeof(*s));
    if (!s) return FZ_ENOMEM;
    s->level = level;
    load_template(s);
    *out = s;
    return FZ_OK;
}

void fz_lz4_free(fz_lz4_stream *s) { free(s); }

int fz_lz4_append(fz_lz4_stream *s, const uint8_t *data, size_t len) {
    if (len == 0) return FZ_OK;
    if (len >= FZ_LZ4_DICT) {
        memcpy(s->tail, data + len - FZ_LZ4_DICT, FZ_LZ4_DICT);
        s->tail_len = FZ_LZ4_DICT;
    } else {
        size_t keep = s->tail_len + len > FZ_LZ4_DICT ? FZ_LZ4_DICT - len : s->tail_len;
        memmove(s->tail, s->tail + s->tail_len - keep, keep);
        memcpy(s->tail + keep, data, len);
        s->tail_len = keep + len;
    }
    load_template(s);
    return FZ_OK;
}

void *fz_lz4_worker_new(void) { return calloc(1, sizeof(fz_lz4_worker)); }

void fz_lz4_worker_free(void *worker) {
    fz_lz4_worker *w = worker;
    if (!w) return;
    free(w->input);
    free(w->output);
    free(w);
}

int64_t fz_lz4_measure(const void *stream, void *worker, const fz_piece *piece,
                       fz_cancel_flag *cancel) {
    const fz_lz4_stream *s = stream;
    fz_lz4_worker *w = worker;
    size_t n = fz_piece_len(piece);
    (void)cancel;   /* one lz4 block is fast; it is not sliced */

    if (n > (size_t)LZ4_MAX_INPUT_SIZE) return FZ_EARG;
    size_t bound = (size_t)LZ4_compressBound((int)n);
    /* +1 keeps the input a non-empty allocation apart from the template's tail */
    if (fz_reserve(&w->input, &w->input_cap, n + 1) || fz_reserve(&w->output, &w->output_cap, bound + 1))
        return FZ_ENOMEM;
    fz_piece_flatten(w->input, piece);

    int size;
    if (is_hc(s->level)) {
        memcpy(&w->hc, &s->hc, sizeof(w->hc));
        size = LZ4_compress_HC_continue(&w->hc, (const char *)w->input, (char *)w->output, (int)n, (int)bound);
    } else {
        memcpy(&w->fast, &s->fast, sizeof(w->fast));
        int acceleration = s->level < 0 ? -s->level : 1;
        size = LZ4_compress_fast_continue(&w->fast, (const char *)w->input, (char *)w->output, (int)n, (int)bound, acceleration);
    }
    if (size <= 0 && n > 0) return FZ_ECODEC;
    return size;
}

/* ---- the codec table ---------------------------------------------------- */
static unsigned lz4_version_number(void) { return (unsigned)LZ4_versionNumber(); }

static int lz4_stream_new(int level, int options, void **out) {
    (void)options;
    return fz_lz4_new(level, (fz_lz4_stream **)out);
}

static void lz4_stream_free(void *impl) { fz_lz4_free(impl); }

static int lz4_append(void *impl, const uint8_t *data, size_t len, fz_cancel_flag *cancel) {
    (void)cancel;
    return fz_lz4_append(impl, data, len);
}

/* One block per append with the last 64 KB as dictionary (reloaded: O(64 KB)). */
const fz_codec fz_lz4_codec = {
    .id = FZ_CODEC_LZ4, .name = "lz4",
    .caps = FZ_CAP_SUM_OF_FRAMES | FZ_CAP_CHEAP_APPEND,
    .version = lz4_version_number,
    .stream_new = lz4_stream_new, .stream_free = lz4_stream_free,
    .append = lz4_append, .seal = NULL, .params = NULL,
    .batch = { fz_lz4_worker_new, fz_lz4_worker_free, fz_lz4_measure, FZ_DEFAULT_FIXED_COST, FZ_DEFAULT_INLINE_WORK },
};
