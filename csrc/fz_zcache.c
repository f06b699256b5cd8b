/* fz_zcache.c: see fz_zcache.h. */
#include <limits.h>
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

int fz_deflate_feed(z_stream *z, unsigned char *sink, const uint8_t *data, size_t len, int flush,
                    fz_cancel_flag *cancel) {
    size_t done = 0;
    if (len == 0 && flush == Z_NO_FLUSH) return FZ_OK;
    do {
        size_t take = len - done;
        if (take > FZ_FEED_SLICE) take = FZ_FEED_SLICE;
        int last = done + take == len;
        z->next_in = (Bytef *)(data + done);
        z->avail_in = (uInt)take;
        int mode = last ? flush : Z_NO_FLUSH;
        int rc;
        do {
            z->next_out = sink;
            z->avail_out = FZ_DEFLATE_SINK;
            rc = deflate(z, mode);
            if (rc == Z_STREAM_ERROR) return FZ_ECODEC;
        } while (z->avail_out == 0 || (mode == Z_FINISH && rc != Z_STREAM_END));
        done += take;
        if (cancel && *cancel) return FZ_EINTR;
    } while (done < len);
    return FZ_OK;
}

static const size_t cpython_blocks[] = {
    32u << 10, 64u << 10, 256u << 10, 1u << 20, 4u << 20, 8u << 20, 16u << 20, 16u << 20,
    32u << 20, 32u << 20, 32u << 20, 32u << 20, 64u << 20, 64u << 20, 128u << 20, 128u << 20,
    256u << 20,
};

int64_t fz_deflate_cpython(z_stream *z, const uint8_t *data, size_t len, uint8_t **out, size_t *cap) {
    z->next_in = (Bytef *)data;
    z->avail_in = 0;
    int64_t produced = 0;
    int rc = Z_OK;
    size_t nblocks = sizeof(cpython_blocks) / sizeof(cpython_blocks[0]);
    /* zlib's avail_in is a uInt: CPython feeds at most UINT_MAX at a time */
    size_t left = len;
    for (size_t b = 0; rc != Z_STREAM_END; b++) {
        size_t block = cpython_blocks[b < nblocks ? b : nblocks - 1];
        if (fz_reserve(out, cap, block)) return FZ_ENOMEM;
        z->next_out = *out;
        z->avail_out = (uInt)block;
        do {
            if (z->avail_in == 0 && left) {
                z->avail_in = left > UINT_MAX ? UINT_MAX : (uInt)left;
                left -= z->avail_in;
            }
            rc = deflate(z, left ? Z_NO_FLUSH : Z_FINISH);
            if (rc == Z_STREAM_ERROR) return FZ_ECODEC;
        } while (z->avail_out != 0 && rc != Z_STREAM_END);
        produced += (int64_t)(block - z->avail_out);
    }
    return produced;
}
