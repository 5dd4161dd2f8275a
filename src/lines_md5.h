/*
 * lines_md5.h — the checksum of an export: the md5 of its records joined by
 * one newline, taken as they go by (no copy of the file).  The logged
 * export keeps one (export_log.c); the aggregate lines_md5(text) gives the
 * same for any rows, so dataset_report() states the checksum an export
 * would log without building the file in memory.  The digest is plain
 * memory (td_md5.h): nothing to release, whatever aborts.
 */
#ifndef TD_LINES_MD5_H
#define TD_LINES_MD5_H

#include "postgres.h"

#include "td_md5.h"

typedef struct td_lines_md5
{
	td_md5		md5;
	int64		lines;			/* lines added so far */
} td_lines_md5;

/* Start a checksum. */
extern void td_lines_md5_start(td_lines_md5 *m);

/* Add one line ("\n" before it unless it is the first). */
extern void td_lines_md5_add(td_lines_md5 *m, const char *bytes, size_t len);

/* The 32 hexadecimal digits as a text, of a copy: m may go on. */
extern text *td_lines_md5_hex(const td_lines_md5 *m);

#endif							/* TD_LINES_MD5_H */
