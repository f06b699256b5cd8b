/*
 * fz_lz77.c: the incremental LZ77 cost model (see fz_lz77.h for the model).
 *
 * Layout of the near table: bucket b is 32 bytes (half a cache line,
 * aligned): 6 slots table[8b .. 8b+5], each a position + 1 (0: empty), the
 * most recent first, then 6 one-byte tags (the hash's low 8 bits) in words
 * 8b+6 .. 8b+7.  A lookup reads one cache line and reads the stream only
 * at the most recent position whose tag agrees (FZ_LZ77_VERIFY): each
 * stream read is a cache miss, and reading every agreeing slot made the
 * kernel half as fast for selections that judged the same.  The six slots
 * still keep a rare 8-gram's old position behind five others.  An append shifts
 * each touched bucket by one slot; positions whose 8 bytes straddle two
 * appends are inserted once the later append brings their last bytes, so
 * any split of the same bytes into appends gives the same tables.
 *
 * Layout of the far table: bucket b is 64 bytes (a cache line): 10 slots
 * (position + 1, filled in order, 0: empty) and their 16-bit tags.  Only
 * anchors go in (an 8-gram whose near hash has FZ_LZ77_FAR_SAMPLE_LOG
 * chosen bits zero), keyed by the FZ_LZ77_FAR_KEY bytes from there; a key
 * already in its bucket (same tag) takes the newest position instead of a
 * slot, so repeated text pushes nothing out, and a full bucket keeps what
 * it has (the oldest anchors are the reach).  The table doubles when its
 * distinct anchors pass FAR_LOAD per bucket, at that position of the
 * stream, by splitting each bucket in two in order (the stream is read
 * again for each slot's key), so its layout depends only on the stream's
 * bytes.  A 16-bit tag that agrees by chance (about 1 in 6,500 lookups of
 * a full bucket) costs one stream read that fails to verify, or, on
 * insertion, the older anchor's slot.
 *
 * A measurement flattens the piece and parses it, looking the stream up
 * for a block of positions at a time as the parse reaches them
 * (resolve_block).  The candidate's own earlier positions are found through
 * a small chained hash table of the worker, sized to the candidate.
 *
 * Every price is an integer in 1/65536 bit (Q16); log2 comes from a table
 * built with integer arithmetic only, so sizes are the same on every
 * platform, compiler, optimisation level and thread count.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include "fz_lz77.h"
#include "fz_stream.h"

#define BUCKETS ((size_t)1 << FZ_LZ77_BUCKET_LOG)
#define HASH_MUL 0x9E3779B97F4A7C15ULL
#define MIX_MUL 0xBF58476D1CE4E5B9ULL
#define LOCAL_DEPTH 4        /* chain steps into the candidate's own past */
#define LOCAL_LOG_MIN 8
#define LOCAL_LOG_MAX 20
#define LOOKAHEAD_BELOW 32   /* a match this long is taken without looking one byte on */

#define FAR_WAYS 10
#define FAR_LOAD 6           /* distinct anchors per bucket before the table doubles */
#define FAR_SAMPLE_MASK ((1u << FZ_LZ77_FAR_SAMPLE_LOG) - 1u)

#define Q 16                 /* prices in 1/2^Q bit */
#define BITS(v) ((int64_t)(v) << Q)

/* A far bucket: 10 slots (position + 1, 0: empty, filled in order) and
 * their 16-bit tags, in one cache line. */
typedef struct {
    uint32_t pos[FAR_WAYS];
    uint16_t tag[FAR_WAYS];
    uint32_t unused;
} fz_far_bucket;
_Static_assert(sizeof(fz_far_bucket) == 64, "a far bucket is one cache line");

struct fz_lz77_stream {
    int level;
    uint8_t *data;
    size_t len, cap;
    size_t indexed;          /* positions < indexed are in the near table */
    size_t far_indexed;      /* anchors < far_indexed are in the far table */
    uint32_t *table;         /* the near table: BUCKETS * BUCKET_WORDS, 64-byte aligned */
    void *table_alloc;
    fz_far_bucket *far;      /* the far table: 2^far_log buckets, 64-byte aligned */
    void *far_alloc;
    unsigned far_log;
    uint64_t far_grams;      /* distinct anchors inserted (new to their bucket) */
};

