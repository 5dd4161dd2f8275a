/*
 * quality_glue.c — SQL entry points of the quality scorer: quality_metrics()
 * and quality_score().  The scoring is the pure core in core/quality.c.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "json_glue.h"
#include "quality.h"

PG_FUNCTION_INFO_V1(td_quality_metrics_sql);
PG_FUNCTION_INFO_V1(td_quality_score_sql);

/* Score a jsonb turns argument; the metrics text and the overall score. */
static void
score_arg(FunctionCallInfo fcinfo, td_buf *out, double *overall)
{
	td_arena	arena;

	td_arena_init(&arena);
	td_buf_init(out);
	td_quality_metrics(td_jsonb_to_core(&arena, PG_GETARG_JSONB_P(0)), out, overall);
	td_arena_free(&arena);
}

/*
 * quality_metrics(turns jsonb) returns jsonb — the metrics object of a
 * conversation's turns [{role, content}, ...].
 */
Datum
td_quality_metrics_sql(PG_FUNCTION_ARGS)
{
	td_buf		out;
	double		overall;

	score_arg(fcinfo, &out, &overall);
	PG_RETURN_DATUM(td_core_to_jsonb(&out));
}

/*
 * quality_score(turns jsonb) returns numeric — the overall score, 0..10 with
 * one decimal.
 */
Datum
td_quality_score_sql(PG_FUNCTION_ARGS)
{
	td_buf		out;
	double		overall;
	char		buf[32];

	score_arg(fcinfo, &out, &overall);
	td_buf_free(&out);
	snprintf(buf, sizeof(buf), "%.1f", overall);
	PG_RETURN_DATUM(DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid),
										Int32GetDatum(-1)));
}
