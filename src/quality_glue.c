/*
 * quality_glue.c — SQL entry points of the quality scorer: quality_metrics()
 * and quality_score().  The scoring is the pure core in core/quality.c.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "mb/pg_wchar.h"
#include "utils/numeric.h"

#include "json_glue.h"
#include "quality.h"

PG_FUNCTION_INFO_V1(train_data_quality_metrics);
PG_FUNCTION_INFO_V1(train_data_quality_score);

/* A string member of a jsonb object, or NULL when missing or not a string. */
static const char *
member_string(JsonbContainer *obj, const char *key, size_t *len, bool *present)
{
	JsonbValue *v = getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);

	*len = 0;
	*present = v != NULL && v->type != jbvNull;
	if (v == NULL || v->type != jbvString)
		return NULL;
	*len = (size_t) v->val.string.len;
	return v->val.string.val;
}

/*
 * The turns of a jsonb array, read in place (no text round trip).  Only for
 * a UTF-8 database: the core counts characters in UTF-8.
 */
static td_qturn *
jsonb_turns(Jsonb *jb, bool with_timestamps, long *n, bool *is_array)
{
	td_qturn   *out;

	*is_array = JB_ROOT_IS_ARRAY(jb) && !JB_ROOT_IS_SCALAR(jb);
	*n = *is_array ? (long) JB_ROOT_COUNT(jb) : 0;
	out = palloc0((*n ? *n : 1) * sizeof(td_qturn));
	for (long i = 0; i < *n; i++)
	{
		JsonbValue *t = getIthJsonbValueFromContainer(&jb->root, (uint32) i);
		bool		present;
		size_t		ignored;

		out[i].content = "";
		if (t == NULL || t->type != jbvBinary || !JsonContainerIsObject(t->val.binary.data))
			continue;
		out[i].role = member_string(t->val.binary.data, "role", &out[i].role_len, &present);
		out[i].content = member_string(t->val.binary.data, "content", &out[i].len, &present);
		if (out[i].content == NULL)
			out[i].content = "";
		if (with_timestamps)	/* only the metrics' suggestions look at them */
			(void) member_string(t->val.binary.data, "timestamp", &ignored, &out[i].has_timestamp);
	}
	return out;
}

/*
 * Score a jsonb turns argument: the overall score, and the metrics object
 * appended to out when out is not NULL.
 */
static double
score_arg(FunctionCallInfo fcinfo, td_buf *out)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	double		overall;

	if (GetDatabaseEncoding() == PG_UTF8)
	{
		bool		is_array;
		long		n;
		td_qturn   *t = jsonb_turns(jb, out != NULL, &n, &is_array);

		if (out == NULL)
			return td_quality_score_turns(t, n, is_array);
		td_quality_metrics_turns(t, n, is_array, out, &overall);
	}
	else
	{
		td_arena	arena;
		td_json    *v;

		td_arena_init(&arena);
		v = td_jsonb_to_core(&arena, jb);
		if (out == NULL)
			overall = td_quality_score(v);
		else
			td_quality_metrics(v, out, &overall);
		td_arena_free(&arena);
	}
	return overall;
}

/*
 * quality_metrics(turns jsonb) returns jsonb — the metrics object of a
 * conversation's turns [{role, content}, ...].
 */
Datum
train_data_quality_metrics(PG_FUNCTION_ARGS)
{
	td_buf		out;

	td_buf_init(&out);
	score_arg(fcinfo, &out);
	PG_RETURN_DATUM(td_core_to_jsonb(&out));
}

/*
 * quality_score(turns jsonb) returns numeric — the overall score, 0..10 with
 * one decimal.
 */
Datum
train_data_quality_score(PG_FUNCTION_ARGS)
{
	long		tenths = lround(score_arg(fcinfo, NULL) * 10);	/* 0..100 */
	char		buf[32];

	snprintf(buf, sizeof(buf), "%ld.%ld", tenths / 10, tenths % 10);
	PG_RETURN_DATUM(DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid),
										Int32GetDatum(-1)));
}
