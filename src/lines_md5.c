/*
 * lines_md5.c — the checksum of an export's records (see lines_md5.h), and
 * the aggregate train_data.lines_md5(text): the md5 of its non-NULL inputs
 * joined by "\n", in the order the aggregate reads them (the same digits as
 * md5(coalesce(string_agg(line, E'\n'), ''))), in constant memory — a
 * string_agg of a large export stops at 1 GB.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "lines_md5.h"

PG_FUNCTION_INFO_V1(train_data_lines_md5_add);
PG_FUNCTION_INFO_V1(train_data_lines_md5_finish);

/* See lines_md5.h. */
void
td_lines_md5_start(td_lines_md5 *m)
{
	m->lines = 0;
	m->ctx = pg_cryptohash_create(PG_MD5);
	if (m->ctx == NULL || pg_cryptohash_init(m->ctx) < 0)
		elog(ERROR, "could not start an md5 checksum");
}

/* See lines_md5.h. */
void
td_lines_md5_add(td_lines_md5 *m, const char *bytes, size_t len)
{
	if ((m->lines++ > 0 && pg_cryptohash_update(m->ctx, (const uint8 *) "\n", 1) < 0) ||
		pg_cryptohash_update(m->ctx, (const uint8 *) bytes, len) < 0)
		elog(ERROR, "could not update an md5 checksum");
}

/* See lines_md5.h. */
text *
td_lines_md5_hex(td_lines_md5 *m)
{
	uint8		digest[16];
	char		hex[33];

	if (pg_cryptohash_final(m->ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not finish an md5 checksum");
	td_lines_md5_release(m);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return cstring_to_text(hex);
}

/* See lines_md5.h. */
void
td_lines_md5_release(td_lines_md5 *m)
{
	if (m->ctx != NULL)
		pg_cryptohash_free(m->ctx);
	m->ctx = NULL;
}

/* The aggregate's state: the checksum, released with its memory if never finished. */
typedef struct lines_state
{
	td_lines_md5 md5;
	MemoryContextCallback release;
} lines_state;

/* Memory reset callback: release a checksum the aggregate did not finish. */
static void
release_state(void *arg)
{
	td_lines_md5_release(&((lines_state *) arg)->md5);
}

/* A new state in the aggregate's memory. */
static lines_state *
new_state(MemoryContext agg)
{
	MemoryContext old = MemoryContextSwitchTo(agg);
	lines_state *s = palloc0(sizeof(lines_state));

	td_lines_md5_start(&s->md5);
	s->release.func = release_state;
	s->release.arg = s;
	MemoryContextRegisterResetCallback(agg, &s->release);
	MemoryContextSwitchTo(old);
	return s;
}

/*
 * lines_md5_add(state internal, line text) returns internal — a step of
 * lines_md5: the line hashed (a NULL one skipped, as string_agg skips it).
 */
Datum
train_data_lines_md5_add(PG_FUNCTION_ARGS)
{
	MemoryContext agg;
	lines_state *s = PG_ARGISNULL(0) ? NULL : (lines_state *) PG_GETARG_POINTER(0);
	text	   *line;

	if (!AggCheckCallContext(fcinfo, &agg))
		elog(ERROR, "lines_md5_add called outside an aggregate");
	if (s == NULL)
		s = new_state(agg);
	if (!PG_ARGISNULL(1))
	{
		line = PG_GETARG_TEXT_PP(1);
		td_lines_md5_add(&s->md5, VARDATA_ANY(line), VARSIZE_ANY_EXHDR(line));
		if ((Pointer) line != PG_GETARG_POINTER(1))
			pfree(line);		/* detoasted: one line at a time in memory */
	}
	PG_RETURN_POINTER(s);
}

/*
 * lines_md5_finish(state internal) returns text — the 32 hexadecimal
 * digits; md5('') of no rows (as md5(coalesce(string_agg(...), ''))).  The
 * state is finished (FINALFUNC_MODIFY = READ_WRITE: not a window function).
 */
Datum
train_data_lines_md5_finish(PG_FUNCTION_ARGS)
{
	td_lines_md5 empty;
	lines_state *s;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "lines_md5_finish called outside an aggregate");
	if (PG_ARGISNULL(0))
	{
		td_lines_md5_start(&empty);
		PG_RETURN_TEXT_P(td_lines_md5_hex(&empty));
	}
	s = (lines_state *) PG_GETARG_POINTER(0);
	if (s->md5.ctx == NULL)
		elog(ERROR, "lines_md5 finished twice");
	PG_RETURN_TEXT_P(td_lines_md5_hex(&s->md5));
}
