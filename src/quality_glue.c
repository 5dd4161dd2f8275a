/*
 * quality_glue.c — SQL entry points of the quality scorer: quality_metrics()
 * (with and without the template's expectation), quality_score(),
 * quality_defects(), quality_defect_codes(), metrics_have_defects(),
 * metrics_have_hard_defects() and defect_status().
 * The scoring is the pure core in core/quality.c, the verdicts
 * core/quality_defects.c.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/numeric.h"

#include "detoast.h"
#include "json_glue.h"
#include "jsonb_doc.h"
#include "quality.h"
#include "quality_defects.h"

PG_FUNCTION_INFO_V1(train_data_quality_metrics);
PG_FUNCTION_INFO_V1(train_data_quality_metrics_expect);
PG_FUNCTION_INFO_V1(train_data_usable_expectation);
PG_FUNCTION_INFO_V1(train_data_quality_score);
PG_FUNCTION_INFO_V1(train_data_quality_defects);
PG_FUNCTION_INFO_V1(train_data_quality_defect_codes);
PG_FUNCTION_INFO_V1(train_data_metrics_have_defects);
PG_FUNCTION_INFO_V1(train_data_metrics_have_hard_defects);
PG_FUNCTION_INFO_V1(train_data_defect_status);

/*
 * The members of a turn object read in place, in one pass over its
 * entries (jsonb keeps the keys sorted and unique, each entry's end found
 * from the one before it): "role" and "content" when they are strings
 * (else NULL and 0), and with want_timestamp whether "timestamp" is there
 * and not null.
 */
static void
turn_members(JsonbContainer *obj, td_qturn *t, bool want_timestamp)
{
	uint32		count = JsonContainerSize(obj),
				off = 0;
	const char *data = (const char *) &obj->children[count * 2];
	uint32		role_at = PG_UINT32_MAX,	/* the value entries wanted */
				content_at = PG_UINT32_MAX,
				timestamp_at = PG_UINT32_MAX;

	for (uint32 i = 0; i < 2 * count; i++)
	{
		JEntry		e = obj->children[i];
		uint32		start = off;

		if ((i & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();
		JBE_ADVANCE_OFFSET(off, e);
		if (i < count)			/* a key */
		{
			uint32		klen = off - start;
			const char *key = data + start;

			if (klen == 4 && memcmp(key, "role", 4) == 0)
				role_at = count + i;
			else if (klen == 7 && memcmp(key, "content", 7) == 0)
				content_at = count + i;
			else if (want_timestamp && klen == 9 && memcmp(key, "timestamp", 9) == 0)
				timestamp_at = count + i;
		}
		else if (i == timestamp_at)
			t->has_timestamp = !JBE_ISNULL(e);
		else if (JBE_ISSTRING(e) && (i == role_at || i == content_at))
		{
			*(i == role_at ? &t->role : &t->content) = data + start;
			*(i == role_at ? &t->role_len : &t->len) = off - start;
		}
	}
}

/*
 * The turns of a jsonb array, read in place (no text round trip; each
 * element's start found from the one before it, as the turn's members
 * are).  Only for a UTF-8 database: the core counts characters in UTF-8
 * (in another, check_judged_jsonb reads only the contents' lengths).
 */
static td_qturn *
jsonb_turns(Jsonb *jb, bool with_timestamps, long *n, bool *is_array)
{
	td_qturn   *out;
	uint32		off = 0;
	const char *data;

	*is_array = JB_ROOT_IS_ARRAY(jb) && !JB_ROOT_IS_SCALAR(jb);
	*n = *is_array ? (long) JB_ROOT_COUNT(jb) : 0;
	out = palloc0((*n ? *n : 1) * sizeof(td_qturn));
	data = (const char *) &jb->root.children[*n];
	for (long i = 0; i < *n; i++)
	{
		JEntry		e = jb->root.children[i];
		uint32		start = off;

		CHECK_FOR_INTERRUPTS();
		JBE_ADVANCE_OFFSET(off, e);
		if (JBE_ISCONTAINER(e))
		{
			JsonbContainer *c = (JsonbContainer *) (data + INTALIGN(start));

			if (JsonContainerIsObject(c))
				turn_members(c, &out[i], with_timestamps);	/* timestamps: only the metrics' suggestions */
		}
		if (out[i].content == NULL)
			out[i].content = "";
		td_qturn_survey(&out[i]);
	}
	return out;
}

/*
 * The expectation argument argno (NULL or absent: none) into *e; raises
 * SQLSTATE 22023 when it is malformed.
 */
static const td_quality_expect *
expect_arg(FunctionCallInfo fcinfo, int argno, td_quality_expect *e)
{
	td_arena	arena;
	td_error	err;
	bool		good;

	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return NULL;
	td_arena_init(&arena);
	td_error_init(&err);
	good = td_quality_expect_parse(td_jsonb_to_core(&arena, PG_GETARG_JSONB_P(argno)), e, &err);
	td_arena_free(&arena);
	if (!good)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", td_message_to_server(err.message.data)),
				 err.detail.len ? errdetail("%s", td_message_to_server(err.detail.data)) : 0));
	td_error_free(&err);
	return e;
}

