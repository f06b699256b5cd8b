/* fz_zcache.c: see fz_zcache.h. */
#include <stdlib.h>
#include "fz_zcache.h"

/* The cache of the worker running on this thread, or NULL (plain malloc). */
static __thread fz_zcache *tls_cache = NULL;

/* Every block carries its size in a header so that zfree can cache it. */
typedef union { size_t size; max_align_t align; } fz_block_header;

void fz_zcache_bind(fz_zcache *cache) {
    tls_cache = cache;
}

voidpf fz_zcache_alloc(voidpf opaque, uInt items, uInt size) {
    (void)opaque;
    size_t n = (size_t)items * size;
    fz_zcache *cache = tls_cache;
    if (cache) {
        for (int i = 0; i < FZ_ZCACHE_SLOTS; i++) {
            if (cache->block[i] && cache->size[i] == n) {
                void *p = cache->block[i];
                cache->block[i] = NULL;
                return p;
            }
        }
    }
    fz_block_header *h = malloc(sizeof(fz_block_header) + n);
    if (!h) return Z_NULL;
    h->size = n;
    return (voidpf)(h + 1);
}

void fz_zcache_free(voidpf opaque, voidpf address) {
    (void)opaque;
    if (!address) return;
    fz_block_header *h = (fz_block_header *)address - 1;
    fz_zcache *cache = tls_cache;
    if (cache) {
        for (int i = 0; i < FZ_ZCACHE_SLOTS; i++) {
            if (!cache->block[i]) {
                cache->block[i] = address;
                cache->size[i] = h->size;
                return;
            }
        }
    }
    free(h);
}

void fz_zcache_clear(fz_zcache *cache) {
    for (int i = 0; i < FZ_ZCACHE_SLOTS; i++) {
        if (cache->block[i]) free((fz_block_header *)cache->block[i] - 1);
        cache->block[i] = NULL;
    }
}
