/*
 * fz_lz77.c: the incremental LZ77 cost model (see fz_lz77.h for the model).
 *
 * Layout of the stream's table: bucket b is 32 bytes (half a cache line,
 * aligned): 6 slots table[8b .. 8b+5], each a position + 1 (0: empty), the
 * most recent first, then 6 one-byte tags (the hash's low 8 bits) in words
 * 8b+6 .. 8b+7.  A lookup reads one cache line and reads the stream only
 * at the most recent position whose tag agrees (FZ_LZ77_VERIFY): each
 * stream read is a cache miss, and reading every agreeing slot made the
 * kernel half as fast for selections that judged the same.  The six slots
 * still keep a rare 8-gram's old position behind five others.  An append shifts
 * each touched bucket by one slot; positions whose 8 bytes straddle two
 * appends are inserted once the later append brings their last bytes, so
 * any split of the same bytes into appends gives the same table.
 *
 * A measurement flattens the piece, hashes each of its positions once,
 * then parses.  The candidate's own earlier positions are found through a
 * small chained hash table of the worker, sized to the candidate.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "fz_lz77.h"
#include "fz_stream.h"

#define BUCKETS ((size_t)1 << FZ_LZ77_BUCKET_LOG)
#define HASH_MUL 0x9E3779B97F4A7C15ULL
#define LOCAL_DEPTH 4        /* chain steps into the candidate's own past */
#define LOCAL_LOG_MIN 8
#define LOCAL_LOG_MAX 20
#define LOOKAHEAD_BELOW 32   /* a match this long is taken without looking one byte on */

struct fz_lz77_stream {
    int level;
    uint8_t *data;
    size_t len, cap;
    size_t indexed;          /* positions < indexed are in the table */
    uint32_t *table;         /* BUCKETS * FZ_LZ77_BUCKET_WORDS, 64-byte aligned */
    void *table_alloc;
};

typedef struct {
    uint8_t *x;              /* prefix ++ body ++ suffix */
    size_t x_cap;
    uint32_t *hash;          /* top 32 bits of the 8-byte hash per position */
    size_t hash_cap;         /* in entries */
    uint32_t *prev;          /* chain of the candidate's own positions (pos + 1) */
    size_t prev_cap;
    uint32_t *head;          /* local heads (pos + 1), 2^local_log entries */
    size_t head_cap;
    uint32_t *found;         /* per position: the stream slot to verify (pos + 1), 0: none */
    size_t found_cap;
} fz_lz77_worker;

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t hash8(const uint8_t *p) {
    return (uint32_t)((load64(p) * HASH_MUL) >> 32);
}

static inline size_t bucket_of(uint32_t h) { return (size_t)(h >> (32 - FZ_LZ77_BUCKET_LOG)); }
static inline uint8_t tag_of(uint32_t h) { return (uint8_t)h; }
#define BUCKET_WORDS 8
static inline uint32_t *bucket_at(uint32_t *table, uint32_t h) { return table + bucket_of(h) * BUCKET_WORDS; }

/* Length of the common prefix of a[0..limit) and b[0..limit). */
static inline size_t common(const uint8_t *a, const uint8_t *b, size_t limit) {
    size_t n = 0;
    while (n + 8 <= limit) {
        uint64_t diff = load64(a + n) ^ load64(b + n);
        if (diff) return n + (size_t)(__builtin_ctzll(diff) >> 3);
        n += 8;
    }
    while (n < limit && a[n] == b[n]) n++;
    return n;
}

/* Common prefix of (src .. src_end, then x onwards) and cur[0..limit): a
 * match whose source runs off the end of the stream continues into x, as
 * it would in the concatenation stream ++ x. */
static inline size_t common_across(const uint8_t *src, const uint8_t *src_end, const uint8_t *x,
                                   const uint8_t *cur, size_t limit) {
    size_t first = (size_t)(src_end - src);
    if (first > limit) first = limit;
    size_t n = common(src, cur, first);
    if (n < first || n == limit) return n;
    return n + common(x, cur + n, limit - n);
}

/* log2(v) for v >= 1 from the exponent and a 1024-entry table of the
 * mantissa (error below 0.0015 bits); the same on every thread. */
static double log2_frac[1025];
static pthread_once_t log2_once = PTHREAD_ONCE_INIT;
static void log2_init(void) {
    for (int m = 0; m <= 1024; m++) log2_frac[m] = log2(1.0 + (double)m / 1024.0);
}

static inline double fast_log2(uint64_t v) {
    int e = 63 - __builtin_clzll(v);
    uint64_t m = e >= 10 ? (v >> (e - 10)) & 1023u : (v << (10 - e)) & 1023u;
    return (double)e + log2_frac[m];
}

