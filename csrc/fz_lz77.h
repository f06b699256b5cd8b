/*
 * fz_lz77.h: an incremental LZ77 cost model ("lz77"): estimated compressed
 * sizes against a whole, growing stream, with O(appended) appends.
 *
 * The stream keeps its raw bytes and two hash-indexed match finders over
 * them, both keyed by hashes of the 8 bytes at a position:
 *
 *   near  2^21 buckets of 6 positions (the most recent first) with a
 *         one-byte tag each; every position goes in.  A bucket is 32 bytes,
 *         so a lookup costs one cache miss, and the stream is read at the
 *         most recent position whose tag agrees.  It sees the recent past:
 *         with 12.6 M slots, unique text much longer than ~16 MB pushes its
 *         oldest positions out bucket by bucket.
 *   far   the long reach: only anchors go in, positions whose 8 bytes hash
 *         to a chosen 1 in 2^FZ_LZ77_FAR_SAMPLE_LOG (decided by the bytes, so
 *         a candidate and the stream agree on which of their positions are
 *         anchors), keyed by the FZ_LZ77_FAR_KEY bytes from there: a key
 *         longer than a common phrase points at the sample itself, not at
 *         the last text that shared a word with it.  One slot per distinct
 *         key (a repeat takes the slot over with its newest position), 10
 *         slots of position + 16-bit tag per 64-byte bucket, and a full
 *         bucket keeps its oldest anchors: nothing already selected is ever
 *         pushed out.  The table doubles (from 2^FZ_LZ77_FAR_LOG_MIN buckets
 *         up to 2^FZ_LZ77_FAR_LOG_MAX) each time its distinct anchors pass 6
 *         per bucket, at that position of the stream, so its layout depends
 *         only on the stream's bytes, never on how they were split into
 *         appends.
 *
 * A match found at an anchor is extended backwards over the literals before
 * it, so a sample seen long ago costs about one match however far back it
 * is.  Reach, measured by tests/streams/test_lz77_reach.py (what a sample
 * already in the stream adds, over its stand-alone size, after more text
 * was appended; 500 real evals samples, re-lettered real text appended):
 * 8% after 64 MB, 8% after 256 MB and 8% after 1 GB (the near table alone:
 * 15%, 94%, and past 96 MB more than 20%).  Positions are 32-bit, so a
 * stream holds at most 2^32 bytes (positions 0 .. 2^32 - 1).
 *
 * Memory: 1 byte per stream byte (the raw bytes; the buffer grows by
 * doubling, so up to 2 bytes of address space), plus the near table, a
 * fixed 64 MiB (2^21 x 32 bytes; pages are touched as positions land in
 * them, in huge pages where the kernel gives them: see fz_lz77.c), plus
 * the far table: 64 bytes per bucket, 1 MiB at first, doubling when it
 * holds 6 distinct anchors per bucket, so 5.3 to 10.7 bytes per
 * distinct anchor.  Text with few repeats has about one distinct anchor per
 * 44 bytes: 0.12 to 0.25 bytes per stream byte (measured: 64 MiB after 256
 * MB of re-lettered text, so 256 MiB at 1 GB), and while it doubles the
 * old and the new table are both held (1.5x that for a moment).  It stops
 * growing at 2^24 buckets (1 GiB).  Real text repeats more and needs less.
 * A worker keeps 5 bytes per byte of the largest candidate it measured
 * (the bytes, and a chain link per position) plus a local head table of at
 * most 4 MiB, so measuring a whole 100 MB selection as one candidate needs
 * about 0.5 GB of scratch.
 *
 * measure() estimates the compressed size of a candidate x placed after the
 * stream, as it would cost inside the concatenation stream ++ x: an LZ77
 * parse of x against the stream and the part of x already parsed, greedy
 * with one step of lookahead for matches shorter than 32 bytes (level 2;
 * level 1 is plain greedy).  Matches
 * are at least 8 bytes, or 4 at the last-used offset.  Prices, in bits:
 *
 *   match                 8 + log2(offset) + log2(length)
 *   match at last offset  6 + log2(length)
 *   literals              their order-0 entropy (sum of -log2 p(b) over the
 *                         literal bytes, p from the literals' own histogram)
 *                         + 4 bits per distinct literal byte (the table)
 *
 * Every price is an integer count of 1/65536 bit: log2 comes from a
 * 1025-entry table of log2(1 + m/1024) built with integer arithmetic only
 * and interpolated linearly, with no floating point and no libm anywhere in
 * the cost, so sizes are bit-identical across platforms, compilers,
 * optimisation levels and thread counts (tests/streams/test_lz77_reach.py
 * compares them with committed expected sizes).
 *
 * The parse takes, at each position, the candidate with the largest saving
 * length * H - price (H: the candidate's own order-0 entropy per byte, the
 * price of a literal), and a match only when it saves something.  There is
 * no fixed cost per candidate (no header).  The table price is the one
 * cost that does not scale with the literals, and so a choice: inside the
 * concatenation a candidate would share the stream's table (0 bits), while
 * a frame of its own pays a full table (about 8 bits per symbol).  Tried
 * on the selection judge (bench/bench_quality.py; zstd-19 ratio of the
 * selection, lower is better, 10% budgets), relative to zstd-3's picks:
 *
 *   table bits   ShareGPT 5k   evals 5k   chitchat 1k   faq
 *       0          -0.4%         -0.4%       +5.9%       +2.3%
 *       2          -0.4%         -0.3%       +1.3%       +1.3%
 *       4          +0.3%         +0.2%       +1.2%       +0.7%
 *       8          +1.5%         +1.6%       +3.7%       +1.1%
 *   (measured with 4-way buckets, every slot read and lookahead at every
 *   match; with the near table of today and no far table, 4 bits gives
 *   +0.2%, +0.2%, +1.5% and +0.8%)
 *
 * A high price acts like a fixed cost per candidate and favours short
 * samples; none at all loses track of real compressors on short chats
 * (rank correlation with zstd-19 per-byte sizes 0.09 on chitchat).  4 bits
 * is within 1.5% of zstd-3 everywhere.  The size is ceil(bits / 8) bytes.
 * Measurement reads the stream only, so it is deterministic on any thread
 * count.
 */
