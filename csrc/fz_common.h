/*
 * fz_common.h: shared definitions of fastzip's C kernels.
 *
 * The kernels are plain C with no Python API inside.  Every codec is one
 * `fz_codec` table (fz_stream.h): its stream operations (new, free, append,
 * seal, params), its capabilities, and the three operations the batch driver
 * needs (`fz_codec_ops`, fz_batch.h): make a per-thread worker scratch, free
 * it, and measure one candidate against a stream that is read-only while a
 * batch runs.
 */
#ifndef FZ_COMMON_H
#define FZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Return codes (0 is success; errors are negative). */
#define FZ_OK          0
#define FZ_ENOMEM     -1   /* an allocation failed */
#define FZ_ECODEC     -2   /* the codec library reported an error */
#define FZ_EINTR      -3   /* the run was cancelled (Ctrl-C) */
#define FZ_EARG       -4   /* bad argument (level out of range, size too big) */
#define FZ_EUNAVAIL   -5   /* codec not compiled in */

/* Codec identifiers, shared with the Cython layer. */
#define FZ_CODEC_ZLIB  0
#define FZ_CODEC_ZSTD  1
#define FZ_CODEC_LZ4   2
#define FZ_CODEC_LZ77  3
#define FZ_CODEC_COUNT 4

/* Capabilities a codec declares; the engines rely on these, never on names.
 *   SUM_OF_FRAMES  the stream's size is the sum of one frame per append, and
 *                  a measured size is one more frame (added to the batch base)
 *   WHOLE_STREAM   matches reach every byte of the stream (not a window)
 *   CHEAP_APPEND   an append costs O(appended bytes); no rebuild at seal
 *   MONOTONE       what a candidate adds only shrinks as the stream grows
 *                  (up to codec noise), so a lazy greedy is sound
 *   ESTIMATE       sizes are a cost model's estimate, not a real compressor's */
#define FZ_CAP_SUM_OF_FRAMES  1u
#define FZ_CAP_WHOLE_STREAM   2u
#define FZ_CAP_CHEAP_APPEND   4u
#define FZ_CAP_MONOTONE       8u
#define FZ_CAP_ESTIMATE      16u

/* The parameters a codec uses for a frame (zstd's; the one definition). */
typedef struct {
    int window_log, hash_log, chain_log, search_log, min_match, target_length, strategy, ldm;
} fz_zstd_params;

/* Input is fed to a codec in slices of this size, so that a cancellation
 * request is noticed even while one very large candidate is compressed. */
#define FZ_FEED_SLICE ((size_t)1 << 20)

/* A candidate is measured as prefix ++ body ++ suffix; any part may be empty. */
typedef struct {
    const uint8_t *prefix; size_t prefix_len;
    const uint8_t *body;   size_t body_len;
    const uint8_t *suffix; size_t suffix_len;
} fz_piece;

static inline size_t fz_piece_len(const fz_piece *p) {
    return p->prefix_len + p->body_len + p->suffix_len;
}

/* Copy prefix ++ body ++ suffix to dst (which has fz_piece_len bytes). */
static inline void fz_piece_flatten(uint8_t *dst, const fz_piece *p) {
    if (p->prefix_len) memcpy(dst, p->prefix, p->prefix_len);
    dst += p->prefix_len;
    if (p->body_len) memcpy(dst, p->body, p->body_len);
    dst += p->body_len;
    if (p->suffix_len) memcpy(dst, p->suffix, p->suffix_len);
}

/* Grow a scratch buffer to at least `need` bytes (doubling); FZ_OK or FZ_ENOMEM. */
static inline int fz_reserve(uint8_t **buf, size_t *cap, size_t need) {
    if (*cap >= need) return 0;
    size_t grown_cap = *cap ? *cap : 65536;
    while (grown_cap < need) grown_cap *= 2;
    uint8_t *grown = realloc(*buf, grown_cap);
    if (!grown) return -1;
    *buf = grown;
    *cap = grown_cap;
    return 0;
}

/* Set by the batch driver when the caller asks to stop; read by kernels
 * between slices.  A plain volatile int is enough: it only ever goes 0 -> 1
 * and a late read costs at most one more slice of work. */
typedef volatile int fz_cancel_flag;

#endif