/*
 * usable_expectation(expected jsonb) returns jsonb — expected when
 * quality_metrics(turns, expected) accepts it, else NULL (STRICT): the
 * expectation a stored conversation's parameters hold, for judging it again
 * without failing on one 1.1 or a user's edit left malformed.
 */
Datum
train_data_usable_expectation(PG_FUNCTION_ARGS)
{
	td_arena	arena;
	td_error	err;
	td_quality_expect e;
	bool		good;

	td_arena_init(&arena);
	td_error_init(&err);
	good = td_quality_expect_parse(td_jsonb_to_core(&arena, PG_GETARG_JSONB_P(0)), &e, &err);
	td_arena_free(&arena);
	td_error_free(&err);
	if (!good)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

/*
 * The most text the verdicts judge in one conversation, in bytes of its
 * turns' contents: as much as a response may hold (parse_glue.c), so
 * that no completion's conversation is refused.  Judging costs up to
 * about 90 bytes a word, some 45 times the text: a 48 MB turn took
 * 1.64 GB of the backend (a review of 1.2).  The score alone reads far
 * less and has no such bound.
 */
#define JUDGED_MAX_BYTES ((size_t) 8 * 1024 * 1024)

/* Refuse turns with more text than the verdicts judge (54000). */
static void
check_judged_size(const td_qturn *t, long n)
{
	size_t		bytes = 0;

	for (long i = 0; i < n; i++)
		bytes += t[i].len;
	if (bytes > JUDGED_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("turns hold %zu bytes of text; the verdicts judge 8 MB at most", bytes),
				 errdetail("A model's response is at most 8 MB; judging costs up to about 45 times the text."),
				 errhint("quality_score() reads any size.")));
}

/*
 * The same for turns read in a database of another encoding, measured in
 * its bytes before they are converted: the bound is a response's, whose
 * size is measured so (a LATIN1 "é" is two bytes of UTF-8).
 */
static void
check_judged_jsonb(Jsonb *jb)
{
	bool		is_array;
	long		n;
	td_qturn   *t = jsonb_turns(jb, false, &n, &is_array);

	check_judged_size(t, n);
	pfree(t);
}

/* The overall score of a jsonb turns argument (no metrics document). */
static double
score_arg(FunctionCallInfo fcinfo)
{
	Jsonb	   *jb = TD_GETARG_JSONB_P(0);
	double		overall;

	if (GetDatabaseEncoding() == PG_UTF8)
	{
		bool		is_array;
		long		n;
		td_qturn   *t = jsonb_turns(jb, false, &n, &is_array);

		overall = td_quality_score_turns(t, n, is_array);
		pfree(t);
	}
	else
	{
		td_arena	arena;

		td_arena_init(&arena);
		overall = td_quality_score(td_jsonb_to_core(&arena, jb));
		td_arena_free(&arena);
	}
	return overall;
}

/*
 * The metrics document of a jsonb turns argument, with the verdicts under
 * expect: built as jsonb by the core's writer (in a UTF-8 database the turns
 * are read in place; in another, converted to the core's UTF-8 first and the
 * document's text parsed back).
 */
static Datum
metrics_arg(FunctionCallInfo fcinfo, const td_quality_expect *expect)
{
	Jsonb	   *jb = TD_GETARG_JSONB_P(0);
	double		overall;

	if (GetDatabaseEncoding() == PG_UTF8)
	{
		bool		is_array;
		long		n;
		td_qturn   *t = jsonb_turns(jb, true, &n, &is_array);
		td_jsonb_doc doc;

		check_judged_size(t, n);
		td_jsonb_doc_init(&doc);
		td_quality_metrics_doc(t, n, is_array, expect, &doc.doc, &overall);
		pfree(t);
		return td_jsonb_doc_finish(&doc);
	}
	else
	{
		td_arena	arena;
		td_buf		out;
		Datum		result;

		check_judged_jsonb(jb);
		td_arena_init(&arena);
		td_buf_init(&out);
		td_quality_metrics_json_expect(td_jsonb_to_core(&arena, jb), expect, &out, &overall);
		result = td_core_to_jsonb(&out);
		td_buf_free(&out);
		td_arena_free(&arena);
		return result;
	}
}