#ifndef FZ_LZ77_H
#define FZ_LZ77_H
#include "fz_common.h"

typedef struct fz_lz77_stream fz_lz77_stream;

#define FZ_LZ77_BUCKET_LOG 21
#define FZ_LZ77_WAYS       6
#define FZ_LZ77_MIN_MATCH  8
#define FZ_LZ77_MIN_REP    4
#define FZ_LZ77_TABLE_BITS 4     /* per distinct literal byte (see above) */
#define FZ_LZ77_VERIFY     1     /* agreeing near slots read per lookup (fz_lz77.c) */
#define FZ_LZ77_FAR_SAMPLE_LOG 5 /* 1 position in 32 is an anchor */
#define FZ_LZ77_FAR_KEY    32    /* the far table is keyed by the 32 bytes at an anchor */
#define FZ_LZ77_FAR_LOG_MIN 14   /* far table: 2^14 buckets (1 MiB) at first */
#define FZ_LZ77_FAR_LOG_MAX 24   /* ... and at most 2^24 (1 GiB) */
#define FZ_LZ77_MAX_STREAM ((uint64_t)1 << 32)

/* level 1: greedy parse; level 2: greedy with one step of lookahead. */
int  fz_lz77_new(int level, fz_lz77_stream **out);
void fz_lz77_free(fz_lz77_stream *s);
/* Append raw bytes and index their positions: O(len) amortised (the far
 * table's doublings re-read each of its slots once).  FZ_EARG past 2^32
 * bytes; FZ_ENOMEM when the far table cannot double (the bytes are kept and
 * in the near table; the next append indexes the anchors left over). */
int  fz_lz77_append(fz_lz77_stream *s, const uint8_t *data, size_t len, fz_cancel_flag *cancel);
/* Bytes the two tables take (the far table at its present size). */
size_t fz_lz77_table_bytes(const fz_lz77_stream *s);

void *fz_lz77_worker_new(void);
void  fz_lz77_worker_free(void *worker);
/* Estimated size in bytes of the piece after the stream (see above). */
int64_t fz_lz77_measure(const void *stream, void *worker, const fz_piece *piece, fz_cancel_flag *cancel);
#endif
