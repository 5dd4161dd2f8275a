/*
 * close_checks.c — the closing checks a claim makes for jobs that were
 * left open (job_close_checks).
 *
 * A job closes when its last item ends, in the transaction that ends it
 * (finish_job_if_done, owner_close_job).  Two cases leave no transaction
 * able to decide: a worker's finisher that finds the job row held (by its
 * owner, whose statement ending her last queued items still saw the
 * worker's item in flight), and an owner who ends her last items in
 * REPEATABLE READ (whose snapshot cannot see what workers committed after
 * it).  Each leaves a row in job_close_checks; so does a retry or release
 * that could not put its job back in the claim order without waiting.  A
 * claim, at most every CHECKS_EVERY_MS in each session, considers the next
 * CANDIDATES_PER_LOOK rows after its cursor, takes those whose job row no
 * other transaction holds (both locked with SKIP LOCKED), deletes them and
 * looks at each job (check_owed_job: closes it, fails it for a final
 * failure under error_handling 'stop' that found the row held, rolls its
 * counters up, or puts it back in the claim order), waiting for no one; a
 * row of a job still held stays for a later look.  Rows whose job no
 * longer exists (deleted while a finisher noted it) are removed.
 *
 * Runs inside the claim's SPI connection, as the claim's owner (train_data:
 * users can neither see nor write these rows).  Every name and operator is
 * qualified: the plans are kept for the session.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "kept_plan.h"
#include "train_data.h"

#define CHECKS_EVERY_MS 1000
#define CHECKS_PER_LOOK 64
#define CANDIDATES_PER_LOOK 256

/*
 * The checks a look considers: the next ones after the session's cursor,
 * in job order, at most CANDIDATES_PER_LOOK, so that a look reads a bounded
 * part of the table however many checks wait on rows that stay held (a
 * review of 1.2: 20,000 such checks cost each look 62 ms).
 */
static const char *const candidates_sql =
"SELECT c.batch_job_id FROM train_data_internal.job_close_checks c"
" WHERE c.batch_job_id OPERATOR(pg_catalog.>) $1"
" ORDER BY c.batch_job_id"
" LIMIT " CppAsString2(CANDIDATES_PER_LOOK);

/*
 * Take (lock and delete) the candidates' checks whose job row is free;
 * returns their jobs.  The job row is locked in a subquery run per check
 * (a join could read the jobs first).
 */
static const char *const take_sql =
"WITH picked AS ("
"  SELECT c.ctid AS tid FROM train_data_internal.job_close_checks c"
"   WHERE c.batch_job_id OPERATOR(pg_catalog.=) ANY ($1)"
"     AND EXISTS (SELECT FROM train_data.batch_jobs j"
"                  WHERE j.id OPERATOR(pg_catalog.=) c.batch_job_id"
"                    FOR NO KEY UPDATE SKIP LOCKED)"
"   LIMIT " CppAsString2(CHECKS_PER_LOOK) " FOR UPDATE SKIP LOCKED)"
" DELETE FROM train_data_internal.job_close_checks c USING picked p"
"  WHERE c.ctid OPERATOR(pg_catalog.=) p.tid"
" RETURNING c.batch_job_id, c.stop";

/* Remove the candidates' checks whose job no longer exists. */
static const char *const orphans_sql =
"DELETE FROM train_data_internal.job_close_checks c"
" WHERE c.ctid OPERATOR(pg_catalog.=) ANY (ARRAY("
"   SELECT c2.ctid FROM train_data_internal.job_close_checks c2"
"    WHERE c2.batch_job_id OPERATOR(pg_catalog.=) ANY ($1)"
"      AND NOT EXISTS (SELECT FROM train_data.batch_jobs j"
"                       WHERE j.id OPERATOR(pg_catalog.=) c2.batch_job_id)"
"      FOR UPDATE SKIP LOCKED))";

/* The look at one job, holding its row (waits for no one: see the function). */
static const char *const check_sql = "SELECT train_data.check_owed_job($1, $2)";

static SPIPlanPtr candidates_plan;
static SPIPlanPtr take_plan;
static SPIPlanPtr orphans_plan;
static SPIPlanPtr check_plan;
static TimestampTz last_look = 0;	/* 0: never */
static pg_uuid_t cursor;		/* the last job a look considered (zero: from the start) */

