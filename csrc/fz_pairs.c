/*
 * fz_pairs.c: one-shot compressed sizes and pair sizes on the shared pool.
 *
 * Every size here equals the length of one call of the codec's usual Python
 * binding (see fz_pairs.h), byte for byte:
 *
 * - zlib / gzip / raw deflate: deflateInit2 with CPython's settings (memLevel
 *   8, the default strategy) and the container's window bits, reset per
 *   item.  Levels 1-9 give the same output however the input and output are
 *   sliced; level 0 (stored blocks) does not, so there the whole input is
 *   compressed the way CPython's zlib.compress does it, into output blocks of
 *   CPython's sizes (Modules/zlibmodule.c, Python >= 3.10).
 * - zstd frame: ZSTD_compress2 with the level, the content size written and
 *   no checksum: what python-zstandard's ZstdCompressor(level=L).compress
 *   asks of the same libzstd.
 * - lz4 frame: LZ4F_compressFrame with python-lz4's default preferences
 *   (64 KB linked blocks, content size stored, no checksums).
 * - lz4 block: the 4-byte size header python-lz4 writes, plus one block.
 *
 * Pairs: C(a_i ++ sep ++ b_j).  Work items are (row, block of columns) taken
 * from a shared counter by pool threads that live for the whole call.  For
 * zlib at levels 1-9 the deflate state after a_i ++ sep is built once per
 * row (by the first thread that needs it; others wait for it, asleep) and
 * copied for every column, so a pair costs about compressing b_j alone.
 * The candidates are read where they lie: nothing is copied except where a
 * codec needs one contiguous input (zstd, lz4, zlib level 0).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#ifdef FZ_HAVE_ZSTD
#include <zstd.h>
#endif
#ifdef FZ_HAVE_LZ4
#include <lz4.h>
#include <lz4hc.h>
#include <lz4frame.h>
#endif
#include "fz_pairs.h"
#include "fz_zcache.h"

#define FZ_MIN_LOOKAHEAD 262   /* zlib's MIN_LOOKAHEAD: MAX_MATCH + MIN_MATCH + 1 */
/* Rows shorter than this are compressed again with every column instead of
 * copying their deflate state (a copy moves about 256 KB). */
#define FZ_REUSE_MIN 192
/* Single items are taken in blocks of this many. */
#define FZ_SINGLE_BLOCK 16
/* Below this much estimated work a call runs inline on the calling thread. */
#define FZ_INLINE_WORK ((size_t)96 << 10)
#define FZ_ITEM_COST ((size_t)2 << 10)

/* ---- workers ---------------------------------------------------------------- */

typedef struct {
    const fz_oneshot_cfg *cfg;
    z_stream z;
    int z_ready;
    fz_zcache cache;
    uint8_t *flat; size_t flat_cap;
    uint8_t *out; size_t out_cap;
#ifdef FZ_HAVE_ZSTD
    ZSTD_CCtx *zc;
#endif
#ifdef FZ_HAVE_LZ4
    void *lz4_state; size_t lz4_state_size;
#endif
} os_worker;

static void worker_clear(os_worker *w) {
    if (w->z_ready) deflateEnd(&w->z);
    w->z_ready = 0;
    fz_zcache_clear(&w->cache);
    free(w->flat);
    free(w->out);
#ifdef FZ_HAVE_ZSTD
    ZSTD_freeCCtx(w->zc);
#endif
#ifdef FZ_HAVE_LZ4
    free(w->lz4_state);
#endif
    memset(w, 0, sizeof(*w));
}

static int zlib_wbits(int container) {
    return container == FZ_CONT_ZLIB ? MAX_WBITS : container == FZ_CONT_GZIP ? MAX_WBITS + 16 : -MAX_WBITS;
}

int fz_oneshot_supported(int codec, int container) {
    switch (codec) {
    case FZ_CODEC_ZLIB:
        return container == FZ_CONT_RAW || container == FZ_CONT_ZLIB || container == FZ_CONT_GZIP;
#ifdef FZ_HAVE_ZSTD
    case FZ_CODEC_ZSTD: return container == FZ_CONT_FRAME;
#endif
#ifdef FZ_HAVE_LZ4
    case FZ_CODEC_LZ4:
        return container == FZ_CONT_FRAME || container == FZ_CONT_BLOCK || container == FZ_CONT_RAW;
#endif
    default: return 0;
    }
}