/* ---- the stream ---------------------------------------------------------- */
int fz_lz77_new(int level, fz_lz77_stream **out) {
    if (level < 1 || level > 2) return FZ_EARG;
    pthread_once(&log2_once, log2_init);
    fz_lz77_stream *s = calloc(1, sizeof(*s));
    if (!s) return FZ_ENOMEM;
    /* calloc of this size maps zero pages: untouched buckets cost nothing */
    s->table_alloc = calloc(BUCKETS * BUCKET_WORDS * sizeof(uint32_t) + 64, 1);
    if (!s->table_alloc) {
        free(s);
        return FZ_ENOMEM;
    }
    s->table = (uint32_t *)(((uintptr_t)s->table_alloc + 63) & ~(uintptr_t)63);
    s->level = level;
    *out = s;
    return FZ_OK;
}

void fz_lz77_free(fz_lz77_stream *s) {
    if (!s) return;
    free(s->table_alloc);
    free(s->data);
    free(s);
}

static void index_up_to(fz_lz77_stream *s, size_t end) {
    uint32_t *table = s->table;
    const uint8_t *data = s->data;
    for (size_t p = s->indexed; p < end; p++) {
        uint32_t h = hash8(data + p);
        uint32_t *b = bucket_at(table, h);
        uint8_t *tags = (uint8_t *)(b + FZ_LZ77_WAYS);
        memmove(b + 1, b, (FZ_LZ77_WAYS - 1) * sizeof(uint32_t));
        memmove(tags + 1, tags, FZ_LZ77_WAYS - 1);
        b[0] = (uint32_t)(p + 1);
        tags[0] = tag_of(h);
    }
    if (end > s->indexed) s->indexed = end;
}

int fz_lz77_append(fz_lz77_stream *s, const uint8_t *data, size_t len, fz_cancel_flag *cancel) {
    if (len == 0) return FZ_OK;
    if ((uint64_t)s->len + len > FZ_LZ77_MAX_STREAM) return FZ_EARG;
    if (fz_reserve(&s->data, &s->cap, s->len + len)) return FZ_ENOMEM;
    memcpy(s->data + s->len, data, len);
    size_t end = s->len + len;
    /* positions whose 8 bytes are all here now; later ones wait for the next append */
    size_t last = end >= FZ_LZ77_MIN_MATCH ? end - FZ_LZ77_MIN_MATCH + 1 : 0;
    s->len = end;
    (void)cancel;   /* indexing runs at hundreds of MB/s: it is not sliced */
    index_up_to(s, last);
    return FZ_OK;
}

/* ---- measuring ----------------------------------------------------------- */
void *fz_lz77_worker_new(void) { return calloc(1, sizeof(fz_lz77_worker)); }

void fz_lz77_worker_free(void *worker) {
    fz_lz77_worker *w = worker;
    if (!w) return;
    free(w->x);
    free(w->hash);
    free(w->prev);
    free(w->head);
    free(w->found);
    free(w);
}

static int reserve_u32(uint32_t **buf, size_t *cap, size_t need) {
    if (*cap >= need) return 0;
    size_t grown = *cap ? *cap : 4096;
    while (grown < need) grown *= 2;
    uint32_t *p = realloc(*buf, grown * sizeof(uint32_t));
    if (!p) return -1;
    *buf = p;
    *cap = grown;
    return 0;
}

typedef struct {
    size_t len;       /* 0: no match */
    uint64_t offset;
    double gain;      /* bits saved against literals at H bits each */
} fz_match;

typedef struct {
    const fz_lz77_stream *s;
    fz_lz77_worker *w;
    const uint8_t *x;
    size_t n;
    unsigned local_log;
    double h;         /* bits per literal, for decisions */
    size_t inserted;  /* candidate positions < inserted are in the local table */
} fz_parse;

static inline double match_price(size_t len, uint64_t offset, int at_rep) {
    if (at_rep) return 6.0 + fast_log2(len);
    return 8.0 + fast_log2(offset) + fast_log2(len);
}

static inline void consider(fz_match *best, size_t len, uint64_t offset, int at_rep, double h) {
    double gain = (double)len * h - match_price(len, offset, at_rep);
    /* larger saving wins; on a tie the longer, then the nearer match */
    if (!best->len || gain > best->gain
        || (gain == best->gain && (len > best->len || (len == best->len && offset < best->offset)))) {
        best->len = len;
        best->offset = offset;
        best->gain = gain;
    }
}