/*
 * Run a kept plan (generic, prepared on first use) with args of the types
 * given; the count of rows.  Planned (and, whenever PostgreSQL plans it
 * again, re-planned) with nested loops only: a check reads its job by its
 * key, where a merge join would read the jobs' index from its start.
 */
static uint64
run(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *types, Datum *args)
{
	int			nest = NewGUCNestLevel();
	int			rc;

	(void) set_config_option("enable_mergejoin", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	(void) set_config_option("enable_hashjoin", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	td_kept_plan(slot, sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
	rc = SPI_execute_plan(*slot, args, NULL, false, 0);
	AtEOXact_GUC(true, nest);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/* A job taken, and whether one of its checks fails it (a stop). */
typedef struct owed_job
{
	pg_uuid_t	id;
	bool		stop;
} owed_job;

/* Add job to jobs[0..*n), or mark its entry there; stop ORs. */
static void
add_job(owed_job *jobs, int *n, const pg_uuid_t *job, bool stop)
{
	for (int i = 0; i < *n; i++)
		if (memcmp(&jobs[i].id, job, sizeof(pg_uuid_t)) == 0)
		{
			jobs[i].stop |= stop;
			return;
		}
	jobs[*n].id = *job;
	jobs[*n].stop = stop;
	(*n)++;
}

/*
 * The candidates after the cursor, as a uuid[] (NULL when none), the
 * cursor moved past them (back to the start when the table's end is
 * reached).
 */
static Datum
next_candidates(void)
{
	static const Oid types[1] = {UUIDOID};
	Datum	   *ids;
	uint64		rows = run(&candidates_plan, candidates_sql, 1, types,
						   (Datum[]) {UUIDPGetDatum(&cursor)});
	ArrayType  *array;

	if (rows == 0)
	{
		memset(&cursor, 0, sizeof(cursor));
		SPI_freetuptable(SPI_tuptable);
		return (Datum) 0;
	}
	ids = palloc(sizeof(Datum) * rows);
	for (uint64 r = 0; r < rows; r++)
	{
		bool		isnull;

		ids[r] = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
	}
	if (rows < CANDIDATES_PER_LOOK)
		memset(&cursor, 0, sizeof(cursor));
	else
		cursor = *DatumGetUUIDP(ids[rows - 1]);
	array = construct_array(ids, (int) rows, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR);
	SPI_freetuptable(SPI_tuptable);
	return PointerGetDatum(array);
}

/*
 * The owed checks, if this session has not looked for CHECKS_EVERY_MS:
 * each job taken looked at once.  True when a job was looked at (it may
 * have closed: the caller's commit must then wait for the disk).  Call it
 * connected to SPI.
 */
bool
td_check_owed_closes(void)
{
	static const Oid array_type[1] = {UUIDARRAYOID};
	static const Oid check_types[2] = {UUIDOID, BOOLOID};
	TimestampTz clock = GetCurrentTimestamp();
	owed_job	jobs[CHECKS_PER_LOOK];
	int			n = 0;
	uint64		rows;
	Datum		candidates;

	if (last_look != 0 && !TimestampDifferenceExceeds(last_look, clock, CHECKS_EVERY_MS))
		return false;
	last_look = clock;
	candidates = next_candidates();
	if (candidates == (Datum) 0)
		return false;
	(void) run(&orphans_plan, orphans_sql, 1, array_type, &candidates);
	rows = run(&take_plan, take_sql, 1, array_type, &candidates);
	for (uint64 r = 0; r < rows && r < CHECKS_PER_LOOK; r++)
	{
		bool		isnull,
					stop_null;
		Datum		job = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
		Datum		stop = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &stop_null);

		if (!isnull)
			add_job(jobs, &n, DatumGetUUIDP(job), !stop_null && DatumGetBool(stop));
	}
	SPI_freetuptable(SPI_tuptable);
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		(void) run(&check_plan, check_sql, 2, check_types,
				   (Datum[]) {UUIDPGetDatum(&jobs[i].id), BoolGetDatum(jobs[i].stop)});
		SPI_freetuptable(SPI_tuptable);
	}
	return n > 0;
}