static int check_cfg(const fz_oneshot_cfg *cfg) {
    if (!fz_oneshot_supported(cfg->codec, cfg->container)) return FZ_EUNAVAIL;
    if (cfg->codec == FZ_CODEC_ZLIB && (cfg->level < 0 || cfg->level > 9)) return FZ_EARG;
#ifdef FZ_HAVE_ZSTD
    if (cfg->codec == FZ_CODEC_ZSTD && (cfg->level < ZSTD_minCLevel() || cfg->level > ZSTD_maxCLevel()))
        return FZ_EARG;
#endif
    if (cfg->codec == FZ_CODEC_LZ4 && cfg->level > 12) return FZ_EARG;
    return FZ_OK;
}

/* The piece as one contiguous buffer (no copy when only one part is non-empty). */
static const uint8_t *contiguous(os_worker *w, const fz_piece *p, size_t *len) {
    size_t n = fz_piece_len(p);
    *len = n;
    if (n == p->body_len) return p->body_len ? p->body : (const uint8_t *)"";
    if (n == p->prefix_len) return p->prefix;
    if (n == p->suffix_len) return p->suffix;
    if (fz_reserve(&w->flat, &w->flat_cap, n)) return NULL;
    fz_piece_flatten(w->flat, p);
    return w->flat;
}

static int64_t zlib_size(os_worker *w, const fz_piece *p, fz_cancel_flag *cancel) {
    const fz_oneshot_cfg *cfg = w->cfg;
    if (!w->z_ready) {
        memset(&w->z, 0, sizeof(w->z));
        if (deflateInit2(&w->z, cfg->level, Z_DEFLATED, zlib_wbits(cfg->container), 8,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return FZ_ENOMEM;
        w->z_ready = 1;
    } else if (deflateReset(&w->z) != Z_OK) {
        return FZ_ECODEC;
    }
    if (cfg->level == 0) {
        size_t n;
        const uint8_t *src = contiguous(w, p, &n);
        if (!src) return FZ_ENOMEM;
        return fz_deflate_cpython(&w->z, src, n, &w->out, &w->out_cap);
    }
    if (fz_reserve(&w->out, &w->out_cap, FZ_DEFLATE_SINK)) return FZ_ENOMEM;
    int rc = fz_deflate_feed(&w->z, w->out, p->prefix, p->prefix_len, Z_NO_FLUSH, cancel);
    if (rc == FZ_OK) rc = fz_deflate_feed(&w->z, w->out, p->body, p->body_len, Z_NO_FLUSH, cancel);
    if (rc == FZ_OK) rc = fz_deflate_feed(&w->z, w->out, p->suffix, p->suffix_len, Z_FINISH, cancel);
    return rc == FZ_OK ? (int64_t)w->z.total_out : rc;
}

#ifdef FZ_HAVE_ZSTD
static int64_t zstd_size(os_worker *w, const fz_piece *p) {
    if (!w->zc) {
        w->zc = ZSTD_createCCtx();
        if (!w->zc) return FZ_ENOMEM;
        if (ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, w->cfg->level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_contentSizeFlag, 1)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 0)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_dictIDFlag, 1)))
            return FZ_EARG;
    }
    size_t n;
    const uint8_t *src = contiguous(w, p, &n);
    if (!src) return FZ_ENOMEM;
    size_t bound = ZSTD_compressBound(n);
    if (fz_reserve(&w->out, &w->out_cap, bound)) return FZ_ENOMEM;
    size_t r = ZSTD_compress2(w->zc, w->out, bound, src, n);
    return ZSTD_isError(r) ? FZ_ECODEC : (int64_t)r;
}
#endif

