/*
 * fz_pairs.h: one-shot compressed sizes and pair sizes, batched and threaded.
 *
 * A one-shot size is the length of what a codec's usual Python call returns
 * for one byte string:
 *   zlib  container zlib   len(zlib.compress(x, L))               (wbits 15)
 *         container gzip   len(gzip.compress(x, L, mtime=0))      (wbits 31)
 *         container raw    len(zlib.compress(x, L, wbits=-15))
 *   zstd  container frame  len(zstandard.ZstdCompressor(level=L).compress(x))
 *   lz4   container frame  len(lz4.frame.compress(x, compression_level=L))
 *         container block  len(lz4.block.compress(x, ...)) with the mode L
 *                          stands for (0 default, <0 fast, 1..12 HC)
 *         container raw    the same without python-lz4's 4-byte size
 *
 * A pair size is the one-shot size of a_i ++ sep ++ b_j.  For zlib the
 * deflate state after a_i ++ sep is built once per row and copied for every
 * column, so a pair costs about the compression of b_j alone.
 */
#ifndef FZ_PAIRS_H
#define FZ_PAIRS_H
#include "fz_common.h"
#include "fz_batch.h"

#define FZ_CONT_RAW    0
#define FZ_CONT_ZLIB   1
#define FZ_CONT_GZIP   2
#define FZ_CONT_FRAME  3
#define FZ_CONT_BLOCK  4

typedef struct {
    int codec;        /* FZ_CODEC_* */
    int level;
    int container;    /* FZ_CONT_* */
} fz_oneshot_cfg;

/* 1 when this build computes (codec, container) natively. */
int fz_oneshot_supported(int codec, int container);

/* Items: item i is data[offsets[i] : offsets[i+1]], i < n. */
typedef struct {
    const uint8_t *data;
    const int64_t *offsets;
    size_t n;
} fz_items;

/* out[k] = one-shot size of item index[k] (item k when index is NULL), k < n_out. */
int fz_oneshot_sizes(const fz_oneshot_cfg *cfg, const fz_items *items, const int64_t *index,
                     size_t n_out, int64_t *out, int n_threads, fz_poll_fn poll, void *poll_ctx);

/* Which pairs: dense (row_ids NULL): every a_i with every b_j, out_ab[i*nb + j];
 * or sparse (CSR): row r is a[row_ids[r]] with columns cols[col_ptr[r] .. col_ptr[r+1]),
 * out_ab[k] for cols[k]. */
typedef struct {
    fz_items a, b;
    const uint8_t *sep; size_t sep_len;
    const int64_t *row_ids; size_t n_rows;
    const int64_t *col_ptr;
    const int64_t *cols;
} fz_pairs;

/* out_a[i] = C(a_i), out_b[j] = C(b_j) (either may be NULL), out_ab as above;
 * one pool run for all of it. */
int fz_pair_sizes(const fz_oneshot_cfg *cfg, const fz_pairs *p, int64_t *out_a, int64_t *out_b,
                  int64_t *out_ab, int n_threads, fz_poll_fn poll, void *poll_ctx);
#endif
