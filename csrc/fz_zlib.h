/* fz_zlib.h: zlib stream whose deflate state is kept between appends. */
#ifndef FZ_ZLIB_H
#define FZ_ZLIB_H
#include "fz_common.h"

typedef struct fz_zlib_stream fz_zlib_stream;

/* level 0..9; the stream is a zlib (RFC 1950) stream with the same settings
 * as Python's zlib.compress(data, level): windowBits 15, memLevel 8. */
int  fz_zlib_new(int level, fz_zlib_stream **out);
void fz_zlib_free(fz_zlib_stream *s);
/* Append raw bytes to the stream (deflate with Z_NO_FLUSH). */
int  fz_zlib_append(fz_zlib_stream *s, const uint8_t *data, size_t len, fz_cancel_flag *cancel);

void *fz_zlib_worker_new(void);
void  fz_zlib_worker_free(void *worker);
/* Size of zlib.compress(stream ++ piece) by copying the deflate state and
 * compressing only the piece.  Returns the size, or a negative FZ_E* code. */
int64_t fz_zlib_measure(const void *stream, void *worker, const fz_piece *piece, fz_cancel_flag *cancel);
#endif
