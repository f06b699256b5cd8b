/* fz_lz4.h: lz4 blocks compressed with the stream's last 64 KB as dictionary. */
#ifndef FZ_LZ4_H
#define FZ_LZ4_H
#include "fz_common.h"

typedef struct fz_lz4_stream fz_lz4_stream;

/* level <= 0: the fast compressor, acceleration max(1, -level)
 *             (level 0 is python-lz4's mode="default");
 * level 1..12: the HC compressor at that compression level. */
int  fz_lz4_new(int level, fz_lz4_stream **out);
void fz_lz4_free(fz_lz4_stream *s);
/* Append raw bytes; keeps the last 64 KB and reloads the dictionary state. */
int  fz_lz4_append(fz_lz4_stream *s, const uint8_t *data, size_t len);

void *fz_lz4_worker_new(void);
void  fz_lz4_worker_free(void *worker);
/* Size of the lz4 block of the piece with the stream's last 64 KB as
 * dictionary, as python-lz4's lz4.block.compress(piece, dict=tail,
 * store_size=False) gives it.  Returns the size, or a negative FZ_E* code. */
int64_t fz_lz4_measure(const void *stream, void *worker, const fz_piece *piece, fz_cancel_flag *cancel);
#endif
