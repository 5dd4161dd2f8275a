/*
 * render_glue.c — SQL entry points of the template renderer:
 * render_template(), check_template() and html_escape().  The rendering
 * itself is the pure core in core/render.c.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/jsonb.h"

#include "json_glue.h"
#include "render.h"

PG_FUNCTION_INFO_V1(train_data_render_template);
PG_FUNCTION_INFO_V1(train_data_check_template);
PG_FUNCTION_INFO_V1(train_data_html_escape);

/* Bytes of a text read between two checks for a cancel. */
#define ESCAPE_CHUNK 65536

/* Raise a structural error reported by the core. */
static void
report_render_error(const td_render_error *err)
{
	ereport(ERROR,
			(errcode(err->status == TD_RENDER_TOO_LONG ?
					 ERRCODE_PROGRAM_LIMIT_EXCEEDED : ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", td_message_to_server(err->message.data)),
			 err->detail.len ? errdetail("%s", td_message_to_server(err->detail.data)) : 0));
}

/* A template argument that must not be NULL, as UTF-8. */
static char *
template_arg(FunctionCallInfo fcinfo, int argno, size_t *len)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("template must not be null")));
	return td_text_to_utf8(PG_GETARG_TEXT_PP(argno), len);
}

/*
 * An optional jsonb argument (what, for a message) as a core value (NULL
 * when SQL NULL).  One over a rendered text's limit (4 MB, read from the
 * value's header) is refused before it is converted: the conversion and the
 * render cost about ten times its size, and an item's parameters are held
 * to the same limit (a review of inputs 1,000 times larger: 642 MB for 64
 * MB of variables before the render failed on its length).
 */
static td_json *
json_arg(FunctionCallInfo fcinfo, int argno, const char *what, td_arena *arena)
{
	Size		size;

	if (PG_ARGISNULL(argno))
		return NULL;
	if ((size = toast_raw_datum_size(PG_GETARG_DATUM(argno))) > TD_RENDER_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("template %s are %zu bytes; the limit is %s", what, (size_t) size, TD_RENDER_MAX_TEXT)));
	return td_jsonb_to_core(arena, PG_GETARG_JSONB_P(argno));
}

/*
 * render_template(template text, parameters jsonb, variables jsonb,
 *                 html_escape boolean) returns jsonb
 */
Datum
train_data_render_template(PG_FUNCTION_ARGS)
{
	td_arena	arena;
	size_t		len;
	char	   *tmpl = template_arg(fcinfo, 0, &len);
	td_json    *params;
	td_json    *variables;
	bool		html = PG_ARGISNULL(3) ? false : PG_GETARG_BOOL(3);
	td_render_error err;
	td_buf		out;

	td_arena_init(&arena);
	params = json_arg(fcinfo, 1, "parameters", &arena);
	variables = json_arg(fcinfo, 2, "variables", &arena);
	td_buf_init(&out);
	if (!td_render(tmpl, len, params, variables, html, &out, &err))
		report_render_error(&err);
	td_error_free(&err);
	td_arena_free(&arena);
	PG_RETURN_DATUM(td_core_to_jsonb(&out));
}

/*
 * check_template(structure text, variables jsonb) returns boolean — true, or
 * an error naming what is wrong (used by the templates table's CHECK).
 */
Datum
train_data_check_template(PG_FUNCTION_ARGS)
{
	td_arena	arena;
	size_t		len;
	char	   *tmpl = template_arg(fcinfo, 0, &len);
	td_render_error err;
	bool		ok;

	td_arena_init(&arena);
	ok = td_render_check_template(tmpl, len, json_arg(fcinfo, 1, "variables", &arena), &err);
	td_arena_free(&arena);
	if (!ok)
		report_render_error(&err);
	td_error_free(&err);
	PG_RETURN_BOOL(true);
}

/*
 * The length of s[0..len) escaped (td_html_entity for each byte), or the
 * first count past limit: counting stops there, so that the sum never
 * wraps (a 1 GB text of '/' takes 6 GB escaped, past a 32-bit size_t).
 */
static size_t
escaped_len(const char *s, size_t len, size_t limit)
{
	size_t		n = len;

	for (size_t i = 0; i < len && n <= limit; i++)
	{
		const char *entity;

		if (i % ESCAPE_CHUNK == 0)
			CHECK_FOR_INTERRUPTS();
		if ((entity = td_html_entity(s[i])) != NULL)
			n += strlen(entity) - 1;
	}
	return n;
}

/*
 * html_escape(t text) returns text — t with & < > " ' / as HTML entities
 * (what render_template escapes in values); t itself when it has none.
 * The escaped length is counted first (up to the size of a text value),
 * so that a text that would pass it is refused before anything is
 * allocated.
 */
Datum
train_data_html_escape(PG_FUNCTION_ARGS)
{
	text	   *in = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(in);
	size_t		len = VARSIZE_ANY_EXHDR(in),
				limit = MaxAllocSize - VARHDRSZ,
				n = escaped_len(s, len, limit),
				run = 0;
	text	   *result;
	char	   *out;

	if (n == len)
		PG_RETURN_TEXT_P(in);
	if (n > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("escaped text would exceed the maximum size of a text value"),
				 errdetail("A text of %zu bytes takes more than %zu bytes escaped.", len, limit)));
	result = (text *) palloc(n + VARHDRSZ);
	SET_VARSIZE(result, n + VARHDRSZ);
	out = VARDATA(result);
	for (size_t i = 0; i < len; i++)
	{
		const char *entity;
		size_t		elen;

		if (i % ESCAPE_CHUNK == 0)
			CHECK_FOR_INTERRUPTS();
		if ((entity = td_html_entity(s[i])) == NULL)
			continue;
		memcpy(out, s + run, i - run);
		out += i - run;
		elen = strlen(entity);
		memcpy(out, entity, elen);
		out += elen;
		run = i + 1;
	}
	memcpy(out, s + run, len - run);
	PG_RETURN_TEXT_P(result);
}
