/*
 * json_glue.c — the bridge between PostgreSQL values and the pure C cores.
 *
 * The cores work on UTF-8.  In a UTF8 database the conversions below are
 * no-ops; in any other encoding text is converted on the way in and out, so
 * the cores never see another encoding.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "json_glue.h"
#include "jsonb_doc.h"
#include "quality.h"

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

/* Kept memory of the cores: in TopMemoryContext, for the session. */
static void *
glue_keep_realloc(void *ptr, size_t size)
{
	return ptr ? repalloc(ptr, size ? size : 1) : MemoryContextAlloc(TopMemoryContext, size ? size : 1);
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

/*
 * Core arena limit handler: a parsed document (a JSON tree, a template)
 * whose parts together would pass 1 GB.
 */
static void
glue_arena_limit(size_t requested)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("parsed input exceeds the limit of 1 GB of memory"),
			 errdetail("Its parsed form was about to take %zu bytes: each of its values takes memory of its own.",
					   requested)));
}

/* Core interrupt handler: cancel, statement_timeout and termination. */
static void
glue_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

/*
 * A (sub)transaction aborted: a core call it cut short (out of memory, the
 * 1 GB limit, a cancel) left its kept tables as large as it made them,
 * without the trim that ends a call, and a jsonb document it cut short left
 * the kept document frames taken.  Release both now rather than keep them
 * in TopMemoryContext until the session's next quality call.  No core call
 * and no document is in progress: the error unwound it.
 */
static void
glue_xact_abort(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		td_quality_kept_trim();
		td_jsonb_doc_release_kept();
	}
}

/* The same for a subtransaction (an exception block that caught the error). */
static void
glue_subxact_abort(SubXactEvent event, SubTransactionId sub, SubTransactionId parent, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		td_quality_kept_trim();
		td_jsonb_doc_release_kept();
	}
}

/* See json_glue.h. */
void
td_install_allocator(void)
{
	StaticAssertStmt(TD_MAX_ALLOC == MaxAllocSize, "the cores' limit is PostgreSQL's");
	td_set_allocator(glue_alloc, glue_realloc, glue_free);
	td_set_keep_allocator(glue_keep_realloc, glue_free);
	td_set_limit_handler(glue_limit);
	td_set_arena_limit_handler(glue_arena_limit);
	td_interrupt_handler = glue_interrupts;
	td_sort = pg_qsort;			/* a cancel in a comparator leaves nothing behind */
	RegisterXactCallback(glue_xact_abort, NULL);
	RegisterSubXactCallback(glue_subxact_abort, NULL);
}

/* See json_glue.h. */
const char *
td_message_to_server(const char *utf8)
{
	return pg_any_to_server(utf8, (int) strlen(utf8), PG_UTF8);
}

/* See json_glue.h. */
const char *
td_server_to_utf8(const char *s, size_t *len)
{
	const char *u = pg_server_to_any(s, (int) *len, PG_UTF8);

	if (u != s)
		*len = strlen(u);
	return u;
}

/* See json_glue.h. */
const char *
td_server_text_for_words(const char *s, size_t *len)
{
	int			encoding = GetDatabaseEncoding();

	if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII)
		return s;
	return td_server_to_utf8_lenient(s, len);
}

/* See json_glue.h. */
char *
td_server_to_utf8_lenient(const char *s, size_t *len)
{
	int			encoding = GetDatabaseEncoding();
	Oid			proc = FindDefaultConversionProc(encoding, PG_UTF8);
	size_t		in = *len,
				done = 0,
				out = 0;
	char	   *u;

	if (!OidIsValid(proc))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("no conversion from encoding \"%s\" to UTF8", GetDatabaseEncodingName())));
	if (in > (MaxAllocSize - 1) / MAX_CONVERSION_GROWTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("text of %zu bytes is too long to convert to UTF8", in)));
	u = palloc(in * MAX_CONVERSION_GROWTH + 1);
	while (done < in)
	{
		int			converted;

		CHECK_FOR_INTERRUPTS();
		converted = pg_do_encoding_conversion_buf(proc, encoding, PG_UTF8, (unsigned char *) s + done,
												  (int) (in - done), (unsigned char *) u + out,
												  (int) ((in - done) * MAX_CONVERSION_GROWTH + 1), true);
		done += converted;
		out += strlen(u + out);
		if (done < in)
		{
			/* a character without an equivalent: a space, which separates words */
			u[out++] = ' ';
			done += Min((size_t) pg_encoding_mblen(encoding, s + done), in - done);
		}
	}
	u[out] = '\0';
	*len = out;
	return u;
}

/*
 * The digits the numbers of a jsonb value of size bytes may print as, in
 * all: a numeric stored in a few bytes prints as up to 131,072 digits
 * (1e131071), so without a bound a value of 1.6 MB could make a tree of
 * 13 GB.  Numbers as JSON writes them print as about as many bytes as jsonb
 * stores them in (or fewer): four times that, and 1 MB more, is far above
 * any value read as JSON and refuses a value made to grow.
 */
static size_t
digits_allowed(Size size)
{
	return 4 * (size_t) size + 1024 * 1024;
}

