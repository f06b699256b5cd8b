/* fz_batch.h: measure a batch of candidates on a thread pool. */
#ifndef FZ_BATCH_H
#define FZ_BATCH_H
#include "fz_common.h"

/* What a codec provides to the batch driver. */
typedef struct {
    void   *(*worker_new)(void);
    void    (*worker_free)(void *worker);
    int64_t (*measure)(const void *stream, void *worker, const fz_piece *piece, fz_cancel_flag *cancel);
    /* When a batch runs inline on the calling thread: its work, counted as
     * each candidate's bytes plus fixed_cost, is at most inline_work.  Waking
     * the pool costs about 55 us on the 2-core VM this was tuned on, more
     * than a small batch of a fast codec takes (fz_batch.c). */
    size_t fixed_cost;
    size_t inline_work;
} fz_codec_ops;

/* The inline bounds zlib, zstd and lz4 use, set for zlib: about 8 zlib
 * candidates (zlib copies ~260 KB of state per candidate). */
#define FZ_DEFAULT_FIXED_COST  ((size_t)16 << 10)
#define FZ_DEFAULT_INLINE_WORK ((size_t)128 << 10)

/* Called by the waiting thread about every FZ_POLL_MS milliseconds while a
 * batch runs; a non-zero return cancels the batch (used for Ctrl-C). */
typedef int (*fz_poll_fn)(void *ctx);
#define FZ_POLL_MS 50

/* Per-thread scratch that outlives one batch (a zstd context keeps its
 * tables, a zlib worker its block cache), owned by the stream's caller. */
typedef struct {
    void *slot[256];
    int count;
} fz_workers;
#define FZ_MAX_THREADS 256

void fz_workers_free(fz_workers *ws, const fz_codec_ops *ops);

/* The candidates: body i is data[offsets[j] : offsets[j+1]] with j = index[i]
 * (or j = i when index is NULL), for i < n. */
typedef struct {
    const uint8_t *data;
    const int64_t *offsets;
    const int64_t *index;
    size_t n;
    const uint8_t *prefix; size_t prefix_len;   /* fed before every body */
    const uint8_t *suffix; size_t suffix_len;   /* fed after every body */
    int64_t base;                                /* added to every size */
} fz_batch;

/* out[i] = base + ops->measure(stream, piece i).  Runs on n_threads threads
 * (OpenMP when compiled in, else pthreads); the calling thread only waits
 * and polls.  Small batches run inline on the calling thread.
 * Returns FZ_OK, FZ_EINTR when poll() asked to stop, or another FZ_E* code. */
int fz_batch_measure(const fz_codec_ops *ops, const void *stream, fz_workers *workers,
                     const fz_batch *batch, int64_t *out, int n_threads,
                     fz_poll_fn poll, void *poll_ctx);

/* 1 when compiled with OpenMP. */
int fz_have_openmp(void);

/* The shared thread pool: runs fn(arg, w) for w = 0 .. n_workers-1 on pool
 * threads that live across calls and sleep on a condition variable between
 * them (they never spin).  The calling thread only waits, calling poll about
 * every FZ_POLL_MS; a non-zero return sets *cancel, which fn must watch.
 * Returns FZ_OK (fn ran inline on the caller when no thread could start). */
typedef void (*fz_pool_fn)(void *arg, int worker);
int fz_pool_run(int n_workers, fz_pool_fn fn, void *arg, fz_poll_fn poll, void *poll_ctx,
                fz_cancel_flag *cancel);
#endif