/*
 * quality_metrics(turns jsonb) returns jsonb — the metrics object of a
 * conversation's turns [{role, content}, ...].
 */
Datum
train_data_quality_metrics(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(metrics_arg(fcinfo, NULL));
}

/*
 * quality_metrics(turns jsonb, expected jsonb) returns jsonb — the same with
 * what the template expects (turn count, bounds, first role); NULL turns
 * give NULL, a NULL expectation none.
 */
Datum
train_data_quality_metrics_expect(PG_FUNCTION_ARGS)
{
	td_quality_expect e;
	const td_quality_expect *expect;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	expect = expect_arg(fcinfo, 1, &e);
	PG_RETURN_DATUM(metrics_arg(fcinfo, expect));
}

/*
 * quality_defects(turns jsonb, expected jsonb DEFAULT NULL) returns text[] —
 * the defect codes alone (no metrics document: the fast path for routing
 * and filters); NULL turns give NULL.
 */
Datum
train_data_quality_defects(PG_FUNCTION_ARGS)
{
	td_quality_expect e;
	const td_quality_expect *expect;
	td_defect_mask mask;
	Datum		codes[TD_DEFECT_COUNT];
	int			n = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	expect = expect_arg(fcinfo, 1, &e);
	if (GetDatabaseEncoding() == PG_UTF8)
	{
		bool		is_array;
		long		count;
		td_qturn   *t = jsonb_turns(TD_GETARG_JSONB_P(0), false, &count, &is_array);

		check_judged_size(t, count);
		mask = td_quality_defects(t, count, is_array, expect, NULL);
		pfree(t);
	}
	else
	{
		td_arena	arena;
		td_json    *v;
		long		count;
		td_qturn   *t;
		Jsonb	   *jb = TD_GETARG_JSONB_P(0);

		check_judged_jsonb(jb);
		td_arena_init(&arena);
		v = td_jsonb_to_core(&arena, jb);
		t = td_quality_json_turns(v, &count);
		mask = td_quality_defects(t, count, v->type == TD_JSON_ARRAY, expect, NULL);
		td_free(t);
		td_arena_free(&arena);
	}
	for (int d = 0; d < TD_DEFECT_COUNT; d++)
		if (mask & ((td_defect_mask) 1 << d))
			codes[n++] = CStringGetTextDatum(td_defect_code((td_defect) d));
	PG_RETURN_ARRAYTYPE_P(construct_array(codes, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * quality_defect_codes() returns table (code text, soft boolean,
 * description text) — every defect code, in the order verdicts list them.
 */
Datum
train_data_quality_defect_codes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int d = 0; d < TD_DEFECT_COUNT; d++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(td_defect_code((td_defect) d));
		values[1] = BoolGetDatum(td_defect_is_soft((td_defect) d));
		values[2] = CStringGetTextDatum(td_defect_description((td_defect) d));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * The "defects" array of the metrics document in argument 0, or NULL (a
 * NULL argument, not an object, no such member or not an array).
 */
static JsonbContainer *
metrics_defects(FunctionCallInfo fcinfo)
{
	Jsonb	   *metrics;
	JsonbValue *defects;

	if (PG_ARGISNULL(0))
		return NULL;
	metrics = PG_GETARG_JSONB_P(0);
	if (!JB_ROOT_IS_OBJECT(metrics))
		return NULL;
	defects = getKeyJsonValueFromContainer(&metrics->root, "defects", strlen("defects"), NULL);
	if (defects == NULL || defects->type != jbvBinary || !JsonContainerIsArray(defects->val.binary.data))
		return NULL;
	return defects->val.binary.data;
}

/*
 * metrics_have_defects(metrics jsonb) returns boolean — whether a metrics
 * document lists defect verdicts: its "defects" member is a non-empty
 * array; false for anything else, NULL included.  The expression of the
 * stored generated column conversations.has_defects: a call of one
 * function is what PostgreSQL 15 reads back from the catalog for each
 * statement that inserts or updates a conversation (the CASE of the two
 * jsonb operators it replaces was 2,000 characters of node text, parsed
 * again each time).
 */
Datum
train_data_metrics_have_defects(PG_FUNCTION_ARGS)
{
	JsonbContainer *defects = metrics_defects(fcinfo);

	PG_RETURN_BOOL(defects != NULL && JsonContainerSize(defects) > 0);
}

/* Is code (a JSON string's bytes) the code of a soft defect? */
static bool
soft_code(const char *code, int len)
{
	for (int d = 0; d < TD_DEFECT_COUNT; d++)
	{
		const char *known = td_defect_code((td_defect) d);

		if ((int) strlen(known) == len && memcmp(known, code, len) == 0)
			return td_defect_is_soft((td_defect) d);
	}
	return false;				/* an unknown code is not soft */
}

/*
 * Does the array of defect codes hold one that is not the code of a soft
 * defect (an unknown code, a number, a null)?
 */
static bool
has_hard_code(JsonbContainer *codes)
{
	JsonbIterator *it = JsonbIteratorInit(codes);
	JsonbValue	v;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		CHECK_FOR_INTERRUPTS();
		if (tok == WJB_ELEM && (v.type != jbvString || !soft_code(v.val.string.val, v.val.string.len)))
			return true;
	}
	return false;
}

/*
 * metrics_have_hard_defects(metrics jsonb) returns boolean — whether a
 * metrics document's "defects" array holds a code that is not a soft
 * defect's (as defect_status judges them); false for anything else, NULL
 * included.  What an export reads of an approved conversation with
 * defects: a reviewer's approval settles soft ones, never hard ones.
 */
Datum
train_data_metrics_have_hard_defects(PG_FUNCTION_ARGS)
{
	JsonbContainer *defects = metrics_defects(fcinfo);

	PG_RETURN_BOOL(defects != NULL && has_hard_code(defects));
}

/*
 * The conversation_status values defect_status returns, looked up once per
 * type (the extension made again gets another type).
 */
typedef struct status_values
{
	Oid			type;
	Oid			generated;
	Oid			pending_review;
	Oid			needs_revision;
} status_values;

static const status_values *
status_values_of(Oid type)
{
	static status_values v;

	if (v.type != type)
	{
		v.type = InvalidOid;
		v.generated = DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum("generated"), ObjectIdGetDatum(type)));
		v.pending_review = DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum("pending_review"),
																ObjectIdGetDatum(type)));
		v.needs_revision = DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum("needs_revision"),
																ObjectIdGetDatum(type)));
		v.type = type;
	}
	return &v;
}