static inline void insert_local(fz_parse *ps, size_t upto) {
    size_t last = ps->n >= FZ_LZ77_MIN_MATCH ? ps->n - FZ_LZ77_MIN_MATCH + 1 : 0;
    if (upto > last) upto = last;
    unsigned shift = 32 - ps->local_log;
    for (size_t q = ps->inserted; q < upto; q++) {
        uint32_t h = ps->w->hash[q] >> shift;
        ps->w->prev[q] = ps->w->head[h];
        ps->w->head[h] = (uint32_t)(q + 1);
    }
    if (upto > ps->inserted) ps->inserted = upto;
}

/* The best match at candidate position i (len 0 when none saves bits). */
static fz_match find_match(fz_parse *ps, size_t i, uint64_t rep) {
    const fz_lz77_stream *s = ps->s;
    const uint8_t *x = ps->x;
    const uint8_t *cur = x + i;
    size_t limit = ps->n - i;
    fz_match best = {0, 0, 0.0};

    /* the last-used offset, into x or back into the stream */
    if (rep && limit >= FZ_LZ77_MIN_REP && rep <= (uint64_t)s->len + i) {
        size_t len;
        if (rep <= i) len = common(x + (i - rep), cur, limit);
        else len = common_across(s->data + (s->len - (rep - i)), s->data + s->len, x, cur, limit);
        if (len >= FZ_LZ77_MIN_REP) consider(&best, len, rep, 1, ps->h);
    }
    if (limit < FZ_LZ77_MIN_MATCH) goto done;
    uint32_t h = ps->w->hash[i];
    uint64_t head8 = load64(cur);

    /* the stream: the slot that resolve_stream_slots found for this position */
    uint32_t slot = ps->w->found[i];
    if (slot) {
        size_t p = slot - 1;
        if (load64(s->data + p) == head8) {
            size_t len = common_across(s->data + p, s->data + s->len, x, cur, limit);
            consider(&best, len, (uint64_t)(s->len - p) + i, 0, ps->h);
        }
    }
    /* the candidate's own past */
    insert_local(ps, i);
    uint32_t q1 = ps->w->head[h >> (32 - ps->local_log)];
    for (int step = 0; q1 && step < LOCAL_DEPTH; step++) {
        size_t q = q1 - 1;
        if (load64(x + q) == head8) {
            size_t len = common(x + q, cur, limit);
            consider(&best, len, i - q, (uint64_t)(i - q) == rep, ps->h);
        }
        q1 = ps->w->prev[q];
    }
done:
    if (best.len && best.gain <= 0.0) best.len = 0;
    return best;
}

/* Look up every position's bucket before the parse, in blocks: a first
 * pass prefetches the block's buckets, a second reads them, keeps the
 * stream position to verify (the most recent slot whose tag agrees, as
 * FZ_LZ77_VERIFY says) and prefetches the stream bytes there.  The parse
 * reads only positions it reaches, in order, and a match jumps over many:
 * prefetching ahead of it guessed wrong after every match and left most
 * lookups a dependent chain of two cache misses (bucket, then stream).
 * Resolving all positions costs lookups the parse skips, but they overlap
 * by the dozen instead of one at a time, which measured faster on text. */
#define RESOLVE_BLOCK 64
static void resolve_stream_slots(const fz_lz77_stream *s, const uint32_t *hash, uint32_t *found,
                                 size_t hashed) {
    const uint32_t *table = s->table;
    for (size_t start = 0; start < hashed; start += RESOLVE_BLOCK) {
        size_t end = start + RESOLVE_BLOCK < hashed ? start + RESOLVE_BLOCK : hashed;
        for (size_t i = start; i < end; i++) __builtin_prefetch(bucket_at((uint32_t *)table, hash[i]));
        for (size_t i = start; i < end; i++) {
            const uint32_t *b = bucket_at((uint32_t *)table, hash[i]);
            const uint8_t *tags = (const uint8_t *)(b + FZ_LZ77_WAYS);
            uint8_t tag = tag_of(hash[i]);
            uint32_t slot = 0;
            for (int k = 0; k < FZ_LZ77_WAYS && b[k]; k++) {
                if (tags[k] != tag) continue;
                if (b[k] - 1 < s->indexed) slot = b[k];
                break;   /* FZ_LZ77_VERIFY: the first agreeing slot only */
            }
            found[i] = slot;
            if (slot) __builtin_prefetch(s->data + (slot - 1));
        }
    }
}

