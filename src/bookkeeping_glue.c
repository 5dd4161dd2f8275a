/*
 * bookkeeping_glue.c — the worker functions' bookkeeping, native:
 * bump_counters() (a job's live counters, in a shard no other transaction
 * holds: counter_shards.c) and log_generation() (one generation_logs row,
 * one INSERT).  Their statements are kept prepared for the session
 * (kept_plan.c); as PL/pgSQL functions called
 * from the worker functions they cost a nested interpreter call each
 * (its settings, its arguments), about 50,000 instructions a completion
 * for the two (docs/performance.md).
 *
 * Internal: log_generation's EXECUTE is revoked from PUBLIC; bump_counters
 * keeps PUBLIC's, as a user's cancel_batch calls it as her.  They run as
 * their caller, under the caller's row-level security: a user writes only
 * the counter shards her policies let her write (0-15 of her own jobs),
 * and only the engine's additions are made without a statement
 * (counter_update.c).  Every name and operator in
 * the statements is schema-qualified, so the caller's search_path does not
 * change what they do.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"

#include "counter_shards.h"
#include "kept_plan.h"

PG_FUNCTION_INFO_V1(train_data_bump_counters);
PG_FUNCTION_INFO_V1(train_data_log_generation);

/* The log row of one model call of a batch item (its request is the one stored at claim). */
static const char log_sql[] =
	"INSERT INTO train_data.generation_logs"
	"    (conversation_id, batch_item_id, run_id, template_id, request_payload, response_payload, parameters,"
	"     model_used, temperature, max_tokens, status, retry_attempt, input_tokens, output_tokens, cost_usd,"
	"     duration_ms, error_message, error_code, created_by, cache_read_tokens, cache_write_tokens)"
	" VALUES ($8, $1, $2, $3, COALESCE($4, '{}'::pg_catalog.jsonb), $9, $5,"
	"         $4 OPERATOR(pg_catalog.->>) 'model',"
	"         ($4 OPERATOR(pg_catalog.->>) 'temperature')::pg_catalog.numeric,"
	"         ($4 OPERATOR(pg_catalog.->>) 'max_tokens')::pg_catalog.int4, $10,"
	"         GREATEST($6 OPERATOR(pg_catalog.-) 1, 0), COALESCE($11, 0), COALESCE($12, 0), $13, $14, $15, $16, $7,"
	"         COALESCE($17, 0), COALESCE($18, 0))";

static const Oid log_types[] = {UUIDOID, UUIDOID, UUIDOID, JSONBOID, JSONBOID, INT4OID, UUIDOID, UUIDOID,
	JSONBOID, TEXTOID, INT4OID, INT4OID, NUMERICOID, INT4OID, TEXTOID, TEXTOID, INT4OID, INT4OID};

static SPIPlanPtr log_plan;

/* Run the kept INSERT in *slot with the function's arguments as its parameters (NULLs kept). */
static void
insert_with_args(FunctionCallInfo fcinfo, SPIPlanPtr *slot, const char *sql, const Oid *types, int nargs)
{
	Datum		args[FUNC_MAX_ARGS];
	char		nulls[FUNC_MAX_ARGS];
	int			rc;

	Assert(PG_NARGS() == nargs && nargs <= FUNC_MAX_ARGS);
	for (int i = 0; i < nargs; i++)
	{
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
		args[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* a generic plan from the first call: no planning per call */
	rc = SPI_execute_plan(td_kept_plan(slot, sql, nargs, types, CURSOR_OPT_GENERIC_PLAN), args, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	SPI_finish();
}

/*
 * bump_counters(job_id uuid, completed, failed, cancelled, in_flight
 * integer, final_event boolean) returns void — adds to the job's live
 * counters in a shard no other transaction holds (counter_shards.c) and,
 * for a final event, updates the shard's rate (time-remaining estimate).
 */
Datum
train_data_bump_counters(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("bump_counters() needs a batch job id")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	td_add_to_counters(PG_GETARG_DATUM(0), PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1),
					   PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2), PG_ARGISNULL(3) ? 0 : PG_GETARG_INT32(3),
					   PG_ARGISNULL(4) ? 0 : PG_GETARG_INT32(4), !PG_ARGISNULL(5) && PG_GETARG_BOOL(5));
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * log_generation(item_id, job_id, template_id uuid, request, parameters
 * jsonb, attempts integer, owner, conversation_id uuid, response jsonb,
 * status text, input_tokens, output_tokens integer, cost numeric,
 * duration_ms integer, error_message, error_code text, cache_read_tokens,
 * cache_write_tokens integer) returns void — inserts the generation_logs
 * row of one model call of a batch item.
 */
Datum
train_data_log_generation(PG_FUNCTION_ARGS)
{
	insert_with_args(fcinfo, &log_plan, log_sql, log_types, lengthof(log_types));
	PG_RETURN_VOID();
}