/*
 * defect_status(earned conversation_status, defects jsonb) returns
 * conversation_status — what a conversation's defect codes make of the
 * status its score earned: needs_revision when one of them is not soft
 * (anything but the code of a soft defect: an unknown code, a number, a
 * null), else, with soft ones only, pending_review for a conversation that
 * earned generated; otherwise (no defects: NULL, not an array, empty) what
 * it earned.  In C, called by every completion: the PL/pgSQL function it
 * replaces, with its own search_path, cost a nested call and two
 * recomputations of the search path.
 */
Datum
train_data_defect_status(PG_FUNCTION_ARGS)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, 0);
	Jsonb	   *defects;
	const status_values *values;

	if (PG_ARGISNULL(1))
		goto earned;
	defects = PG_GETARG_JSONB_P(1);
	if (!JB_ROOT_IS_ARRAY(defects) || JB_ROOT_IS_SCALAR(defects) || JB_ROOT_COUNT(defects) == 0)
		goto earned;
	if (!OidIsValid(type))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("defect_status() cannot determine the type of its first argument")));
	values = status_values_of(type);
	if (has_hard_code(&defects->root))
		PG_RETURN_OID(values->needs_revision);
	if (!PG_ARGISNULL(0) && PG_GETARG_OID(0) == values->generated)
		PG_RETURN_OID(values->pending_review);
earned:
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_OID(PG_GETARG_OID(0));
}

/*
 * quality_score(turns jsonb) returns numeric — the overall score, 0..10 with
 * one decimal.
 */
Datum
train_data_quality_score(PG_FUNCTION_ARGS)
{
	long		tenths = lround(score_arg(fcinfo) * 10);	/* 0..100 */
	char		buf[32];

	snprintf(buf, sizeof(buf), "%ld.%ld", tenths / 10, tenths % 10);
	PG_RETURN_DATUM(DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid),
										Int32GetDatum(-1)));
}
