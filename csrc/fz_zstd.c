/*
 * fz_zstd.c: marginal compressed sizes with zstd and a whole-stream dictionary.
 *
 * The stream is kept raw.  Once per append batch it is turned into a
 * digested dictionary (a CDict) whose match-finder tables grow with the
 * stream: with a level's default tables a sample repeated from megabytes
 * back is barely recognised, because older positions have been overwritten
 * in the hash table long before.
 *
 * A candidate is then one frame compressed with that CDict *attached*: the
 * frame's own match state is small and the dictionary's tables are shared
 * read-only by every thread, so a candidate costs O(its length), whatever
 * the stream's length.  The frame is started with an unknown content size,
 * which makes zstd attach the dictionary for every candidate size (with a
 * known size it copies the tables for large inputs, an O(stream) cost).
 * This is exactly the call sequence of python-zstandard's
 * ZstdCompressor(dict_data=<precomputed raw dict>, compression_params=...)
 * .compressobj(), so both give the same frames with the same libzstd.
 */
#include <stdlib.h>
#include <string.h>
#define ZSTD_STATIC_LINKING_ONLY   /* ZSTD_createCDict_advanced, ZSTD_getCParams */
#include <zstd.h>
#include "fz_zstd.h"
#include "fz_stream.h"

struct fz_zstd_stream {
    int level;
    int long_distance;
    uint8_t *data;           /* the raw stream */
    size_t len, cap;
    ZSTD_CDict *cdict;       /* built over data[0:sealed_len] */
    size_t sealed_len;
    unsigned generation;     /* bumped at every rebuild of the CDict */
    ZSTD_compressionParameters dict_cparams;
};

typedef struct {
    ZSTD_CCtx *cctx;
    uint8_t *sink;
    size_t sink_len;
    /* What the context is configured for.  Re-applying parameters makes
     * zstd rebuild its working state, so a frame like the last one only
     * resets the session (as python-zstandard's compressobj() does). */
    unsigned configured_generation;   /* of the stream's CDict */
    fz_zstd_params configured;
    int has_config;
} fz_zstd_worker;

static unsigned ceil_log2(size_t n) {
    unsigned l = 0;
    while (l < 63 && ((size_t)1 << l) < n) l++;
    return l;
}

static unsigned clamp_u(unsigned v, unsigned lo, unsigned hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

/* The level's defaults for an unknown source size, with the hash and chain
 * tables grown to about log2 of the stream so that matches reach all of it. */
static ZSTD_compressionParameters grown_cparams(int level, size_t stream_len) {
    ZSTD_compressionParameters p = ZSTD_getCParams(level, 0, 0);
    unsigned need = ceil_log2(stream_len + 1);
    /* binary-tree strategies keep 2^(chainLog-1) positions */
    unsigned tree = p.strategy >= ZSTD_btlazy2 ? 1 : 0;
    /* only ever grow: the strongest levels' defaults already exceed the caps */
    unsigned hash_log = need < FZ_ZSTD_HASHLOG_CAP ? need : FZ_ZSTD_HASHLOG_CAP;
    unsigned chain_log = need + tree < FZ_ZSTD_CHAINLOG_CAP ? need + tree : FZ_ZSTD_CHAINLOG_CAP;
    if (hash_log > p.hashLog) p.hashLog = hash_log;
    if (chain_log > p.chainLog) p.chainLog = chain_log;
    /* a window that covers the stream */
    p.windowLog = clamp_u(ceil_log2(stream_len + 1), p.windowLog, ZSTD_WINDOWLOG_MAX);
    return p;
}

int fz_zstd_new(int level, int long_distance, fz_zstd_stream **out) {
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel() || level == 0) return FZ_EARG;
    fz_zstd_stream *s = calloc(1, sizeof(*s));
    if (!s) return FZ_ENOMEM;
    s->level = level;
    s->long_distance = long_distance != 0;
    s->dict_cparams = grown_cparams(level, 0);
    *out = s;
    return FZ_OK;
}

void fz_zstd_free(fz_zstd_stream *s) {
    if (!s) return;
    ZSTD_freeCDict(s->cdict);
    free(s->data);
    free(s);
}

int fz_zstd_append(fz_zstd_stream *s, const uint8_t *data, size_t len) {
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 65536;
        while (cap < s->len + len) cap *= 2;
        /* the CDict references data by pointer: drop it before moving data */
        ZSTD_freeCDict(s->cdict);
        s->cdict = NULL;
        s->generation++;     /* no worker may keep using the freed CDict */
        uint8_t *grown = realloc(s->data, cap);
        if (!grown) return FZ_ENOMEM;
        s->data = grown;
        s->cap = cap;
    }
    if (len) memcpy(s->data + s->len, data, len);
    s->len += len;
    return FZ_OK;
}