#ifdef FZ_HAVE_LZ4
static int64_t lz4_size(os_worker *w, const fz_piece *p) {
    size_t n;
    const uint8_t *src = contiguous(w, p, &n);
    if (!src) return FZ_ENOMEM;
    int level = w->cfg->level;
    if (w->cfg->container == FZ_CONT_FRAME) {
        LZ4F_preferences_t prefs;
        memset(&prefs, 0, sizeof(prefs));
        prefs.frameInfo.blockSizeID = LZ4F_default;
        prefs.frameInfo.blockMode = LZ4F_blockLinked;
        prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
        prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
        prefs.frameInfo.contentSize = (unsigned long long)n;
        prefs.compressionLevel = level;
        size_t bound = LZ4F_compressFrameBound(n, &prefs);
        if (fz_reserve(&w->out, &w->out_cap, bound)) return FZ_ENOMEM;
        size_t r = LZ4F_compressFrame(w->out, bound, src, n, &prefs);
        return LZ4F_isError(r) ? FZ_ECODEC : (int64_t)r;
    }
    /* block: python-lz4's 4-byte little-endian size, then one block; raw: the block alone */
    if (n > LZ4_MAX_INPUT_SIZE) return FZ_EARG;
    size_t bound = (size_t)LZ4_compressBound((int)n);
    if (fz_reserve(&w->out, &w->out_cap, bound + 1)) return FZ_ENOMEM;
    size_t need = level >= 1 ? sizeof(LZ4_streamHC_t) : sizeof(LZ4_stream_t);
    if (w->lz4_state_size < need) {
        free(w->lz4_state);
        w->lz4_state = malloc(need);
        w->lz4_state_size = w->lz4_state ? need : 0;
        if (!w->lz4_state) return FZ_ENOMEM;
    }
    /* python-lz4's own sequence: a freshly reset stream, then one _continue call */
    int r;
    if (level >= 1) {
        LZ4_streamHC_t *hc = LZ4_initStreamHC(w->lz4_state, w->lz4_state_size);
        LZ4_resetStreamHC_fast(hc, level);
        r = LZ4_compress_HC_continue(hc, (const char *)src, (char *)w->out, (int)n, (int)bound);
    } else {
        LZ4_stream_t *fast = LZ4_initStream(w->lz4_state, w->lz4_state_size);
        r = LZ4_compress_fast_continue(fast, (const char *)src, (char *)w->out, (int)n, (int)bound,
                                       level < 0 ? -level : 1);
    }
    if (r <= 0) return FZ_ECODEC;
    return (int64_t)r + (w->cfg->container == FZ_CONT_BLOCK ? 4 : 0);
}
#endif

static int64_t piece_size(os_worker *w, const fz_piece *p, fz_cancel_flag *cancel) {
    switch (w->cfg->codec) {
    case FZ_CODEC_ZLIB: return zlib_size(w, p, cancel);
#ifdef FZ_HAVE_ZSTD
    case FZ_CODEC_ZSTD: return zstd_size(w, p);
#endif
#ifdef FZ_HAVE_LZ4
    case FZ_CODEC_LZ4: return lz4_size(w, p);
#endif
    default: return FZ_EUNAVAIL;
    }
}

/* ---- one job: singles and pairs ------------------------------------------------ */

typedef struct {
    int state;                 /* 0 not built, 1 being built, 2 ready, 3 failed */
    int blocks_left;
    z_stream *z;
} row_slot;

typedef struct {
    const fz_oneshot_cfg *cfg;
    /* singles: list 0 is a (or the items), list 1 is b */
    const fz_items *lists[2];
    const int64_t *index;      /* singles of list 0 only: which items */
    size_t n_single[2];
    int64_t *out_single[2];
    size_t single_blocks;
    /* pairs */
    const fz_pairs *pairs;
    int64_t *out_ab;
    size_t col_block;          /* columns per work item */
    size_t *row_first_item;    /* work item of each row's first block (n_rows + 1) */
    row_slot *rows;
    int reuse;                 /* zlib levels 1-9: copy row states */
    size_t max_b;              /* longest b item */
    size_t n_items;
    size_t next;
    fz_cancel_flag cancel;
    int error;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    os_worker *workers;
} os_job;