int64_t fz_lz77_measure(const void *stream, void *worker, const fz_piece *piece,
                        fz_cancel_flag *cancel) {
    const fz_lz77_stream *s = stream;
    fz_lz77_worker *w = worker;
    size_t n = fz_piece_len(piece);
    if (n == 0) return 0;
    if ((uint64_t)n > FZ_LZ77_MAX_STREAM) return FZ_EARG;
    if (fz_reserve(&w->x, &w->x_cap, n + 8)) return FZ_ENOMEM;
    fz_piece_flatten(w->x, piece);
    memset(w->x + n, 0, 8);
    const uint8_t *x = w->x;

    unsigned local_log = LOCAL_LOG_MIN;
    while (local_log < LOCAL_LOG_MAX && ((size_t)1 << local_log) < 2 * n) local_log++;
    if (reserve_u32(&w->hash, &w->hash_cap, n) || reserve_u32(&w->prev, &w->prev_cap, n)
        || reserve_u32(&w->found, &w->found_cap, n)
        || reserve_u32(&w->head, &w->head_cap, (size_t)1 << local_log))
        return FZ_ENOMEM;
    memset(w->head, 0, ((size_t)1 << local_log) * sizeof(uint32_t));

    /* the candidate's histogram gives the literal price used for decisions */
    uint32_t hist[256] = {0};
    for (size_t i = 0; i < n; i++) hist[x[i]]++;
    double h = 0.0;
    for (int b = 0; b < 256; b++)
        if (hist[b]) h -= (double)hist[b] * log2((double)hist[b] / (double)n);
    h /= (double)n;

    size_t hashed = n >= FZ_LZ77_MIN_MATCH ? n - FZ_LZ77_MIN_MATCH + 1 : 0;
    for (size_t i = 0; i < hashed; i++) w->hash[i] = hash8(x + i);
    if (s->len) resolve_stream_slots(s, w->hash, w->found, hashed);
    else memset(w->found, 0, hashed * sizeof(uint32_t));

    fz_parse ps = { s, w, x, n, local_log, h, 0 };
    uint32_t lit[256] = {0};
    size_t n_lit = 0;
    double bits = 0.0;
    uint64_t rep = 0;
    int lookahead = s->level >= 2;
    size_t i = 0;
    size_t next_check = FZ_FEED_SLICE;
    fz_match m = {0, 0, 0.0};
    int have_m = 0;           /* m already holds find_match(i) */
    while (i < n) {
        if (i >= next_check) {
            if (cancel && *cancel) return FZ_EINTR;
            next_check += FZ_FEED_SLICE;
        }
        if (!have_m) m = find_match(&ps, i, rep);
        have_m = 0;
        if (m.len && lookahead && m.len < LOOKAHEAD_BELOW && i + 1 < n) {
            fz_match next = find_match(&ps, i + 1, rep);
            if (next.len && next.gain > m.gain) {
                lit[x[i]]++;
                n_lit++;
                i++;
                m = next;
                have_m = 1;
                continue;
            }
        }
        if (!m.len) {
            lit[x[i]]++;
            n_lit++;
            i++;
            continue;
        }
        bits += match_price(m.len, m.offset, m.offset == rep);
        rep = m.offset;
        i += m.len;
    }
    for (int b = 0; b < 256; b++)
        if (lit[b]) bits += FZ_LZ77_TABLE_BITS - (double)lit[b] * log2((double)lit[b] / (double)n_lit);
    return (int64_t)ceil(bits / 8.0);
}

/* ---- the codec table ----------------------------------------------------- */
static unsigned lz77_version_number(void) { return 10000; }   /* cost model 1.0.0 */

static int lz77_stream_new(int level, int options, void **out) {
    (void)options;
    return fz_lz77_new(level, (fz_lz77_stream **)out);
}

static void lz77_stream_free(void *impl) { fz_lz77_free(impl); }

static int lz77_append(void *impl, const uint8_t *data, size_t len, fz_cancel_flag *cancel) {
    return fz_lz77_append(impl, data, len, cancel);
}

/* An estimate per append over the whole stream; appends are O(appended). */
const fz_codec fz_lz77_codec = {
    .id = FZ_CODEC_LZ77, .name = "lz77",
    .caps = FZ_CAP_SUM_OF_FRAMES | FZ_CAP_WHOLE_STREAM | FZ_CAP_CHEAP_APPEND | FZ_CAP_MONOTONE
            | FZ_CAP_ESTIMATE,
    .version = lz77_version_number,
    .stream_new = lz77_stream_new, .stream_free = lz77_stream_free,
    .append = lz77_append, .seal = NULL, .params = NULL,
    .batch = { fz_lz77_worker_new, fz_lz77_worker_free, fz_lz77_measure },
};