typedef struct {
    uint8_t *x;              /* prefix ++ body ++ suffix */
    size_t x_cap;
    uint32_t *prev;          /* chain of the candidate's own positions (pos + 1) */
    size_t prev_cap;         /* in entries */
    uint32_t *head;          /* local heads (pos + 1), 2^local_log entries */
    size_t head_cap;
} fz_lz77_worker;

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t hash8(const uint8_t *p) {
    return (uint32_t)((load64(p) * HASH_MUL) >> 32);
}

/* Whether a position whose 8 bytes have near hash h is an anchor: 5 bits
 * of h from just above its tag.  They overlap the near bucket's lowest
 * bits, which does not matter (anchors go to the other table), and cost
 * nothing more to compute: the hash is there already. */
static inline int is_anchor(uint32_t h) { return ((h >> 8) & FAR_SAMPLE_MASK) == 0; }

/* The far table's key: a hash of the FZ_LZ77_FAR_KEY bytes at p.  Its top
 * bits pick the bucket and bits 1 .. 16 are the tag, which never overlap
 * (the table has at most 2^FZ_LZ77_FAR_LOG_MAX <= 2^47 buckets).  A key
 * longer than a match's minimum tells a sample's own text from the common
 * phrases it shares with others: an anchor keeps only one position. */
static inline uint64_t far_key(const uint8_t *p) {
    uint64_t h = 0;
    for (int k = 0; k < FZ_LZ77_FAR_KEY; k += 8) {
        h = (h ^ load64(p + k)) * HASH_MUL;
        h ^= h >> 29;
    }
    h *= MIX_MUL;
    return (h ^ (h >> 32)) | 1u;   /* never 0: 0 marks a position that is no anchor */
}

static inline size_t bucket_of(uint32_t h) { return (size_t)(h >> (32 - FZ_LZ77_BUCKET_LOG)); }
static inline uint8_t tag_of(uint32_t h) { return (uint8_t)h; }
#define BUCKET_WORDS 8
static inline uint32_t *bucket_at(uint32_t *table, uint32_t h) { return table + bucket_of(h) * BUCKET_WORDS; }
static inline fz_far_bucket *far_bucket(fz_far_bucket *far, unsigned far_log, uint64_t key) {
    return far + (size_t)(key >> (64 - far_log));
}
static inline uint16_t far_tag(uint64_t key) { return (uint16_t)(key >> 1); }

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

/* ---- integer log2 ---------------------------------------------------------
 * log2_q30[m] = log2(1 + m/1024) in 1/2^30, built by repeated squaring in
 * 64-bit integers (each squaring of a Q30 value in [1, 2) yields one bit of
 * its log2), so the table is the same everywhere without libm. */
static int64_t log2_q30[1025];
static void log2_small_init(void);   /* below: it needs log2_q16 */
static pthread_once_t log2_once = PTHREAD_ONCE_INIT;
static void log2_init(void) {
    const uint64_t one = (uint64_t)1 << 30;
    for (int m = 0; m < 1024; m++) {
        uint64_t x = (uint64_t)(1024 + m) << 20;   /* 1 + m/1024 in Q30 */
        int64_t r = 0;
        for (int bit = 29; bit >= 0; bit--) {
            x = (x * x) >> 30;
            if (x >= 2 * one) {
                x >>= 1;
                r |= (int64_t)1 << bit;
            }
        }
        log2_q30[m] = r;
    }
    log2_q30[1024] = (int64_t)one;
    log2_small_init();
}

/* log2(v) in Q16 for v >= 1: the exponent, plus the mantissa's log2 from
 * the table, interpolated linearly (error below 2e-7 bit before rounding). */
