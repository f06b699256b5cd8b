/*
 * fz_zcache.h: the zlib pieces that the incremental streams (fz_zlib.c) and
 * the pair sizes (fz_pairs.c) share: a cached allocator and a feed loop.
 *
 * The allocator serves blocks from a per-worker cache.
 * deflateCopy() allocates a fresh state (about 260 KB at memLevel 8) through
 * the *source* stream's allocator, once per candidate.  Giving the source
 * this allocator makes a copy cost one memcpy per buffer and no malloc/free
 * after the first candidate: freed blocks wait in the calling worker's cache
 * (found through a thread-local pointer) for the next copy of the same size.
 */
#ifndef FZ_ZCACHE_H
#define FZ_ZCACHE_H
#include <stddef.h>
#include <zlib.h>
#include "fz_common.h"

/* Compressed output is only counted: each deflate call writes into a sink
 * of this many bytes, then the bytes are dropped. */
#define FZ_DEFLATE_SINK 65536

#define FZ_ZCACHE_SLOTS 8   /* deflateCopy makes 5 allocations */

typedef struct {
    size_t size[FZ_ZCACHE_SLOTS];
    void  *block[FZ_ZCACHE_SLOTS];
} fz_zcache;

/* zalloc / zfree for a z_stream: cached when the thread has a cache bound. */
voidpf fz_zcache_alloc(voidpf opaque, uInt items, uInt size);
void   fz_zcache_free(voidpf opaque, voidpf address);
/* The cache this thread's allocations go through (NULL: plain malloc/free). */
void   fz_zcache_bind(fz_zcache *cache);
/* Free every block a cache holds. */
void   fz_zcache_clear(fz_zcache *cache);

/* Feed `len` bytes to `z` with the given flush mode, output into `sink`
 * (FZ_DEFLATE_SINK bytes) and dropped.  zlib's avail_in is a uInt, so the
 * input goes in slices of FZ_FEED_SLICE; `cancel` is read between slices. */
int fz_deflate_feed(z_stream *z, unsigned char *sink, const uint8_t *data, size_t len, int flush,
                    fz_cancel_flag *cancel);

/* zlib.compress()'s own call sequence on a fresh (or reset) `z`: the whole
 * input at once with Z_FINISH, output in CPython's growing block sizes
 * (Modules/zlibmodule.c, Python >= 3.10) through *out (grown as needed).
 * Level 0's stored blocks end wherever one deflate() call's output space
 * ends, so this is the only exact way to size them.  Returns the compressed
 * size, or a negative FZ_E* code. */
int64_t fz_deflate_cpython(z_stream *z, const uint8_t *data, size_t len, uint8_t **out, size_t *cap);
#endif
