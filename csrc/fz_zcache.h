/*
 * fz_zcache.h: a zlib allocator that serves blocks from a per-worker cache.
 *
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
#endif