static inline int64_t log2_q16(uint64_t v) {
    int e = 63 - __builtin_clzll(v);
    uint64_t m = e >= 31 ? v >> (e - 31) : v << (31 - e);   /* [2^31, 2^32) */
    unsigned idx = (unsigned)(m >> 21) & 1023u;
    int64_t frac = (int64_t)(m & ((1u << 21) - 1u));
    int64_t lo = log2_q30[idx], hi = log2_q30[idx + 1];
    int64_t q30 = lo + (((hi - lo) * frac) >> 21);
    return ((int64_t)e << Q) + ((q30 + ((int64_t)1 << 13)) >> 14);
}

/* log2_q16 of the small integers, read from a table that log2_q16 itself
 * filled (so the same values, bit for bit): counts in a histogram and match
 * lengths are nearly always below LOG2_SMALL, and the interpolation was
 * most of the literal price's cost on short candidates. */
#define LOG2_SMALL 4096
static int64_t log2_small[LOG2_SMALL];
static inline int64_t log2_count(uint64_t v) { return v < LOG2_SMALL ? log2_small[v] : log2_q16(v); }
static void log2_small_init(void) {
    log2_small[0] = 0;                  /* never read: log2 needs v >= 1 */
    for (uint64_t v = 1; v < LOG2_SMALL; v++) log2_small[v] = log2_q16(v);
}

/* ---- the stream ---------------------------------------------------------- */
/* A zeroed table of `bytes`, aligned to 2 MiB, in *alloc (free it).  calloc
 * of this size maps zero pages, so untouched buckets cost nothing.  Every
 * lookup lands on a random bucket: with 4 KiB pages the 64 MiB near table
 * spans 16,384 pages, far more than the TLB holds, so nearly every lookup
 * also walked the page tables.  Where the kernel gives huge pages on
 * request (Linux's transparent huge pages in their default "madvise" mode)
 * we ask for them; this changes only speed, never a size.  A table under
 * 2 MiB is not worth a huge page and keeps plain alignment. */
#define HUGE_PAGE ((size_t)2 << 20)
static void *alloc_table(size_t bytes, void **alloc) {
    size_t align = bytes >= HUGE_PAGE ? HUGE_PAGE : 64;
    *alloc = calloc(bytes + align, 1);
    if (!*alloc) return NULL;
    void *table = (void *)(((uintptr_t)*alloc + align - 1) & ~(uintptr_t)(align - 1));
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align == HUGE_PAGE) (void)madvise(table, bytes, MADV_HUGEPAGE);   /* advice: failure is harmless */
#endif
    return table;
}

static int far_alloc(unsigned far_log, void **alloc, fz_far_bucket **table) {
    *table = alloc_table(((size_t)1 << far_log) * sizeof(fz_far_bucket), alloc);
    return *table ? FZ_OK : FZ_ENOMEM;
}

int fz_lz77_new(int level, fz_lz77_stream **out) {
    if (level < 1 || level > 2) return FZ_EARG;
    pthread_once(&log2_once, log2_init);
    fz_lz77_stream *s = calloc(1, sizeof(*s));
    if (!s) return FZ_ENOMEM;
    s->table = alloc_table(BUCKETS * BUCKET_WORDS * sizeof(uint32_t), &s->table_alloc);
    if (!s->table || far_alloc(FZ_LZ77_FAR_LOG_MIN, &s->far_alloc, &s->far)) {
        free(s->table_alloc);
        free(s);
        return FZ_ENOMEM;
    }
    s->far_log = FZ_LZ77_FAR_LOG_MIN;
    s->level = level;
    *out = s;
    return FZ_OK;
}

void fz_lz77_free(fz_lz77_stream *s) {
    if (!s) return;
    free(s->table_alloc);
    free(s->far_alloc);
    free(s->data);
    free(s);
}

/* Double the far table: bucket j splits into 2j and 2j+1 by the next hash
 * bit, each keeping its slots' order (oldest pushed first, so the most
 * recent ends in front).  The stream is read again for each slot's hash;
 * the next bucket's slots are prefetched while one is split. */
