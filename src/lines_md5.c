/*
 * lines_md5.c — the checksum of an export's records (see lines_md5.h), and
 * the aggregate train_data.lines_md5(text): the md5 of its non-NULL inputs
 * joined by "\n", in the order the aggregate reads them (the same digits as
 * md5(coalesce(string_agg(line, E'\n'), ''))), in constant memory — a
 * string_agg of a large export stops at 1 GB.  The state is plain memory in
 * the aggregate's context, finished on a copy, so an abort, a rescan or a
 * second call of the final function finds nothing to release.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "lines_md5.h"

PG_FUNCTION_INFO_V1(train_data_lines_md5_add);
PG_FUNCTION_INFO_V1(train_data_lines_md5_finish);

/* See lines_md5.h. */
void
td_lines_md5_start(td_lines_md5 *m)
{
	td_md5_init(&m->md5);
	m->lines = 0;
}

/* See lines_md5.h. */
void
td_lines_md5_add(td_lines_md5 *m, const char *bytes, size_t len)
{
	if (m->lines++ > 0)
		td_md5_update(&m->md5, "\n", 1);
	/* (64 KiB at a time: a cancel is seen within a long line) */
	while (len > 65536)
	{
		CHECK_FOR_INTERRUPTS();
		td_md5_update(&m->md5, bytes, 65536);
		bytes += 65536;
		len -= 65536;
	}
	td_md5_update(&m->md5, bytes, len);
}

/* See lines_md5.h. */
text *
td_lines_md5_hex(const td_lines_md5 *m)
{
	td_md5		copy = m->md5;
	unsigned char digest[16];
	char		hex[32];

	td_md5_final(&copy, digest);
	return cstring_to_text_with_len(hex, (int) hex_encode((const char *) digest, sizeof(digest), hex));
}

/*
 * lines_md5_add(state internal, line text) returns internal — a step of
 * lines_md5: the line hashed (a NULL one skipped, as string_agg skips it).
 */
Datum
train_data_lines_md5_add(PG_FUNCTION_ARGS)
{
	MemoryContext agg;
	td_lines_md5 *s = PG_ARGISNULL(0) ? NULL : (td_lines_md5 *) PG_GETARG_POINTER(0);
	text	   *line;

	if (!AggCheckCallContext(fcinfo, &agg))
		elog(ERROR, "lines_md5_add called outside an aggregate");
	if (s == NULL)
	{
		s = MemoryContextAlloc(agg, sizeof(td_lines_md5));
		td_lines_md5_start(s);
	}
	if (!PG_ARGISNULL(1))
	{
		line = PG_GETARG_TEXT_PP(1);
		td_lines_md5_add(s, VARDATA_ANY(line), VARSIZE_ANY_EXHDR(line));
		if ((Pointer) line != PG_GETARG_POINTER(1))
			pfree(line);		/* detoasted: one line at a time in memory */
	}
	PG_RETURN_POINTER(s);
}

/*
 * lines_md5_finish(state internal) returns text — the 32 hexadecimal
 * digits; md5('') of no rows (as md5(coalesce(string_agg(...), ''))).
 */
Datum
train_data_lines_md5_finish(PG_FUNCTION_ARGS)
{
	td_lines_md5 empty;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "lines_md5_finish called outside an aggregate");
	if (PG_ARGISNULL(0))
	{
		td_lines_md5_start(&empty);
		PG_RETURN_TEXT_P(td_lines_md5_hex(&empty));
	}
	PG_RETURN_TEXT_P(td_lines_md5_hex((td_lines_md5 *) PG_GETARG_POINTER(0)));
}