int fz_zstd_seal(fz_zstd_stream *s) {
    if (s->cdict && s->sealed_len == s->len) return FZ_OK;
    ZSTD_freeCDict(s->cdict);
    s->cdict = NULL;
    s->generation++;
    s->sealed_len = s->len;
    s->dict_cparams = grown_cparams(s->level, s->len);
    if (s->len == 0) return FZ_OK;   /* an empty stream compresses without a dictionary */
    s->cdict = ZSTD_createCDict_advanced(s->data, s->len, ZSTD_dlm_byRef, ZSTD_dct_rawContent,
                                         s->dict_cparams, ZSTD_defaultCMem);
    return s->cdict ? FZ_OK : FZ_ENOMEM;
}

void fz_zstd_dict_params(const fz_zstd_stream *s, fz_zstd_params *out) {
    const ZSTD_compressionParameters *p = &s->dict_cparams;
    out->window_log = (int)p->windowLog;
    out->hash_log = (int)p->hashLog;
    out->chain_log = (int)p->chainLog;
    out->search_log = (int)p->searchLog;
    out->min_match = (int)p->minMatch;
    out->target_length = (int)p->targetLength;
    out->strategy = (int)p->strategy;
    out->ldm = 0;
}

void fz_zstd_frame_params(const fz_zstd_stream *s, size_t frame_len, fz_zstd_params *out) {
    ZSTD_compressionParameters level_default = ZSTD_getCParams(s->level, 0, 0);
    fz_zstd_dict_params(s, out);
    if (s->sealed_len == 0) {
        /* No dictionary: the frame is all there is, so its own tables grow
         * with it (a whole selection measured in one frame must see itself). */
        ZSTD_compressionParameters own = grown_cparams(s->level, frame_len);
        out->hash_log = (int)own.hashLog;
        out->chain_log = (int)own.chainLog;
    }
    /* the frame's window covers the stream and the frame itself */
    out->window_log = (int)clamp_u(ceil_log2(s->sealed_len + frame_len + 1),
                                   level_default.windowLog, ZSTD_WINDOWLOG_MAX);
    out->ldm = s->long_distance && out->window_log > (int)level_default.windowLog;
}

void *fz_zstd_worker_new(void) {
    fz_zstd_worker *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->cctx = ZSTD_createCCtx();
    w->sink_len = ZSTD_CStreamOutSize();
    w->sink = malloc(w->sink_len);
    if (!w->cctx || !w->sink) {
        ZSTD_freeCCtx(w->cctx);
        free(w->sink);
        free(w);
        return NULL;
    }
    return w;
}

void fz_zstd_worker_free(void *worker) {
    fz_zstd_worker *w = worker;
    if (!w) return;
    ZSTD_freeCCtx(w->cctx);
    free(w->sink);
    free(w);
}

#define CHECK(expr) do { if (ZSTD_isError(expr)) return FZ_ECODEC; } while (0)

static int configure(ZSTD_CCtx *c, const fz_zstd_params *p) {
    CHECK(ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters));
    CHECK(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, p->window_log));
    CHECK(ZSTD_CCtx_setParameter(c, ZSTD_c_hashLog, p->hash_log));
    CHECK(ZSTD_CCtx_setParameter(c, ZSTD_c_chainLog, p->chain_log));
    CHECK(ZSTD_CCtx_setParameter(c, ZSTD_c_searchLog, p->search_log));
    CHECK(ZSTD_CCtx_setParameter(c, ZSTD_c_minMatch, p->min_match));
    CHECK(ZSTD_CCtx_setParameter(c, ZSTD_c_targetLength, p->target_length));
    CHECK(ZSTD_CCtx_setParameter(c, ZSTD_c_strategy, p->strategy));
    CHECK(ZSTD_CCtx_setParameter(c, ZSTD_c_enableLongDistanceMatching,
                                 p->ldm ? ZSTD_ps_enable : ZSTD_ps_disable));
    CHECK(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0));
    CHECK(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0));
    CHECK(ZSTD_CCtx_setParameter(c, ZSTD_c_dictIDFlag, 0));
    return FZ_OK;
}

