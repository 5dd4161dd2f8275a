/*
 * json_glue.c — the bridge between PostgreSQL values and the pure C cores.
 *
 * The cores work on UTF-8.  In a UTF8 database the conversions below are
 * no-ops; in any other encoding text is converted on the way in and out, so
 * the cores never see another encoding.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "json_glue.h"

/* Core allocation: palloc in the current context (the core keeps to MaxAllocSize). */
static void *
glue_alloc(size_t size)
{
	return palloc(size ? size : 1);
}

/* Core reallocation: repalloc. */
static void *
glue_realloc(void *ptr, size_t size)
{
	return repalloc(ptr, size ? size : 1);
}

/* Core release: pfree. */
static void
glue_free(void *ptr)
{
	pfree(ptr);
}

/* Core limit handler: a request over TD_MAX_ALLOC (1 GB) is an error. */
static void
glue_limit(size_t requested)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("result exceeds the limit of 1 GB"),
			 errdetail("A value of %zu bytes was about to be built.", requested)));
}

/* Core interrupt handler: cancel, statement_timeout and termination. */
static void
glue_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

/* See json_glue.h. */
void
td_install_allocator(void)
{
	StaticAssertStmt(TD_MAX_ALLOC == MaxAllocSize, "the cores' limit is PostgreSQL's");
	td_set_allocator(glue_alloc, glue_realloc, glue_free);
	td_set_limit_handler(glue_limit);
	td_interrupt_handler = glue_interrupts;
}

/* Convert server-encoded s[0..len) to UTF-8 (no copy in a UTF8 database). */
static char *
server_to_utf8(char *s, size_t *len)
{
	char	   *u = pg_server_to_any(s, (int) *len, PG_UTF8);

	if (u != s)
		*len = strlen(u);
	return u;
}

/* See json_glue.h. */
td_json *
td_jsonb_to_core(td_arena *arena, Jsonb *jb)
{
	char	   *s = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	size_t		len = strlen(s);
	td_json_error err;
	td_json    *v;

	s = server_to_utf8(s, &len);
	v = td_json_parse(arena, s, len, &err);
	if (v == NULL)				/* valid JSON: only the depth limit can refuse it */
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("JSON value is nested more than %d levels deep", TD_JSON_MAX_DEPTH),
				 errdetail("The reader stopped at byte %zu of the value's text: %s.", err.offset, err.message)));
	return v;
}

/* See json_glue.h. */
char *
td_clip_for_message(const char *s)
{
	int			len = (int) strlen(s);
	int			cut = pg_mbcharcliplen(s, len, TD_CLIP_CHARS);

	if (cut >= len)
		return pstrdup(s);
	return psprintf("%.*s...", cut, s);
}

/* See json_glue.h. */
char *
td_text_to_utf8(text *t, size_t *len)
{
	*len = VARSIZE_ANY_EXHDR(t);
	return server_to_utf8(text_to_cstring(t), len);
}

/* See json_glue.h. */
Datum
td_core_to_jsonb(const td_buf *json)
{
	char	   *s = pg_any_to_server(json->data, (int) json->len, PG_UTF8);

	return DirectFunctionCall1(jsonb_in, CStringGetDatum(s));
}