/* A scalar of a jsonb value as a core value, in arena (UTF-8 database); *digits_left counts down. */
static td_json *
scalar_to_core(td_arena *arena, const JsonbValue *jv, size_t *digits_left, size_t allowed)
{
	td_json    *v = td_arena_alloc(arena, sizeof(td_json));
	char	   *lit;

	memset(v, 0, sizeof(td_json));
	switch (jv->type)
	{
		case jbvNull:
			v->type = TD_JSON_NULL;
			break;
		case jbvBool:
			v->type = jv->val.boolean ? TD_JSON_TRUE : TD_JSON_FALSE;
			break;
		case jbvString:
			v->type = TD_JSON_STRING;
			v->str = td_arena_strndup(arena, jv->val.string.val, jv->val.string.len);
			v->len = jv->val.string.len;
			break;
		case jbvNumeric:
			/* the literal jsonb prints, and its double, as the reader makes them */
			lit = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(jv->val.numeric)));
			v->type = TD_JSON_NUMBER;
			v->len = strlen(lit);
			if (v->len > *digits_left)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("numbers of JSON value are longer than %zu characters in all", allowed),
						 errdetail("A number stored in a few bytes of jsonb may print as up to 131,072 digits; the numbers of a value may print as at most four times its stored size and 1 MB more.")));
			*digits_left -= v->len;
			v->str = td_arena_strndup(arena, lit, v->len);
			v->num = strtod(v->str, NULL);
			pfree(lit);
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) jv->type);
	}
	return v;
}

/* An array or object being filled from the jsonb iterator. */
typedef struct core_frame
{
	td_json    *node;
	char	   *key_copy;		/* OBJECT: the key of the next value */
	size_t		key_len;
} core_frame;

/* Put v into the container of frame f (as the value of its pending key). */
static void
frame_add(core_frame *f, td_json *v)
{
	if (f->node->type == TD_JSON_ARRAY)
		f->node->items[f->node->count++] = v;
	else
	{
		td_json_member *m = &f->node->members[f->node->count++];

		m->key = f->key_copy;
		m->key_len = f->key_len;
		m->value = v;
	}
}

/* A new array or object node with room for n elements. */
static td_json *
container_to_core(td_arena *arena, bool array, size_t n)
{
	td_json    *v = td_arena_alloc(arena, sizeof(td_json));

	memset(v, 0, sizeof(td_json));
	v->type = array ? TD_JSON_ARRAY : TD_JSON_OBJECT;
	if (array)
		v->items = td_arena_alloc(arena, (n ? n : 1) * sizeof(td_json *));
	else
		v->members = td_arena_alloc(arena, (n ? n : 1) * sizeof(td_json_member));
	return v;
}

/*
 * A jsonb value as a core value, read from its binary form (no text in
 * between): the same tree the reader makes of its text -- objects in
 * jsonb's key order, numbers with the literal jsonb prints.  NULL when it is
 * nested deeper than the reader allows (its caller then reads the text, and
 * reports as the reader does).  For a UTF-8 database only.
 */
static td_json *
jsonb_binary_to_core(td_arena *arena, Jsonb *jb)
{
	core_frame	stack[TD_JSON_MAX_DEPTH];
	int			depth = 0;
	td_json    *root = NULL;
	JsonbIterator *it = JsonbIteratorInit(&jb->root);
	JsonbValue	jv;
	JsonbIteratorToken tok;
	bool		raw_scalar = false;
	unsigned int ticks = 0;
	size_t		allowed = digits_allowed(VARSIZE(jb)),
				digits_left = allowed;

	while ((tok = JsonbIteratorNext(&it, &jv, false)) != WJB_DONE)
	{
		td_json    *v = NULL;

		if ((++ticks & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		switch (tok)
		{
			case WJB_BEGIN_ARRAY:
			case WJB_BEGIN_OBJECT:
				if (tok == WJB_BEGIN_ARRAY && jv.val.array.rawScalar)
				{
					raw_scalar = true;	/* a scalar document: its one element */
					continue;
				}
				if (depth >= TD_JSON_MAX_DEPTH - 1)
					return NULL;
				v = container_to_core(arena, tok == WJB_BEGIN_ARRAY,
									  tok == WJB_BEGIN_ARRAY ? (size_t) jv.val.array.nElems
									  : (size_t) jv.val.object.nPairs);
				if (depth > 0)
					frame_add(&stack[depth - 1], v);
				else
					root = v;
				stack[depth].node = v;
				stack[depth].key_copy = NULL;
				depth++;
				continue;
			case WJB_END_ARRAY:
			case WJB_END_OBJECT:
				if (!raw_scalar)
					depth--;
				continue;
			case WJB_KEY:
				stack[depth - 1].key_len = jv.val.string.len;
				stack[depth - 1].key_copy = td_arena_strndup(arena, jv.val.string.val, jv.val.string.len);
				continue;
			case WJB_VALUE:
			case WJB_ELEM:
				v = scalar_to_core(arena, &jv, &digits_left, allowed);
				if (raw_scalar)
					root = v;
				else
					frame_add(&stack[depth - 1], v);
				continue;
			default:
				elog(ERROR, "unexpected jsonb iterator token %d", (int) tok);
		}
	}
	return root;
}

/* See json_glue.h. */
td_json *
td_jsonb_to_core(td_arena *arena, Jsonb *jb)
{
	char	   *s;
	size_t		len;
	td_json_error err;
	td_json    *v;

	if (GetDatabaseEncoding() == PG_UTF8 && (v = jsonb_binary_to_core(arena, jb)) != NULL)
		return v;
	s = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	len = strlen(s);

	s = (char *) td_server_to_utf8(s, &len);
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
	return (char *) td_server_to_utf8(text_to_cstring(t), len);
}

/* See json_glue.h. */
Datum
td_core_to_jsonb(const td_buf *json)
{
	char	   *s = pg_any_to_server(json->data, (int) json->len, PG_UTF8);

	return DirectFunctionCall1(jsonb_in, CStringGetDatum(s));
}
