/*
 * fz_zlib.c: marginal compressed sizes with zlib.
 *
 * The selected stream is one deflate stream fed with Z_NO_FLUSH.  deflate's
 * output does not depend on how its input is sliced when no flush is asked
 * for, so finishing a *copy* of the state after feeding it a candidate gives
 * exactly zlib.compress(stream ++ candidate, level), byte for byte.
 *
 * deflateCopy() allocates a fresh state (about 260 KB at memLevel 8) through
 * the *source* stream's allocator, so the source gets fz_zcache's allocator:
 * after the first candidate a copy costs one memcpy per buffer, no malloc.
 */
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <zlib.h>
#include "fz_zlib.h"
#include "fz_stream.h"
#include "fz_zcache.h"


/* ---- the stream ---------------------------------------------------------- */

struct fz_zlib_stream {
    z_stream z;
    int level;
    unsigned char sink[FZ_DEFLATE_SINK];
    /* level 0 only: the raw stream (see stored_size) */
    uint8_t *raw;
    size_t raw_len, raw_cap;
};

typedef struct {
    fz_zcache cache;
    unsigned char sink[FZ_DEFLATE_SINK];
    uint8_t *whole;              /* level 0: stream ++ piece, contiguous */
    size_t whole_cap;
    unsigned char *out;          /* level 0: output, CPython-sized blocks */
    size_t out_cap;
} fz_zlib_worker;

/*
 * Level 0 (stored blocks) is the one level whose output depends on how
 * deflate is called: a stored block ends wherever the input or the output
 * space of one deflate() call ends.  zlib.compress() passes the whole input
 * at once with Z_FINISH and grows its output in CPython's block sizes
 * (32 KiB, 64 KiB, 256 KiB, 1 MiB, ... : Modules/zlibmodule.c, Python >= 3.10),
 * so the only exact answer is to do the same: compress the whole
 * concatenation in one call sequence.  Stored blocks cost a memcpy, so this
 * O(stream) path is still fast.
 */
static int64_t stored_size(fz_zlib_worker *w, const uint8_t *data, size_t len) {
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit(&z, 0) != Z_OK) return FZ_ENOMEM;
    int64_t size = fz_deflate_cpython(&z, data, len, &w->out, &w->out_cap);
    deflateEnd(&z);
    return size;
}

int fz_zlib_new(int level, fz_zlib_stream **out) {
    if (level < 0 || level > 9) return FZ_EARG;
    fz_zlib_stream *s = calloc(1, sizeof(*s));
    if (!s) return FZ_ENOMEM;
    s->level = level;
    s->z.zalloc = fz_zcache_alloc;
    s->z.zfree = fz_zcache_free;
    if (deflateInit2(&s->z, level, Z_DEFLATED, MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(s);
        return FZ_ENOMEM;
    }
    *out = s;
    return FZ_OK;
}

void fz_zlib_free(fz_zlib_stream *s) {
    if (!s) return;
    deflateEnd(&s->z);
    free(s->raw);
    free(s);
}

int fz_zlib_append(fz_zlib_stream *s, const uint8_t *data, size_t len, fz_cancel_flag *cancel) {
    if (len == 0) return FZ_OK;
    if (s->level == 0) {
        if (fz_reserve(&s->raw, &s->raw_cap, s->raw_len + len)) return FZ_ENOMEM;
        memcpy(s->raw + s->raw_len, data, len);
        s->raw_len += len;
        return FZ_OK;
    }
    return fz_deflate_feed(&s->z, s->sink, data, len, Z_NO_FLUSH, cancel);
}

void *fz_zlib_worker_new(void) {
    return calloc(1, sizeof(fz_zlib_worker));
}

void fz_zlib_worker_free(void *worker) {
    fz_zlib_worker *w = worker;
    if (!w) return;
    fz_zcache_clear(&w->cache);
    free(w->whole);
    free(w->out);
    free(w);
}

int64_t fz_zlib_measure(const void *stream, void *worker, const fz_piece *piece,
                        fz_cancel_flag *cancel) {
    const fz_zlib_stream *s = stream;
    fz_zlib_worker *w = worker;
    z_stream copy;
    int rc;

    if (s->level == 0) {
        size_t n = s->raw_len + fz_piece_len(piece);
        if (fz_reserve(&w->whole, &w->whole_cap, n + 1)) return FZ_ENOMEM;
        if (s->raw_len) memcpy(w->whole, s->raw, s->raw_len);
        fz_piece_flatten(w->whole + s->raw_len, piece);
        return stored_size(w, w->whole, n);
    }

    fz_zcache_bind(&w->cache);
    /* deflateCopy only reads the source; zlib's prototype lacks the const. */
    if (deflateCopy(&copy, (z_streamp)&s->z) != Z_OK) {
        fz_zcache_bind(NULL);
        return FZ_ENOMEM;
    }
    rc = fz_deflate_feed(&copy, w->sink, piece->prefix, piece->prefix_len, Z_NO_FLUSH, cancel);
    if (rc == FZ_OK)
        rc = fz_deflate_feed(&copy, w->sink, piece->body, piece->body_len, Z_NO_FLUSH, cancel);
    if (rc == FZ_OK)
        rc = fz_deflate_feed(&copy, w->sink, piece->suffix, piece->suffix_len, Z_FINISH, cancel);
    int64_t size = (int64_t)copy.total_out;
    deflateEnd(&copy);
    fz_zcache_bind(NULL);
    return rc == FZ_OK ? size : rc;
}

/* ---- the codec table ---------------------------------------------------- */
static unsigned zlib_version_number(void) {
    unsigned parts[3] = {0, 0, 0};
    const char *v = zlibVersion();
    for (int i = 0; i < 3 && *v; i++) {
        while (*v >= '0' && *v <= '9') parts[i] = parts[i] * 10 + (unsigned)(*v++ - '0');
        if (*v == '.') v++;
    }
    return parts[0] * 10000 + parts[1] * 100 + parts[2];
}

static int zlib_stream_new(int level, int options, void **out) {
    (void)options;
    return fz_zlib_new(level, (fz_zlib_stream **)out);
}

static void zlib_stream_free(void *impl) { fz_zlib_free(impl); }

static int zlib_append(void *impl, const uint8_t *data, size_t len, fz_cancel_flag *cancel) {
    return fz_zlib_append(impl, data, len, cancel);
}

/* One deflate stream: its size is the finished stream's, its window 32 KB. */
const fz_codec fz_zlib_codec = {
    .id = FZ_CODEC_ZLIB, .name = "zlib",
    .caps = FZ_CAP_CHEAP_APPEND,
    .version = zlib_version_number,
    .stream_new = zlib_stream_new, .stream_free = zlib_stream_free,
    .append = zlib_append, .seal = NULL, .params = NULL,
    .batch = { fz_zlib_worker_new, fz_zlib_worker_free, fz_zlib_measure, FZ_DEFAULT_FIXED_COST, FZ_DEFAULT_INLINE_WORK },
};