static void fail(os_job *job, int64_t rc) {
    int expected = 0;
    __atomic_compare_exchange_n(&job->error, &expected, (int)rc, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    job->cancel = 1;
}

static size_t row_of(const os_job *job, size_t r) {
    return job->pairs->row_ids ? (size_t)job->pairs->row_ids[r] : r;
}

static size_t row_cols(const os_job *job, size_t r) {
    const fz_pairs *p = job->pairs;
    return p->row_ids ? (size_t)(p->col_ptr[r + 1] - p->col_ptr[r]) : p->b.n;
}

static void free_row_stream(os_worker *w, z_stream *z) {
    fz_zcache_bind(&w->cache);
    deflateEnd(z);
    fz_zcache_bind(NULL);
    free(z);
}

/* Build the deflate state after a_i ++ sep. */
static int build_row(os_job *job, os_worker *w, size_t r, z_stream **out) {
    const fz_pairs *p = job->pairs;
    size_t i = row_of(job, r);
    z_stream *z = calloc(1, sizeof(*z));
    if (!z) return FZ_ENOMEM;
    z->zalloc = fz_zcache_alloc;
    z->zfree = fz_zcache_free;
    fz_zcache_bind(&w->cache);
    int rc = FZ_OK;
    /* The smallest window that still holds the whole of a_i ++ sep ++ b_j:
     * deflate cannot tell it from the 32 KB one (no match can reach further
     * back than the input, and the window never slides), so the output is the
     * same byte for byte but for the header's window-size field, and a copy
     * of the state moves 64 KB less (tests/streams/test_sizes.py checks the edges). */
    size_t a_len = (size_t)(p->a.offsets[i + 1] - p->a.offsets[i]);
    size_t total = a_len + p->sep_len + job->max_b;
    int bits = 9;
    while (bits < MAX_WBITS && ((size_t)1 << bits) - FZ_MIN_LOOKAHEAD < total) bits++;
    int wbits = zlib_wbits(job->cfg->container);
    wbits = wbits < 0 ? -bits : wbits > MAX_WBITS ? 16 + bits : bits;
    if (deflateInit2(z, job->cfg->level, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(z);
        fz_zcache_bind(NULL);
        return FZ_ENOMEM;
    }
    if (fz_reserve(&w->out, &w->out_cap, FZ_DEFLATE_SINK)) rc = FZ_ENOMEM;
    if (rc == FZ_OK)
        rc = fz_deflate_feed(z, w->out, p->a.data + p->a.offsets[i], a_len, Z_NO_FLUSH, &job->cancel);
    if (rc == FZ_OK) rc = fz_deflate_feed(z, w->out, p->sep, p->sep_len, Z_NO_FLUSH, &job->cancel);
    fz_zcache_bind(NULL);
    if (rc != FZ_OK) {
        free_row_stream(w, z);
        return rc;
    }
    *out = z;
    return FZ_OK;
}

static z_stream *row_acquire(os_job *job, os_worker *w, size_t r) {
    row_slot *slot = &job->rows[r];
    pthread_mutex_lock(&job->mu);
    while (slot->state == 1) pthread_cond_wait(&job->cv, &job->mu);
    if (slot->state == 0) {
        slot->state = 1;
        pthread_mutex_unlock(&job->mu);
        z_stream *z = NULL;
        int rc = build_row(job, w, r, &z);
        if (rc != FZ_OK) fail(job, rc);
        pthread_mutex_lock(&job->mu);
        slot->z = z;
        slot->state = rc == FZ_OK ? 2 : 3;
        pthread_cond_broadcast(&job->cv);
    }
    z_stream *z = slot->state == 2 ? slot->z : NULL;
    pthread_mutex_unlock(&job->mu);
    return z;
}

static void row_release(os_job *job, os_worker *w, size_t r) {
    row_slot *slot = &job->rows[r];
    z_stream *done = NULL;
    pthread_mutex_lock(&job->mu);
    if (--slot->blocks_left == 0) {
        done = slot->z;
        slot->z = NULL;
    }
    pthread_mutex_unlock(&job->mu);
    if (done) free_row_stream(w, done);
}

static void do_singles(os_job *job, os_worker *w, size_t block) {
    size_t first = block * FZ_SINGLE_BLOCK;
    for (size_t t = first; t < first + FZ_SINGLE_BLOCK; t++) {
        if (job->cancel) return;
        int list = t >= job->n_single[0];
        size_t k = list ? t - job->n_single[0] : t;
        if (k >= job->n_single[list]) return;
        const fz_items *items = job->lists[list];
        size_t i = (!list && job->index) ? (size_t)job->index[k] : k;
        fz_piece piece = {NULL, 0, items->data + items->offsets[i],
                          (size_t)(items->offsets[i + 1] - items->offsets[i]), NULL, 0};
        int64_t size = piece_size(w, &piece, &job->cancel);
        if (size < 0) { fail(job, size); return; }
        job->out_single[list][k] = size;
    }
}

static void do_pairs(os_job *job, os_worker *w, size_t item) {
    const fz_pairs *p = job->pairs;
    /* the row whose blocks hold this item */
    size_t lo = 0, hi = p->n_rows;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (job->row_first_item[mid] <= item) lo = mid; else hi = mid;
    }
    size_t r = lo;
    size_t k0 = (item - job->row_first_item[r]) * job->col_block;
    size_t k1 = k0 + job->col_block;
    size_t ncols = row_cols(job, r);
    if (k1 > ncols) k1 = ncols;
    size_t base = p->row_ids ? (size_t)p->col_ptr[r] : r * p->b.n;
    size_t i = row_of(job, r);
    const uint8_t *a = p->a.data + p->a.offsets[i];
    size_t a_len = (size_t)(p->a.offsets[i + 1] - p->a.offsets[i]);
    z_stream *row = NULL;
    if (job->reuse && a_len + p->sep_len >= FZ_REUSE_MIN) {
        row = row_acquire(job, w, r);
        if (!row) { row_release(job, w, r); return; }
    }
    if (fz_reserve(&w->out, &w->out_cap, FZ_DEFLATE_SINK)) { fail(job, FZ_ENOMEM); row = NULL; }
    for (size_t k = k0; k < k1 && !job->cancel; k++) {
        size_t j = p->cols ? (size_t)p->cols[base + k] : k;
        const uint8_t *b = p->b.data + p->b.offsets[j];
        size_t b_len = (size_t)(p->b.offsets[j + 1] - p->b.offsets[j]);
        int64_t size;
        if (row) {
            z_stream copy;
            fz_zcache_bind(&w->cache);
            if (deflateCopy(&copy, row) != Z_OK) {
                size = FZ_ENOMEM;
            } else {
                int rc = fz_deflate_feed(&copy, w->out, b, b_len, Z_FINISH, &job->cancel);
                size = rc == FZ_OK ? (int64_t)copy.total_out : rc;
                deflateEnd(&copy);
            }
            fz_zcache_bind(NULL);
        } else {
            fz_piece piece = {a, a_len, p->sep, p->sep_len, b, b_len};
            size = piece_size(w, &piece, &job->cancel);
        }
        if (size < 0) { fail(job, size); break; }
        job->out_ab[base + k] = size;
    }
    if (job->reuse) row_release(job, w, r);
}

static void job_worker(void *arg, int slot) {
    os_job *job = arg;
    os_worker *w = &job->workers[slot];
    for (;;) {
        if (job->cancel) break;
        size_t t = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (t >= job->n_items) break;
        if (t < job->single_blocks) do_singles(job, w, t);
        else do_pairs(job, w, t - job->single_blocks);
    }
}

static size_t items_bytes(const fz_items *items, const int64_t *index, size_t n, size_t stop) {
    size_t total = 0;
    for (size_t k = 0; k < n && total <= stop; k++) {
        size_t i = index ? (size_t)index[k] : k;
        total += (size_t)(items->offsets[i + 1] - items->offsets[i]);
    }
    return total;
}

static int run_job(os_job *job, int n_threads, size_t work, fz_poll_fn poll, void *poll_ctx) {
    if (n_threads < 1) n_threads = 1;
    if (n_threads > FZ_MAX_THREADS) n_threads = FZ_MAX_THREADS;
    if ((size_t)n_threads > job->n_items) n_threads = (int)(job->n_items ? job->n_items : 1);
    int inline_run = work <= FZ_INLINE_WORK;   /* else even one worker runs on the pool, */
    if (inline_run) n_threads = 1;              /* so that this thread can poll for Ctrl-C */
    job->workers = calloc((size_t)n_threads, sizeof(os_worker));
    if (!job->workers) return FZ_ENOMEM;
    for (int t = 0; t < n_threads; t++) job->workers[t].cfg = job->cfg;
    pthread_mutex_init(&job->mu, NULL);
    pthread_cond_init(&job->cv, NULL);
    if (inline_run) job_worker(job, 0);
    else fz_pool_run(n_threads, job_worker, job, poll, poll_ctx, &job->cancel);
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cv);
    for (int t = 0; t < n_threads; t++) worker_clear(&job->workers[t]);
    free(job->workers);
    if (job->error) return job->error;
    if (job->cancel) return FZ_EINTR;
    return FZ_OK;
}

