/*
 * lines_md5.h — the checksum of an export: the md5 of its records joined by
 * one newline, taken as they go by (no copy of the file).  The logged
 * export keeps one (export_log.c); the aggregate lines_md5(text) gives the
 * same for any rows, so dataset_report() states the checksum an export
 * would log without building the file in memory.
 */
#ifndef TD_LINES_MD5_H
#define TD_LINES_MD5_H

#include "postgres.h"

#include "common/cryptohash.h"

typedef struct td_lines_md5
{
	pg_cryptohash_ctx *ctx;		/* NULL once finished or released */
	int64		lines;			/* lines added so far */
} td_lines_md5;

/* Start a checksum (its context is allocated in the current memory context). */
extern void td_lines_md5_start(td_lines_md5 *m);

/* Add one line ("\n" before it unless it is the first). */
extern void td_lines_md5_add(td_lines_md5 *m, const char *bytes, size_t len);

/* Finish: the 32 hexadecimal digits as a text; the checksum is released. */
extern text *td_lines_md5_hex(td_lines_md5 *m);

/* Release a checksum not finished (nothing if it was). */
extern void td_lines_md5_release(td_lines_md5 *m);

#endif							/* TD_LINES_MD5_H */
