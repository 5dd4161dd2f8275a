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
 * it).  Each leaves a row in job_close_checks.  A claim, at most every
 * CHECKS_EVERY_MS in each session, takes such rows whose job row no other
 * transaction holds (both locked with SKIP LOCKED: it waits for nobody),
 * deletes them and checks each job as a finisher does (or fails it, for
 * a final failure under error_handling 'stop' that found the row held); a
 * row of a job still held stays for a later look.  Rows whose job no longer exists
 * (deleted while a finisher noted it) are removed.
 *
 * Runs inside the claim's SPI connection, as the claim's owner (train_data:
 * users can neither see nor write these rows).  Every name and operator is
 * qualified: the plans are kept for the session.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "kept_plan.h"
#include "train_data.h"

#define CHECKS_EVERY_MS 1000
#define CHECKS_PER_LOOK 64

/*
 * Take (lock and delete) checks whose job row is free; returns their jobs.
 * The job row is locked in a subquery run per check (a join could read the
 * jobs first), in the checks' index order: no plan disabled by the claim's
 * enable_seqscan (whose cost would start JIT at every call).
 */
static const char *const take_sql =
"WITH picked AS ("
"  SELECT c.ctid AS tid FROM train_data.job_close_checks c"
"   WHERE EXISTS (SELECT FROM train_data.batch_jobs j"
"                  WHERE j.id OPERATOR(pg_catalog.=) c.batch_job_id"
"                    FOR NO KEY UPDATE SKIP LOCKED)"
"   ORDER BY c.batch_job_id"
"   LIMIT " CppAsString2(CHECKS_PER_LOOK) " FOR UPDATE SKIP LOCKED)"
" DELETE FROM train_data.job_close_checks c USING picked p"
"  WHERE c.ctid OPERATOR(pg_catalog.=) p.tid"
" RETURNING c.batch_job_id, c.stop";

/* Remove checks of jobs that no longer exist. */
static const char *const orphans_sql =
"DELETE FROM train_data.job_close_checks c"
" WHERE c.ctid OPERATOR(pg_catalog.=) ANY (ARRAY("
"   SELECT c2.ctid FROM train_data.job_close_checks c2"
"    WHERE NOT EXISTS (SELECT FROM train_data.batch_jobs j"
"                       WHERE j.id OPERATOR(pg_catalog.=) c2.batch_job_id)"
"    ORDER BY c2.batch_job_id"
"    LIMIT " CppAsString2(CHECKS_PER_LOOK) " FOR UPDATE SKIP LOCKED))";

static const char *const check_sql = "SELECT train_data.finish_job_if_done($1)";
static const char *const stop_sql = "SELECT train_data.stop_job($1)";

static SPIPlanPtr take_plan;
static SPIPlanPtr orphans_plan;
static SPIPlanPtr check_plan;
static SPIPlanPtr stop_plan;
static TimestampTz last_look = 0;	/* 0: never */

/*
 * Run a kept plan (generic, prepared on first use); the count of rows.
 * With loops_only, planned (and, whenever PostgreSQL plans it again,
 * re-planned) with nested loops only: a check reads its job by its key,
 * where a merge join would read the jobs' index from its start.
 */
static uint64
run(SPIPlanPtr *slot, const char *sql, int nargs, Datum *args, bool loops_only)
{
	static const Oid types[1] = {UUIDOID};
	int			nest = NewGUCNestLevel();
	int			rc;

	if (loops_only)
	{
		(void) set_config_option("enable_mergejoin", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
		(void) set_config_option("enable_hashjoin", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	}
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
 * The owed checks, if this session has not looked for CHECKS_EVERY_MS:
 * each job taken checked once.  True when a job was checked (it may have
 * closed: the caller's commit must then wait for the disk).  Call it
 * connected to SPI.
 */
bool
td_check_owed_closes(void)
{
	TimestampTz clock = GetCurrentTimestamp();
	owed_job	jobs[CHECKS_PER_LOOK];
	int			n = 0;
	uint64		rows;

	if (last_look != 0 && !TimestampDifferenceExceeds(last_look, clock, CHECKS_EVERY_MS))
		return false;
	last_look = clock;
	(void) run(&orphans_plan, orphans_sql, 0, NULL, true);
	rows = run(&take_plan, take_sql, 0, NULL, true);
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
		Datum		arg = UUIDPGetDatum(&jobs[i].id);

		CHECK_FOR_INTERRUPTS();
		if (jobs[i].stop)
			(void) run(&stop_plan, stop_sql, 1, &arg, false);
		else
			(void) run(&check_plan, check_sql, 1, &arg, false);
		SPI_freetuptable(SPI_tuptable);
	}
	return n > 0;
}