/* Push `len` bytes through the frame with ZSTD_e_continue, in slices. */
static int64_t push(fz_zstd_worker *w, const uint8_t *data, size_t len, fz_cancel_flag *cancel) {
    int64_t produced = 0;
    size_t done = 0;
    while (done < len) {
        size_t take = len - done;
        if (take > FZ_FEED_SLICE) take = FZ_FEED_SLICE;
        ZSTD_inBuffer in = { data + done, take, 0 };
        while (in.pos < in.size) {
            ZSTD_outBuffer out = { w->sink, w->sink_len, 0 };
            size_t rc = ZSTD_compressStream2(w->cctx, &out, &in, ZSTD_e_continue);
            if (ZSTD_isError(rc)) return FZ_ECODEC;
            produced += (int64_t)out.pos;
        }
        done += take;
        if (cancel && *cancel) return FZ_EINTR;
    }
    return produced;
}

int64_t fz_zstd_measure(const void *stream, void *worker, const fz_piece *piece,
                        fz_cancel_flag *cancel) {
    const fz_zstd_stream *s = stream;
    fz_zstd_worker *w = worker;
    fz_zstd_params p;
    int rc;

    /* measuring needs a sealed stream: appended bytes not yet digested, or
     * a dictionary that failed to build, would give silently wrong sizes */
    if (s->sealed_len != s->len || (s->len > 0 && s->cdict == NULL)) return FZ_EARG;
    fz_zstd_frame_params(s, fz_piece_len(piece), &p);
    if (w->has_config && w->configured_generation == s->generation
        && memcmp(&w->configured, &p, sizeof(p)) == 0) {
        CHECK(ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only));
    } else {
        w->has_config = 0;
        if ((rc = configure(w->cctx, &p)) != FZ_OK) return rc;
        if (s->cdict) CHECK(ZSTD_CCtx_refCDict(w->cctx, s->cdict));
        w->configured = p;
        w->configured_generation = s->generation;
        w->has_config = 1;
    }
    CHECK(ZSTD_CCtx_setPledgedSrcSize(w->cctx, ZSTD_CONTENTSIZE_UNKNOWN));

    int64_t total = 0, part;
    if ((part = push(w, piece->prefix, piece->prefix_len, cancel)) < 0) return part;
    total += part;
    if ((part = push(w, piece->body, piece->body_len, cancel)) < 0) return part;
    total += part;
    if ((part = push(w, piece->suffix, piece->suffix_len, cancel)) < 0) return part;
    total += part;

    size_t remaining;
    do {
        ZSTD_inBuffer in = { NULL, 0, 0 };
        ZSTD_outBuffer out = { w->sink, w->sink_len, 0 };
        remaining = ZSTD_compressStream2(w->cctx, &out, &in, ZSTD_e_end);
        if (ZSTD_isError(remaining)) return FZ_ECODEC;
        total += (int64_t)out.pos;
    } while (remaining != 0);
    return total;
}

/* ---- the codec table ---------------------------------------------------- */
static unsigned zstd_version_number(void) { return ZSTD_versionNumber(); }

static int zstd_stream_new(int level, int options, void **out) {
    return fz_zstd_new(level, options & FZ_OPT_LONG_DISTANCE, (fz_zstd_stream **)out);
}

static void zstd_stream_free(void *impl) { fz_zstd_free(impl); }

static int zstd_append(void *impl, const uint8_t *data, size_t len, fz_cancel_flag *cancel) {
    (void)cancel;
    return fz_zstd_append(impl, data, len);
}

static int zstd_seal(void *impl) { return fz_zstd_seal(impl); }

static int zstd_params(const void *impl, size_t frame_len, fz_zstd_params *frame, fz_zstd_params *dict) {
    fz_zstd_frame_params(impl, frame_len, frame);
    fz_zstd_dict_params(impl, dict);
    return FZ_OK;
}

/* One frame per append against a dictionary over the whole stream, rebuilt at seal. */
const fz_codec fz_zstd_codec = {
    .id = FZ_CODEC_ZSTD, .name = "zstd",
    .caps = FZ_CAP_SUM_OF_FRAMES | FZ_CAP_WHOLE_STREAM | FZ_CAP_MONOTONE,
    .version = zstd_version_number,
    .stream_new = zstd_stream_new, .stream_free = zstd_stream_free,
    .append = zstd_append, .seal = zstd_seal, .params = zstd_params,
    .batch = { fz_zstd_worker_new, fz_zstd_worker_free, fz_zstd_measure, FZ_DEFAULT_FIXED_COST, FZ_DEFAULT_INLINE_WORK },
};
