/*
 * fz_batch.c: the codec-agnostic batch driver.
 *
 * Workers take candidates one at a time from a shared counter (sizes vary a
 * lot, so static chunks would leave a thread idle).  The thread that called
 * us does no compression: it sleeps on a condition variable and wakes every
 * FZ_POLL_MS to ask the caller whether to stop (the Python layer checks for
 * Ctrl-C there).  On a stop request the workers finish the slice they are on
 * and return, so a batch stops within about a tenth of a second.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "fz_batch.h"

/* Below this much estimated work a batch runs inline on the calling thread:
 * starting threads would cost more than it saves, and it ends well within
 * one poll interval.  A candidate is counted as its bytes plus a fixed cost
 * (zlib copies ~260 KB of state per candidate). */
#define FZ_INLINE_WORK ((size_t)1 << 20)
#define FZ_FIXED_COST  ((size_t)16 << 10)

typedef struct {
    const fz_codec_ops *ops;
    const void *stream;
    fz_workers *workers;
    const fz_batch *batch;
    int64_t *out;
    size_t next;                 /* next candidate to take (atomic) */
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

static void run_worker(fz_job *job, int slot) {
    const fz_batch *b = job->batch;
    void *scratch = job->workers->slot[slot];
    for (;;) {
        if (job->cancel) break;
        size_t i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (i >= b->n) break;
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
            break;
        }
        job->out[i] = size + b->base;
    }
}

static void worker_done(fz_job *job) {
    pthread_mutex_lock(&job->mu);
    job->finished++;
    pthread_cond_signal(&job->cv);
    pthread_mutex_unlock(&job->mu);
}

/* Wait for `count` workers to finish, polling the caller meanwhile. */
static void wait_and_poll(fz_job *job, int count, fz_poll_fn poll, void *poll_ctx) {
    pthread_mutex_lock(&job->mu);
    while (job->finished < count) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += (long)FZ_POLL_MS * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec += 1;
            deadline.tv_nsec -= 1000000000L;
        }
        int rc = pthread_cond_timedwait(&job->cv, &job->mu, &deadline);
        if (rc == ETIMEDOUT && poll && !job->cancel) {
            pthread_mutex_unlock(&job->mu);
            if (poll(poll_ctx)) job->cancel = 1;
            pthread_mutex_lock(&job->mu);
        }
    }
    pthread_mutex_unlock(&job->mu);
}

#ifndef _OPENMP
typedef struct { fz_job *job; int slot; } fz_thread_arg;

static void *thread_main(void *p) {
    fz_thread_arg *arg = p;
    run_worker(arg->job, arg->slot);
    worker_done(arg->job);
    return NULL;
}
#endif

static int run_threads(fz_job *job, int n_threads, fz_poll_fn poll, void *poll_ctx) {
#ifdef _OPENMP
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
#else
    pthread_t threads[FZ_MAX_THREADS];
    fz_thread_arg args[FZ_MAX_THREADS];
    int started = 0;
    for (int t = 0; t < n_threads; t++) {
        args[t].job = job;
        args[t].slot = t;
        if (pthread_create(&threads[t], NULL, thread_main, &args[t]) != 0) break;
        started++;
    }
    if (started == 0) {          /* no thread could start: work here */
        run_worker(job, 0);
        return FZ_OK;
    }
    wait_and_poll(job, started, poll, poll_ctx);
    for (int t = 0; t < started; t++) pthread_join(threads[t], NULL);
    return FZ_OK;
#endif
}

int fz_batch_measure(const fz_codec_ops *ops, const void *stream, fz_workers *workers,
                     const fz_batch *batch, int64_t *out, int n_threads,
                     fz_poll_fn poll, void *poll_ctx) {
    if (batch->n == 0) return FZ_OK;
    if (n_threads < 1) n_threads = 1;
    if (n_threads > FZ_MAX_THREADS) n_threads = FZ_MAX_THREADS;
    if ((size_t)n_threads > batch->n) n_threads = (int)batch->n;

    size_t work = batch->n * (batch->prefix_len + batch->suffix_len + FZ_FIXED_COST);
    for (size_t i = 0; i < batch->n && work <= FZ_INLINE_WORK; i++) {
        size_t j = batch->index ? (size_t)batch->index[i] : i;
        work += (size_t)(batch->offsets[j + 1] - batch->offsets[j]);
    }
    int inline_run = work <= FZ_INLINE_WORK;
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