static int far_grow(fz_lz77_stream *s) {
    unsigned new_log = s->far_log + 1;
    void *alloc;
    fz_far_bucket *grown;
    if (far_alloc(new_log, &alloc, &grown)) return FZ_ENOMEM;
    size_t n_old = (size_t)1 << s->far_log;
    const fz_far_bucket *old = s->far;
    for (size_t j = 0; j < n_old; j++) {
        const fz_far_bucket *b = old + j;
        if (j + 1 < n_old)
            for (int k = 0; k < FAR_WAYS && b[1].pos[k]; k++) __builtin_prefetch(s->data + (b[1].pos[k] - 1));
        for (int k = 0; k < FAR_WAYS && b->pos[k]; k++) {
            fz_far_bucket *t = far_bucket(grown, new_log, far_key(s->data + (b->pos[k] - 1)));
            int e = 0;
            while (e < FAR_WAYS - 1 && t->pos[e]) e++;   /* a child gets at most its parent's slots */
            t->pos[e] = b->pos[k];
            t->tag[e] = b->tag[k];
        }
    }
    free(s->far_alloc);
    s->far_alloc = alloc;
    s->far = grown;
    s->far_log = new_log;
    return FZ_OK;
}

/* Put anchor position p (far key `key`) in its far bucket: over the slot of
 * the same tag if there (the newest position of a repeated text), else in
 * the first empty slot.  A full bucket keeps what it has: the oldest
 * anchors are what gives the stream its reach, and the table doubles before
 * most buckets fill. */
static inline int far_insert(fz_lz77_stream *s, size_t p, uint64_t key) {
    fz_far_bucket *b = far_bucket(s->far, s->far_log, key);
    uint16_t tag = far_tag(key);
    int k = 0;
    while (k < FAR_WAYS && b->pos[k] && b->tag[k] != tag) k++;
    if (k < FAR_WAYS && b->pos[k]) {
        b->pos[k] = (uint32_t)(p + 1);
        return FZ_OK;
    }
    if (k < FAR_WAYS) {
        b->pos[k] = (uint32_t)(p + 1);
        b->tag[k] = tag;
    }
    s->far_grams++;
    if (s->far_log < FZ_LZ77_FAR_LOG_MAX && s->far_grams > ((uint64_t)FAR_LOAD << s->far_log))
        return far_grow(s);
    return FZ_OK;
}

static int index_up_to(fz_lz77_stream *s, size_t end, size_t far_end) {
    uint32_t *table = s->table;
    const uint8_t *data = s->data;
    for (size_t p = s->indexed; p < end; p++) {
        uint32_t h = hash8(data + p);
        uint32_t *b = bucket_at(table, h);
        uint8_t *tags = (uint8_t *)(b + FZ_LZ77_WAYS);
        for (int k = FZ_LZ77_WAYS - 1; k > 0; k--) {   /* unrolled in place: no call to memmove */
            b[k] = b[k - 1];
            tags[k] = tags[k - 1];
        }
        b[0] = (uint32_t)(p + 1);
        tags[0] = tag_of(h);
    }
    if (end > s->indexed) s->indexed = end;
    for (size_t p = s->far_indexed; p < far_end; p++) {
        if (!is_anchor(hash8(data + p))) continue;
        if (far_insert(s, p, far_key(data + p))) {
            s->far_indexed = p + 1;   /* p is in; the far table kept its old size */
            return FZ_ENOMEM;
        }
    }
    if (far_end > s->far_indexed) s->far_indexed = far_end;
    return FZ_OK;
}

int fz_lz77_append(fz_lz77_stream *s, const uint8_t *data, size_t len, fz_cancel_flag *cancel) {
    if (len == 0) return FZ_OK;
    if ((uint64_t)s->len + len > FZ_LZ77_MAX_STREAM) return FZ_EARG;
    if (fz_reserve(&s->data, &s->cap, s->len + len)) return FZ_ENOMEM;
    memcpy(s->data + s->len, data, len);
    size_t end = s->len + len;
    /* positions whose 8 bytes are all here now; later ones wait for the next append */
    size_t last = end >= FZ_LZ77_MIN_MATCH ? end - FZ_LZ77_MIN_MATCH + 1 : 0;
    size_t far_last = end >= FZ_LZ77_FAR_KEY ? end - FZ_LZ77_FAR_KEY + 1 : 0;
    s->len = end;
    (void)cancel;   /* indexing runs at hundreds of MB/s: it is not sliced */
    return index_up_to(s, last, far_last);
}

