/* fz_zstd.h: zstd frames compressed against the whole stream as a raw dictionary. */
#ifndef FZ_ZSTD_H
#define FZ_ZSTD_H
#include "fz_common.h"

typedef struct fz_zstd_stream fz_zstd_stream;

/* Table sizes grow with the stream up to these logs (64 MiB per table). */
#define FZ_ZSTD_HASHLOG_CAP  24
#define FZ_ZSTD_CHAINLOG_CAP 24

/* long_distance: turn on long-distance matching for frames whose window
 * exceeds the level's default (measured: about half the speed for 0.2%
 * smaller frames in dictionary mode, so it is off unless asked for). */
int  fz_zstd_new(int level, int long_distance, fz_zstd_stream **out);
void fz_zstd_free(fz_zstd_stream *s);
/* Append raw bytes; the dictionary is rebuilt by fz_zstd_seal(). */
int  fz_zstd_append(fz_zstd_stream *s, const uint8_t *data, size_t len);
/* Rebuild the dictionary over the whole stream (once per append batch). */
int  fz_zstd_seal(fz_zstd_stream *s);

/* The parameters used for a frame of `frame_len` bytes against the sealed
 * stream: what a caller must pass to another zstd binding to get the same
 * frame.  `ldm` is 1 when long-distance matching is on. */
/* (fz_zstd_params is defined in fz_common.h) */
void fz_zstd_frame_params(const fz_zstd_stream *s, size_t frame_len, fz_zstd_params *out);
void fz_zstd_dict_params(const fz_zstd_stream *s, fz_zstd_params *out);

void *fz_zstd_worker_new(void);
void  fz_zstd_worker_free(void *worker);
/* Size of one frame of the piece compressed with the sealed stream as a
 * raw-content dictionary (no checksum, content size or dictionary id).
 * Returns the size, or a negative FZ_E* code. */
int64_t fz_zstd_measure(const void *stream, void *worker, const fz_piece *piece, fz_cancel_flag *cancel);
#endif