int fz_oneshot_sizes(const fz_oneshot_cfg *cfg, const fz_items *items, const int64_t *index,
                     size_t n_out, int64_t *out, int n_threads, fz_poll_fn poll, void *poll_ctx) {
    int rc = check_cfg(cfg);
    if (rc != FZ_OK) return rc;
    if (n_out == 0) return FZ_OK;
    os_job job;
    memset(&job, 0, sizeof(job));
    job.cfg = cfg;
    job.lists[0] = items;
    job.lists[1] = items;
    job.index = index;
    job.n_single[0] = n_out;
    job.out_single[0] = out;
    job.single_blocks = (n_out + FZ_SINGLE_BLOCK - 1) / FZ_SINGLE_BLOCK;
    job.n_items = job.single_blocks;
    size_t work = n_out * FZ_ITEM_COST + items_bytes(items, index, n_out, FZ_INLINE_WORK);
    return run_job(&job, n_threads, work, poll, poll_ctx);
}

int fz_pair_sizes(const fz_oneshot_cfg *cfg, const fz_pairs *p, int64_t *out_a, int64_t *out_b,
                  int64_t *out_ab, int n_threads, fz_poll_fn poll, void *poll_ctx) {
    int rc = check_cfg(cfg);
    if (rc != FZ_OK) return rc;
    os_job job;
    memset(&job, 0, sizeof(job));
    job.cfg = cfg;
    job.lists[0] = &p->a;
    job.lists[1] = &p->b;
    job.n_single[0] = out_a ? p->a.n : 0;
    job.n_single[1] = out_b ? p->b.n : 0;
    job.out_single[0] = out_a;
    job.out_single[1] = out_b;
    job.single_blocks = (job.n_single[0] + job.n_single[1] + FZ_SINGLE_BLOCK - 1) / FZ_SINGLE_BLOCK;
    job.pairs = p;
    job.out_ab = out_ab;
    job.reuse = cfg->codec == FZ_CODEC_ZLIB && cfg->level > 0;

    for (size_t j = 0; j < p->b.n; j++) {
        size_t len = (size_t)(p->b.offsets[j + 1] - p->b.offsets[j]);
        if (len > job.max_b) job.max_b = len;
    }
    size_t n_rows = p->row_ids ? p->n_rows : p->a.n;
    fz_pairs local = *p;
    local.n_rows = n_rows;
    job.pairs = &local;
    size_t total_cols = 0;
    for (size_t r = 0; r < n_rows; r++) total_cols += row_cols(&job, r);
    /* Whole rows when there are plenty of them; else blocks of columns, so
     * that every thread has about four items to take. */
    int threads = n_threads < 1 ? 1 : n_threads;
    size_t want = (size_t)threads * 4;
    if (n_rows >= want || total_cols == 0) {
        job.col_block = SIZE_MAX;
    } else {
        job.col_block = (total_cols + want - 1) / want;
        if (job.col_block < 8) job.col_block = 8;
    }
    job.row_first_item = malloc((n_rows + 1) * sizeof(size_t));
    job.rows = calloc(n_rows ? n_rows : 1, sizeof(row_slot));
    if (!job.row_first_item || !job.rows) {
        free(job.row_first_item);
        free(job.rows);
        return FZ_ENOMEM;
    }
    size_t items = 0;
    for (size_t r = 0; r < n_rows; r++) {
        job.row_first_item[r] = items;
        size_t c = row_cols(&job, r);
        size_t blocks = c == 0 ? 0 : job.col_block == SIZE_MAX ? 1 : (c + job.col_block - 1) / job.col_block;
        job.rows[r].blocks_left = (int)blocks;
        items += blocks;
    }
    job.row_first_item[n_rows] = items;
    job.n_items = job.single_blocks + items;

    size_t work = (job.n_single[0] + job.n_single[1] + total_cols) * FZ_ITEM_COST
                  + items_bytes(&p->a, NULL, p->a.n, FZ_INLINE_WORK)
                  + items_bytes(&p->b, NULL, p->b.n, FZ_INLINE_WORK);
    rc = run_job(&job, n_threads, work, poll, poll_ctx);
    /* rows left over by a cancelled or failed run */
    for (size_t r = 0; r < n_rows; r++) {
        if (job.rows[r].z) {
            deflateEnd(job.rows[r].z);
            free(job.rows[r].z);
        }
    }
    free(job.row_first_item);
    free(job.rows);
    return rc;
}
