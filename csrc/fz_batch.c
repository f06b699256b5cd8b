/*
 * fz_batch.c: the codec-agnostic batch driver.
 *
 * Workers take candidates in small chunks from a shared counter (sizes vary
 * a lot, so a static split would leave a thread idle; run_worker says how
 * large).  The thread that called us does no compression: it sleeps on a
 * condition variable and wakes every FZ_POLL_MS to ask the caller whether to
 * stop (the Python layer checks for Ctrl-C there).  On a stop request the
 * workers finish the slice they are on and return, so a batch stops within
 * about a tenth of a second.
 */
#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "fz_batch.h"

/* Below its codec's inline_work (fz_batch.h) a batch runs inline on the
 * calling thread: waking the pool would cost more than it saves, and it ends
 * well within one poll interval.  Selection's stage 3 measures a few stale
 * candidates at a time, a batch per pick: for lz77 the wake-up was most of
 * that time (bench/bench_small_batches.py). */

typedef struct {
    const fz_codec_ops *ops;
    const void *stream;
    fz_workers *workers;
    const fz_batch *batch;
    int64_t *out;
    size_t next;                 /* next candidate to take (atomic) */
    size_t chunk;                /* candidates taken at a time (run_worker) */
    fz_cancel_flag cancel;
    int error;                   /* first error seen (atomic) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int finished;                /* workers that have returned */
} fz_job;