size_t fz_lz77_table_bytes(const fz_lz77_stream *s) {
    return BUCKETS * BUCKET_WORDS * sizeof(uint32_t) + (sizeof(fz_far_bucket) << s->far_log);
}

/* ---- measuring ----------------------------------------------------------- */
void *fz_lz77_worker_new(void) { return calloc(1, sizeof(fz_lz77_worker)); }

void fz_lz77_worker_free(void *worker) {
    fz_lz77_worker *w = worker;
    if (!w) return;
    free(w->x);
    free(w->prev);
    free(w->head);
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
    int64_t gain;     /* Q16 bits saved against literals at h each */
} fz_match;

#define RESOLVE_BLOCK 64     /* stream lookups resolved together (see resolve_block) */

typedef struct {
    const fz_lz77_stream *s;
    fz_lz77_worker *w;
    const uint8_t *x;
    size_t n;
    size_t hashed;    /* positions with 8 bytes of x from there: 0 .. hashed - 1 */
    size_t keyed;     /* ... and with FZ_LZ77_FAR_KEY bytes: 0 .. keyed - 1 */
    unsigned local_log;
    int64_t h;        /* Q16 bits per literal, for decisions */
    size_t inserted;  /* candidate positions < inserted are in the local table */
    /* the stream slots to verify for positions block_start .. block_end - 1
     * (pos + 1, 0: none): the most recent agreeing near slot, and the far
     * slot of an anchor */
    size_t block_start, block_end;
    uint32_t found[RESOLVE_BLOCK];
    uint32_t found_far[RESOLVE_BLOCK];
} fz_parse;

static inline int64_t match_price(size_t len, uint64_t offset, int at_rep) {
    if (at_rep) return BITS(6) + log2_count(len);
    return BITS(8) + log2_q16(offset) + log2_count(len);
}

static inline void consider(fz_match *best, size_t len, uint64_t offset, int at_rep, int64_t h) {
    int64_t gain = (int64_t)len * h - match_price(len, offset, at_rep);
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
        uint32_t h = hash8(ps->x + q) >> shift;
        ps->w->prev[q] = ps->w->head[h];
        ps->w->head[h] = (uint32_t)(q + 1);
    }
    if (upto > ps->inserted) ps->inserted = upto;
}

/* Consider the stream position slot - 1 (0: none) as a match source for cur. */
static inline void consider_stream(fz_parse *ps, fz_match *best, uint32_t slot, size_t i, uint64_t head8,
                                   size_t limit) {
    if (!slot) return;
    const fz_lz77_stream *s = ps->s;
    size_t p = slot - 1;
    if (load64(s->data + p) != head8) return;
    size_t len = common_across(s->data + p, s->data + s->len, ps->x, ps->x + i, limit);
    consider(best, len, (uint64_t)(s->len - p) + i, 0, ps->h);
}

/* Look up the stream slots of positions start .. start + RESOLVE_BLOCK - 1
 * together, when the parse first asks for one of them: a first pass
 * prefetches the block's near buckets (and the far buckets of its anchors),
 * a second reads them, keeps the stream positions to verify (in the near
 * table the most recent slot whose tag agrees, as FZ_LZ77_VERIFY says; in
 * the far table the anchor's slot) and prefetches the stream bytes there.
 * The parse asks for positions in increasing order and a match jumps over
 * many: looking up only the position it reaches left most lookups a
 * dependent chain of two cache misses (bucket, then stream), and
 * prefetching ahead of it guessed wrong after every match.  A block costs
 * lookups the parse may skip within it, but they overlap by the dozen
 * instead of one at a time, which measured faster on text; blocks a long
 * match jumps over are never looked up, and the scratch stays a fixed 512
 * bytes whatever the candidate's length (it used to be 8 bytes a position,
 * all resolved before the parse). */
