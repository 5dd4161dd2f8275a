/*
 * jsonb_funcs.c — SQL entry points of general JSON helpers:
 * jsonb_merge_deep() and jsonb_raw_size().  The merge itself is
 * td_json_merge() in core/td_json.c.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "fmgr.h"
#include "utils/jsonb.h"

#include "json_glue.h"
#include "td_json.h"

PG_FUNCTION_INFO_V1(train_data_jsonb_merge_deep);
PG_FUNCTION_INFO_V1(train_data_jsonb_raw_size);

/*
 * The most bytes jsonb_merge_deep merges (both values, decompressed): a
 * merge holds about 20 times its input (a tree of each, then the text of
 * the result, parsed back by jsonb_in, which checks no interrupts: 70 MB
 * took 1.4 GB and held a cancel a second, a review of 1.2).  Settings
 * documents, its use, are 16 kB at most.
 */
#define MERGE_MAX_BYTES (16 * 1024 * 1024)

/*
 * jsonb_merge_deep(base jsonb, patch jsonb) returns jsonb — objects merged
 * member by member, anything else replaced by patch; NULL when both are.
 */
Datum
train_data_jsonb_merge_deep(PG_FUNCTION_ARGS)
{
	td_arena	arena;
	const td_json *base = NULL;
	const td_json *patch = NULL;
	const td_json *merged;
	td_buf		out;
	Datum		result;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(1))
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(PG_GETARG_DATUM(1));
	if (toast_raw_datum_size(PG_GETARG_DATUM(0)) + toast_raw_datum_size(PG_GETARG_DATUM(1)) > MERGE_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("documents to merge are %zu bytes; the limit is 16 MB",
						(size_t) (toast_raw_datum_size(PG_GETARG_DATUM(0)) + toast_raw_datum_size(PG_GETARG_DATUM(1)))),
				 errdetail("A deep merge holds about 20 times its documents; settings documents are far smaller.")));
	td_arena_init(&arena);
	base = td_jsonb_to_core(&arena, PG_GETARG_JSONB_P(0));
	patch = td_jsonb_to_core(&arena, PG_GETARG_JSONB_P(1));
	merged = td_json_merge(&arena, base, patch);
	td_buf_init(&out);
	td_json_write(&out, merged);
	result = td_core_to_jsonb(&out);
	td_buf_free(&out);
	td_arena_free(&arena);
	PG_RETURN_DATUM(result);
}

/*
 * jsonb_raw_size(value jsonb) returns bigint — the bytes of a jsonb value
 * once decompressed, read from its header without decompressing or
 * fetching it: what reading the value will cost, which pg_column_size (the
 * bytes stored, perhaps compressed) does not tell.
 */
Datum
train_data_jsonb_raw_size(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) toast_raw_datum_size(PG_GETARG_DATUM(0)));
}