int fz_have_openmp(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

void fz_workers_free(fz_workers *ws, const fz_codec_ops *ops) {
    for (int i = 0; i < ws->count; i++) {
        if (ws->slot[i]) ops->worker_free(ws->slot[i]);
        ws->slot[i] = NULL;
    }
    ws->count = 0;
}

/* Workers take candidates in chunks: one shared counter bumped per candidate
 * bounced its cache line between the cores (and so did out[], written
 * entry by entry from both), which cost more than a short candidate's whole
 * measurement.  A chunk is about 1/32 of a worker's share, at most
 * CHUNK_MAX, so the last chunks still balance the load.  Which worker
 * measures a candidate never changes its size. */
#define CHUNK_MAX 64
#define OFFSETS_AHEAD 4
static void run_worker(fz_job *job, int slot) {
    const fz_batch *b = job->batch;
    void *scratch = job->workers->slot[slot];
    size_t chunk = job->chunk;
    for (;;) {
        if (job->cancel) break;
        size_t start = __atomic_fetch_add(&job->next, chunk, __ATOMIC_RELAXED);
        if (start >= b->n) break;
        size_t stop = start + chunk < b->n ? start + chunk : b->n;
        for (size_t i = start; i < stop; i++) {
            /* an index scatters the candidates over the pool: each one's offsets and its
             * bytes were a cache (and TLB) miss of their own, taken in turn; start them
             * early (offsets OFFSETS_AHEAD candidates on, the bytes of the next one) */
            if (b->index && i + OFFSETS_AHEAD < b->n) __builtin_prefetch(b->offsets + b->index[i + OFFSETS_AHEAD]);
            if (i + 1 < b->n) {
                const uint8_t *next = b->data + b->offsets[b->index ? (size_t)b->index[i + 1] : i + 1];
                __builtin_prefetch(next);
                __builtin_prefetch(next + 64);
            }
            size_t j = b->index ? (size_t)b->index[i] : i;
            fz_piece piece = {
                b->prefix, b->prefix_len,
                b->data + b->offsets[j], (size_t)(b->offsets[j + 1] - b->offsets[j]),
                b->suffix, b->suffix_len,
            };
            int64_t size = job->ops->measure(job->stream, scratch, &piece, &job->cancel);
            if (size < 0) {
                int expected = 0;
                __atomic_compare_exchange_n(&job->error, &expected, (int)size, 0,
                                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
                job->cancel = 1;
                return;
            }
            job->out[i] = size + b->base;
        }
    }
}

static void deadline_in(struct timespec *t, long ms) {
    clock_gettime(CLOCK_REALTIME, t);
    t->tv_nsec += ms * 1000000L;
    if (t->tv_nsec >= 1000000000L) { t->tv_sec += 1; t->tv_nsec -= 1000000000L; }
}

/* With mu held, wait on cv until *done reaches target (workers count
 * themselves in under mu and signal cv).  Every FZ_POLL_MS without a
 * wake-up the caller's poll is asked, with mu released, whether to stop;
 * a yes sets *cancel, which the workers read between candidates.  This is
 * how Ctrl-C reaches a batch running in any of the three thread setups. */
static void wait_polling(pthread_cond_t *cv, pthread_mutex_t *mu, const int *done, int target,
                         fz_poll_fn poll, void *poll_ctx, fz_cancel_flag *cancel) {
    while (*done < target) {
        struct timespec deadline;
        deadline_in(&deadline, FZ_POLL_MS);
        int rc = pthread_cond_timedwait(cv, mu, &deadline);
        if (rc == ETIMEDOUT && poll && !*cancel) {
            pthread_mutex_unlock(mu);
            if (poll(poll_ctx)) *cancel = 1;
            pthread_mutex_lock(mu);
        }
    }
}

#ifdef _OPENMP
static void worker_done(fz_job *job) {
    pthread_mutex_lock(&job->mu);
    job->finished++;
    pthread_cond_signal(&job->cv);
    pthread_mutex_unlock(&job->mu);
}

/* Wait for `count` workers to finish, polling the caller meanwhile. */
static void wait_and_poll(fz_job *job, int count, fz_poll_fn poll, void *poll_ctx) {
    pthread_mutex_lock(&job->mu);
    wait_polling(&job->cv, &job->mu, &job->finished, count, poll, poll_ctx, &job->cancel);
    pthread_mutex_unlock(&job->mu);
}
#endif

/* ---- the shared pool ------------------------------------------------------
 *
 * Threads start on first use and stay, asleep on pool_work_cv, between runs:
 * an idle pool costs nothing and a run costs one wake-up per thread, so it
 * never busy-waits (GNU OpenMP's default policy spins for a while after every
 * parallel region, which on a machine whose cores are busy with another
 * process costs a full time slice per batch).  One run at a time uses the
 * pool; a concurrent caller (another Python thread) gets threads of its own.
 */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_work_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done_cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t pool_busy = PTHREAD_MUTEX_INITIALIZER;
static int pool_size;                       /* threads started */
static unsigned long pool_gen;              /* one per run */
static unsigned long pool_start_gen[FZ_MAX_THREADS];
static fz_pool_fn pool_fn;
static void *pool_arg;
static int pool_n, pool_done;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_after_fork(void) {
    /* only the forking thread survives in the child: start afresh */
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    pool_mu = m; pool_busy = m;
    pool_work_cv = c; pool_done_cv = c;
    pool_size = 0;
    pool_gen = 0;
}

static void pool_init(void) { pthread_atfork(NULL, NULL, pool_after_fork); }

static void *pool_main(void *p) {
    int id = (int)(intptr_t)p;
    pthread_mutex_lock(&pool_mu);
    unsigned long seen = pool_start_gen[id];
    for (;;) {
        while (pool_gen == seen) pthread_cond_wait(&pool_work_cv, &pool_mu);
        seen = pool_gen;
        if (id >= pool_n) continue;
        fz_pool_fn fn = pool_fn;
        void *arg = pool_arg;
        pthread_mutex_unlock(&pool_mu);
        fn(arg, id);
        pthread_mutex_lock(&pool_mu);
        if (++pool_done == pool_n) pthread_cond_signal(&pool_done_cv);
    }
    return NULL;
}

typedef struct { fz_pool_fn fn; void *arg; int id; int *finished; pthread_mutex_t *mu;
                 pthread_cond_t *cv; } fz_own_arg;

static void *own_main(void *p) {
    fz_own_arg *a = p;
    a->fn(a->arg, a->id);
    pthread_mutex_lock(a->mu);
    (*a->finished)++;
    pthread_cond_signal(a->cv);
    pthread_mutex_unlock(a->mu);
    return NULL;
}

/* A run that could not have the pool: threads of its own, joined at the end. */
static int run_own_threads(int n, fz_pool_fn fn, void *arg, fz_poll_fn poll, void *poll_ctx,
                           fz_cancel_flag *cancel) {
    pthread_t threads[FZ_MAX_THREADS];
    fz_own_arg args[FZ_MAX_THREADS];
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int finished = 0, started = 0;
    for (int t = 0; t < n; t++) {
        args[t] = (fz_own_arg){fn, arg, t, &finished, &mu, &cv};
        if (pthread_create(&threads[t], NULL, own_main, &args[t]) != 0) break;
        started++;
    }
    if (started == 0) { fn(arg, 0); return FZ_OK; }
    pthread_mutex_lock(&mu);
    wait_polling(&cv, &mu, &finished, started, poll, poll_ctx, cancel);
    pthread_mutex_unlock(&mu);
    for (int t = 0; t < started; t++) pthread_join(threads[t], NULL);
    return FZ_OK;
}

int fz_pool_run(int n, fz_pool_fn fn, void *arg, fz_poll_fn poll, void *poll_ctx,
                fz_cancel_flag *cancel) {
    if (n < 1) n = 1;
    if (n > FZ_MAX_THREADS) n = FZ_MAX_THREADS;
    pthread_once(&pool_once, pool_init);
    if (pthread_mutex_trylock(&pool_busy) != 0)
        return run_own_threads(n, fn, arg, poll, poll_ctx, cancel);
    pthread_mutex_lock(&pool_mu);
    while (pool_size < n) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pool_start_gen[pool_size] = pool_gen;
        int rc = pthread_create(&t, &attr, pool_main, (void *)(intptr_t)pool_size);
        pthread_attr_destroy(&attr);
        if (rc != 0) break;
        pool_size++;
    }
    if (pool_size == 0) {                /* no thread could start: work here */
        pthread_mutex_unlock(&pool_mu);
        pthread_mutex_unlock(&pool_busy);
        fn(arg, 0);
        return FZ_OK;
    }
    if (n > pool_size) n = pool_size;
    pool_fn = fn;
    pool_arg = arg;
    pool_n = n;
    pool_done = 0;
    pool_gen++;
    pthread_cond_broadcast(&pool_work_cv);
    wait_polling(&pool_done_cv, &pool_mu, &pool_done, pool_n, poll, poll_ctx, cancel);
    pthread_mutex_unlock(&pool_mu);
    pthread_mutex_unlock(&pool_busy);
    return FZ_OK;
}

static void pool_worker(void *arg, int slot) { run_worker(arg, slot); }

#ifdef _OPENMP
/* FASTZIP_OPENMP=1 runs batches on an OpenMP team instead (kept to compare:
 * bench/bench_dropin.py); its wait policy is whatever OMP_WAIT_POLICY says. */
static int use_openmp(void) {
    static int cached = -1;
    if (cached < 0) {
        const char *v = getenv("FASTZIP_OPENMP");
        cached = v && *v && strcmp(v, "0") != 0;
    }
    return cached;
}
#endif

static int run_threads(fz_job *job, int n_threads, fz_poll_fn poll, void *poll_ctx) {
#ifdef _OPENMP
    if (use_openmp()) {
        /* Thread 0 of the team polls; the others work.  A team smaller than
         * asked for (OMP_THREAD_LIMIT) still finishes: a lone thread works. */
        #pragma omp parallel num_threads(n_threads + 1)
        {
            int team = omp_get_num_threads();
            int id = omp_get_thread_num();
            if (team == 1) {
                run_worker(job, 0);
            } else if (id == 0) {
                wait_and_poll(job, team - 1, poll, poll_ctx);
            } else {
                run_worker(job, id - 1);
                worker_done(job);
            }
        }
        return FZ_OK;
    }
#endif
    return fz_pool_run(n_threads, pool_worker, job, poll, poll_ctx, &job->cancel);
}

int fz_batch_measure(const fz_codec_ops *ops, const void *stream, fz_workers *workers,
                     const fz_batch *batch, int64_t *out, int n_threads,
                     fz_poll_fn poll, void *poll_ctx) {
    if (batch->n == 0) return FZ_OK;
    if (n_threads < 1) n_threads = 1;
    if (n_threads > FZ_MAX_THREADS) n_threads = FZ_MAX_THREADS;
    if ((size_t)n_threads > batch->n) n_threads = (int)batch->n;

    size_t work = batch->n * (batch->prefix_len + batch->suffix_len + ops->fixed_cost);
    for (size_t i = 0; i < batch->n && work <= ops->inline_work; i++) {
        size_t j = batch->index ? (size_t)batch->index[i] : i;
        work += (size_t)(batch->offsets[j + 1] - batch->offsets[j]);
    }
    int inline_run = work <= ops->inline_work;
    if (inline_run) n_threads = 1;

    for (int t = workers->count; t < n_threads; t++) {
        workers->slot[t] = ops->worker_new();
        if (!workers->slot[t]) return FZ_ENOMEM;
        workers->count = t + 1;
    }

    fz_job job;
    memset(&job, 0, sizeof(job));
    job.ops = ops;
    job.stream = stream;
    job.workers = workers;
    job.batch = batch;
    job.out = out;
    job.chunk = batch->n / ((size_t)n_threads * 32);
    if (job.chunk < 1) job.chunk = 1;
    if (job.chunk > CHUNK_MAX) job.chunk = CHUNK_MAX;
    pthread_mutex_init(&job.mu, NULL);
    pthread_cond_init(&job.cv, NULL);

    if (inline_run) run_worker(&job, 0);
    else run_threads(&job, n_threads, poll, poll_ctx);

    pthread_mutex_destroy(&job.mu);
    pthread_cond_destroy(&job.cv);
    if (job.error) return job.error;
    if (job.cancel) return FZ_EINTR;
    return FZ_OK;
}
