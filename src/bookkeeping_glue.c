/*
 * bookkeeping_glue.c — the worker functions' bookkeeping, native:
 * bump_counters() (a job's live counters, in this backend's shard) and
 * log_generation() (one generation_logs row).  Each is one INSERT, kept
 * prepared for the session (kept_plan.c); as PL/pgSQL functions called
 * from the worker functions they cost a nested interpreter call each
 * (its settings, its arguments), about 50,000 instructions a completion
 * for the two (docs/performance.md).
 *
 * Internal (EXECUTE revoked from PUBLIC).  They run as their caller, under
 * the caller's row-level security: a user's cancel_batch writes only the
 * counter shards her policies let her write.  Every name and operator in
 * the statements is schema-qualified, so the caller's search_path does not
 * change what they do.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"

#include "kept_plan.h"

PG_FUNCTION_INFO_V1(train_data_bump_counters);
PG_FUNCTION_INFO_V1(train_data_log_generation);

/*
 * One statement: the job row read once, for its owner and (for a final
 * event) its active clock; a job the caller cannot see gives a NULL owner.
 * The engine writes shards 16-31, a user (cancel_batch) 0-15: the policies
 * let her write, and so lock, only those.  Sums in bigint, kept in range:
 * a row its owner wrote cannot overflow.
 */
static const char bump_sql[] =
	"INSERT INTO train_data.batch_job_counters AS c"
	"    (batch_job_id, created_by, shard, completed_items, failed_items, cancelled_items, in_flight,"
	"     interval_ewma, last_active)"
	" SELECT x.job_id, j.created_by,"
	"        pg_catalog.pg_backend_pid() OPERATOR(pg_catalog.%) 16 OPERATOR(pg_catalog.+)"
	"            CASE WHEN pg_catalog.row_security_active('train_data.batch_job_counters'::pg_catalog.regclass)"
	"                 THEN 0 ELSE 16 END,"
	"        $2, $3, $4, $5,"
	"        CASE WHEN $6 THEN train_data.eta_observe(NULL, NULL, a.active) END, a.active"
	" FROM (SELECT $1 AS job_id) x"
	" LEFT JOIN train_data.batch_jobs j ON j.id OPERATOR(pg_catalog.=) x.job_id"
	" CROSS JOIN LATERAL (SELECT CASE WHEN $6 THEN train_data.job_active_seconds(j.started_at, j.paused_time,"
	"                                                     j.paused_at, NULL, pg_catalog.now()) END AS active) a"
	" ON CONFLICT (batch_job_id, shard) DO UPDATE"
	" SET completed_items = LEAST(GREATEST(c.completed_items::pg_catalog.int8"
	"                                      OPERATOR(pg_catalog.+) excluded.completed_items, -2147483648), 2147483647),"
	"     failed_items = LEAST(GREATEST(c.failed_items::pg_catalog.int8"
	"                                   OPERATOR(pg_catalog.+) excluded.failed_items, -2147483648), 2147483647),"
	"     cancelled_items = LEAST(GREATEST(c.cancelled_items::pg_catalog.int8"
	"                                      OPERATOR(pg_catalog.+) excluded.cancelled_items, -2147483648), 2147483647),"
	"     in_flight = LEAST(GREATEST(c.in_flight::pg_catalog.int8"
	"                                OPERATOR(pg_catalog.+) excluded.in_flight, -2147483648), 2147483647),"
	"     interval_ewma = CASE WHEN $6 THEN train_data.eta_observe(c.interval_ewma, c.last_active,"
	"                                                                excluded.last_active)"
	"                          ELSE c.interval_ewma END,"
	"     last_active = CASE WHEN $6 THEN excluded.last_active ELSE c.last_active END";

static const Oid bump_types[] = {UUIDOID, INT4OID, INT4OID, INT4OID, INT4OID, BOOLOID};

/* The log row of one model call of a batch item (its request is the one stored at claim). */
static const char log_sql[] =
	"INSERT INTO train_data.generation_logs"
	"    (conversation_id, batch_item_id, run_id, template_id, request_payload, response_payload, parameters,"
	"     model_used, temperature, max_tokens, status, retry_attempt, input_tokens, output_tokens, cost_usd,"
	"     duration_ms, error_message, error_code, created_by)"
	" VALUES ($8, $1, $2, $3, COALESCE($4, '{}'::pg_catalog.jsonb), $9, $5,"
	"         $4 OPERATOR(pg_catalog.->>) 'model',"
	"         ($4 OPERATOR(pg_catalog.->>) 'temperature')::pg_catalog.numeric,"
	"         ($4 OPERATOR(pg_catalog.->>) 'max_tokens')::pg_catalog.int4, $10,"
	"         GREATEST($6 OPERATOR(pg_catalog.-) 1, 0), COALESCE($11, 0), COALESCE($12, 0), $13, $14, $15, $16, $7)";

static const Oid log_types[] = {UUIDOID, UUIDOID, UUIDOID, JSONBOID, JSONBOID, INT4OID, UUIDOID, UUIDOID,
	JSONBOID, TEXTOID, INT4OID, INT4OID, NUMERICOID, INT4OID, TEXTOID, TEXTOID};

static SPIPlanPtr bump_plan;
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
 * counters in this backend's shard and, for a final event, updates the
 * shard's rate (time-remaining estimate).
 */
Datum
train_data_bump_counters(PG_FUNCTION_ARGS)
{
	insert_with_args(fcinfo, &bump_plan, bump_sql, bump_types, lengthof(bump_types));
	PG_RETURN_VOID();
}

/*
 * log_generation(item_id, job_id, template_id uuid, request, parameters
 * jsonb, attempts integer, owner, conversation_id uuid, response jsonb,
 * status text, input_tokens, output_tokens integer, cost numeric,
 * duration_ms integer, error_message, error_code text) returns void —
 * inserts the generation_logs row of one model call of a batch item.
 */
Datum
train_data_log_generation(PG_FUNCTION_ARGS)
{
	insert_with_args(fcinfo, &log_plan, log_sql, log_types, lengthof(log_types));
	PG_RETURN_VOID();
}
