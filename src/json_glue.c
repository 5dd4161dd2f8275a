/*
 * json_glue.c — the bridge between PostgreSQL values and the pure C cores.
 *
 * The cores work on UTF-8.  In a UTF8 database the conversions below are
 * no-ops; in any other encoding text is converted on the way in and out, so
 * the cores never see another encoding.
 */
#include "postgres.h"

#include <math.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

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

/* Push a scalar: a member's value inside an object, an element inside an array. */
static void
jsonb_doc_scalar(td_doc *d, JsonbValue *v)
{
	td_jsonb_doc *w = (td_jsonb_doc *) d;

	(void) pushJsonbValue(&w->state, w->state->contVal.type == jbvObject ? WJB_VALUE : WJB_ELEM, v);
}

/* Open an object or array. */
static void
jsonb_doc_begin(td_doc *d, JsonbIteratorToken token)
{
	td_jsonb_doc *w = (td_jsonb_doc *) d;

	(void) pushJsonbValue(&w->state, token, NULL);
}

/* Close an object or array (keys sorted and made unique as jsonb_in does). */
static void
jsonb_doc_end(td_doc *d, JsonbIteratorToken token)
{
	td_jsonb_doc *w = (td_jsonb_doc *) d;
	JsonbValue *v = pushJsonbValue(&w->state, token, NULL);

	if (w->state == NULL)
		w->result = v;
}

/* {, }, [ and ]. */
static void
jsonb_doc_begin_object(td_doc *d)
{
	jsonb_doc_begin(d, WJB_BEGIN_OBJECT);
}

static void
jsonb_doc_end_object(td_doc *d)
{
	jsonb_doc_end(d, WJB_END_OBJECT);
}

static void
jsonb_doc_begin_array(td_doc *d)
{
	jsonb_doc_begin(d, WJB_BEGIN_ARRAY);
}

static void
jsonb_doc_end_array(td_doc *d)
{
	jsonb_doc_end(d, WJB_END_ARRAY);
}

/* A jsonb string holding a copy of s (the core may reuse its memory). */
static void
jsonb_doc_set_string(JsonbValue *v, const char *s, size_t len)
{
	char	   *copy;

	if (GetDatabaseEncoding() == PG_UTF8)
		copy = pnstrdup(s, len);
	else
	{
		char	   *z = pnstrdup(s, len);

		copy = pg_any_to_server(z, (int) len, PG_UTF8);
		len = strlen(copy);
	}
	v->type = jbvString;
	v->val.string.val = copy;
	v->val.string.len = (int) len;
}

/* A member's key. */
static void
jsonb_doc_key(td_doc *d, const char *key, size_t len)
{
	td_jsonb_doc *w = (td_jsonb_doc *) d;
	JsonbValue	v;

	jsonb_doc_set_string(&v, key, len);
	(void) pushJsonbValue(&w->state, WJB_KEY, &v);
}

/* A string. */
static void
jsonb_doc_string(td_doc *d, const char *s, size_t len)
{
	JsonbValue	v;

	jsonb_doc_set_string(&v, s, len);
	jsonb_doc_scalar(d, &v);
}

/*
 * A number: the numeric jsonb_in makes of td_doc_number_text's digits.  A
 * whole number, or x = m / 10^s exactly as doubles go (s up to 6, m of at
 * most 10 digits: what 10 significant digits print, the smallest such s
 * having no trailing zero) is made from its digits without text; anything
 * else goes through the text.
 */
static void
jsonb_doc_number(td_doc *d, double x)
{
	static const double pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
	JsonbValue	v;
	char		buf[32];

	v.type = jbvNumeric;
	v.val.numeric = NULL;
	if (x == floor(x) && fabs(x) < 1e15)
		v.val.numeric = int64_to_numeric((int64) x);
	for (int s = 1; v.val.numeric == NULL && s < (int) lengthof(pow10); s++)
	{
		double		m = rint(x * pow10[s]);

		if (fabs(m) < 1e10 && m / pow10[s] == x)
			v.val.numeric = int64_div_fast_to_numeric((int64) m, s);
	}
	if (v.val.numeric == NULL)
	{
		td_doc_number_text(x, buf, sizeof(buf));
		v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
															ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	}
	jsonb_doc_scalar(d, &v);
}

/* A whole number. */
static void
jsonb_doc_integer(td_doc *d, long long x)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric((int64) x);
	jsonb_doc_scalar(d, &v);
}

/* true or false. */
static void
jsonb_doc_boolean(td_doc *d, bool b)
{
	JsonbValue	v;

	v.type = jbvBool;
	v.val.boolean = b;
	jsonb_doc_scalar(d, &v);
}

/* null. */
static void
jsonb_doc_null(td_doc *d)
{
	JsonbValue	v;

	v.type = jbvNull;
	jsonb_doc_scalar(d, &v);
}

static const td_doc_ops jsonb_doc_ops = {
	jsonb_doc_begin_object, jsonb_doc_end_object, jsonb_doc_begin_array, jsonb_doc_end_array,
	jsonb_doc_key, jsonb_doc_string, jsonb_doc_number, jsonb_doc_integer, jsonb_doc_boolean, jsonb_doc_null
};

/* See json_glue.h. */
void
td_jsonb_doc_init(td_jsonb_doc *w)
{
	w->doc.ops = &jsonb_doc_ops;
	w->state = NULL;
	w->result = NULL;
}

/* See json_glue.h. */
Datum
td_jsonb_doc_finish(td_jsonb_doc *w)
{
	Assert(w->result != NULL && w->state == NULL);
	return JsonbPGetDatum(JsonbValueToJsonb(w->result));
}