static void resolve_block(fz_parse *ps, size_t start) {
    const fz_lz77_stream *s = ps->s;
    const uint8_t *x = ps->x;
    size_t end = start + RESOLVE_BLOCK < ps->hashed ? start + RESOLVE_BLOCK : ps->hashed;
    size_t m = end - start;
    ps->block_start = start;
    ps->block_end = end;
    if (!s->len) {
        memset(ps->found, 0, m * sizeof(uint32_t));
        memset(ps->found_far, 0, m * sizeof(uint32_t));
        return;
    }
    uint32_t *table = s->table;
    fz_far_bucket *far = s->far;
    uint32_t hash[RESOLVE_BLOCK];
    uint64_t z[RESOLVE_BLOCK];   /* the far key of an anchor, 0 for other positions */
    for (size_t k = 0; k < m; k++) {
        hash[k] = hash8(x + start + k);
        __builtin_prefetch(bucket_at(table, hash[k]));
        z[k] = start + k < ps->keyed && is_anchor(hash[k]) ? far_key(x + start + k) : 0;
        if (z[k]) __builtin_prefetch(far_bucket(far, s->far_log, z[k]));
    }
    for (size_t k = 0; k < m; k++) {
        const uint32_t *b = bucket_at(table, hash[k]);
        const uint8_t *tags = (const uint8_t *)(b + FZ_LZ77_WAYS);
        uint8_t tag = tag_of(hash[k]);
        uint32_t slot = 0;
        for (int j = 0; j < FZ_LZ77_WAYS && b[j]; j++) {
            if (tags[j] != tag) continue;
            if (b[j] - 1 < s->indexed) slot = b[j];
            break;   /* FZ_LZ77_VERIFY: the first agreeing slot only */
        }
        ps->found[k] = slot;
        if (slot) __builtin_prefetch(s->data + (slot - 1));
        uint32_t far_slot = 0;
        if (z[k]) {
            const fz_far_bucket *fb = far_bucket(far, s->far_log, z[k]);
            uint16_t ftag = far_tag(z[k]);
            for (int j = 0; j < FAR_WAYS && fb->pos[j]; j++)
                if (fb->tag[j] == ftag) {
                    far_slot = fb->pos[j];
                    break;
                }
            if (far_slot && far_slot != slot) __builtin_prefetch(s->data + (far_slot - 1));
        }
        ps->found_far[k] = far_slot;
    }
}

/* The best match at candidate position i (len 0 when none saves bits). */
static fz_match find_match(fz_parse *ps, size_t i, uint64_t rep) {
    const fz_lz77_stream *s = ps->s;
    const uint8_t *x = ps->x;
    const uint8_t *cur = x + i;
    size_t limit = ps->n - i;
    fz_match best = {0, 0, 0};

    /* the last-used offset, into x or back into the stream */
    if (rep && limit >= FZ_LZ77_MIN_REP && rep <= (uint64_t)s->len + i) {
        size_t len;
        if (rep <= i) len = common(x + (i - rep), cur, limit);
        else len = common_across(s->data + (s->len - (rep - i)), s->data + s->len, x, cur, limit);
        if (len >= FZ_LZ77_MIN_REP) consider(&best, len, rep, 1, ps->h);
    }
    if (limit < FZ_LZ77_MIN_MATCH) goto done;
    uint64_t head8 = load64(cur);
    uint32_t h = (uint32_t)((head8 * HASH_MUL) >> 32);   /* hash8(cur) */

    /* the stream: the slots that resolve_block found for this position */
    if (i >= ps->block_end || i < ps->block_start) resolve_block(ps, i);
    uint32_t slot = ps->found[i - ps->block_start], far = ps->found_far[i - ps->block_start];
    consider_stream(ps, &best, slot, i, head8, limit);
    if (far != slot) consider_stream(ps, &best, far, i, head8, limit);
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
    if (best.len && best.gain <= 0) best.len = 0;
    return best;
}

/* Q16 bits of the order-0 code of `count` symbols with histogram hist:
 * sum of hist[b] * log2(count / hist[b]).  hist's nonzero entries are among
 * the n_seen bytes in seen[] (a candidate's distinct bytes, in order of
 * first appearance).  Integer sums, so the order
 * of the terms does not change the result: reading only the bytes that occur
 * instead of all 256 entries is the same size, at a fraction of the cost for
 * short candidates. */
static int64_t entropy_q16(const uint32_t hist[256], const uint8_t *seen, int n_seen, size_t count) {
    if (count == 0) return 0;           /* no literals; and log2_q16 needs v >= 1 (clz(0) is undefined) */
    int64_t log_n = log2_count(count), bits = 0;
    for (int k = 0; k < n_seen; k++) {
        uint32_t c = hist[seen[k]];
        if (c) bits += (int64_t)c * (log_n - log2_count(c));
    }
    return bits;
}

/* The byte at position v of the concatenation stream ++ x. */
static inline uint8_t byte_at(const fz_lz77_stream *s, const uint8_t *x, uint64_t v) {
    return v < s->len ? s->data[v] : x[v - s->len];
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
    if (reserve_u32(&w->prev, &w->prev_cap, n) || reserve_u32(&w->head, &w->head_cap, (size_t)1 << local_log))
        return FZ_ENOMEM;
    memset(w->head, 0, ((size_t)1 << local_log) * sizeof(uint32_t));

    /* the candidate's histogram gives the literal price used for decisions */
    uint32_t hist[256] = {0};
    uint8_t seen[256];        /* the distinct bytes of x: the only nonzero entries of hist and lit */
    int n_seen = 0;
    for (size_t i = 0; i < n; i++)
        if (hist[x[i]]++ == 0) seen[n_seen++] = x[i];
    int64_t h = entropy_q16(hist, seen, n_seen, n) / (int64_t)n;

    fz_parse ps;
    ps.s = s;
    ps.w = w;
    ps.x = x;
    ps.n = n;
    ps.hashed = n >= FZ_LZ77_MIN_MATCH ? n - FZ_LZ77_MIN_MATCH + 1 : 0;
    ps.keyed = n >= FZ_LZ77_FAR_KEY ? n - FZ_LZ77_FAR_KEY + 1 : 0;
    ps.local_log = local_log;
    ps.h = h;
    ps.inserted = 0;
    ps.block_start = ps.block_end = 0;
    uint32_t lit[256] = {0};
    size_t n_lit = 0;
    int64_t bits = 0;
    uint64_t rep = 0;
    int lookahead = s->level >= 2;
    size_t i = 0;
    size_t lit_start = 0;     /* the pending literals are x[lit_start .. i) */
    size_t next_check = FZ_FEED_SLICE;
    fz_match m = {0, 0, 0};
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
        /* extend the match backwards over pending literals its source also
         * has: a far anchor is found some bytes into the text it repeats */
        uint64_t src = (uint64_t)s->len + i - m.offset;   /* in stream ++ x */
        while (i > lit_start && src > 0 && byte_at(s, x, src - 1) == x[i - 1]) {
            i--;
            src--;
            m.len++;
            lit[x[i]]--;
            n_lit--;
        }
        bits += match_price(m.len, m.offset, m.offset == rep);
        rep = m.offset;
        i += m.len;
        lit_start = i;
    }
    for (int k = 0; k < n_seen; k++)
        if (lit[seen[k]]) bits += BITS(FZ_LZ77_TABLE_BITS);
    bits += entropy_q16(lit, seen, n_seen, n_lit);
    return (bits + BITS(8) - 1) / BITS(8);
}

/* ---- the codec table ----------------------------------------------------- */
static unsigned lz77_version_number(void) { return 20000; }   /* cost model 2.0.0 */

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
    /* a candidate costs its bytes plus about 1 us of set-up (the local head
     * table, two histograms); a batch under ~100 us of work, twice what waking
     * the pool costs, runs inline: 16 KiB, from 1.3 to 4.7 us per 400-byte
     * candidate as the stream grows */
    .batch = { fz_lz77_worker_new, fz_lz77_worker_free, fz_lz77_measure, 512, (size_t)16 << 10 },
};
