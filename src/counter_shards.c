/*
 * counter_shards.c — adding to a batch job's live counters in a shard no
 * other transaction holds.
 *
 * A job's counters are spread over rows ("shards") so that transactions
 * finishing its items at the same time do not queue on one row: the engine
 * writes shards 16-31, a user (cancel_batch, her own cancels) 0-15, which
 * her policies let her write.  A transaction holds the shard it wrote until
 * it ends.  Each backend prefers the shard of its process id; one another
 * transaction holds is passed over for the first free shard of the job,
 * and when none is free a new shard is made (the preferred one when the job
 * has none there, else one of those it lacks, at random); only when the
 * job has all sixteen and holds none free is the preferred one written as
 * an upsert, which waits.  So workers do not wait for each other's shards:
 * before, two workers whose process ids were equal modulo 16 wrote the same
 * row, so a claim waited for a completion that was itself waiting on a
 * user's row lock, and a claim and a batch of completions that took two
 * jobs' shards in opposite orders deadlocked (a soak of the queue, 1.2).
 * The shards are made as they are needed, not with the job: progress reads
 * every shard of a job, and sixteen made up front cost it 1.3 µs a call
 * (3.7 to 5.1 µs).  One wait is left: two transactions making the same new
 * shard at once, the second waits for the first to end (a claim, as a rule:
 * the first to write a job's counters).
 *
 * The engine's common case, a shard of its range there and free (its
 * preferred one, else the first), is done without a statement
 * (counter_update.c); these statements do every other case (a new shard,
 * the upsert), and every user's.
 *
 * Every name and operator in the statements is schema-qualified, so the
 * caller's search_path does not change what they do.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"

#include "counter_shards.h"
#include "kept_plan.h"

/* The first shard of the caller's range: 0 under row-level security (a user), else 16 (the engine). */
#define RANGE_START \
	"(CASE WHEN pg_catalog.row_security_active('train_data.batch_job_counters'::pg_catalog.regclass)" \
	"      THEN 0 ELSE 16 END)"

/* The shard of this backend's process id in the caller's range. */
#define PREFERRED_SHARD \
	"(pg_catalog.pg_backend_pid() OPERATOR(pg_catalog.%) 16 OPERATOR(pg_catalog.+) " RANGE_START ")"

/* Sums in bigint, kept in range: a row its owner wrote cannot overflow. */
#define ADD(col, param) \
	" " col " = LEAST(GREATEST(c." col "::pg_catalog.int8 OPERATOR(pg_catalog.+) " param ", -2147483648), 2147483647)"

/* The counts ($2-$5) added to the row c. */
#define ADD_COUNTS \
	" SET" ADD("completed_items", "$2") "," ADD("failed_items", "$3") "," \
	ADD("cancelled_items", "$4") "," ADD("in_flight", "$5")

/* For a final event, the shard's rate too, from the job's active clock (read once). */
#define ADD_RATE \
	", (interval_ewma, last_active) =" \
	"  (SELECT train_data.eta_observe(c.interval_ewma, c.last_active, a.active), a.active" \
	"     FROM (SELECT (SELECT train_data.job_active_seconds(j.started_at, j.paused_time, j.paused_at, NULL," \
	"                                                         pg_catalog.now())" \
	"                     FROM train_data.batch_jobs j WHERE j.id OPERATOR(pg_catalog.=) $1) AS active) a)"

/*
 * UPDATE of the one shard the sub-select pick chooses and locks: $1 the
 * job, $2-$5 the changes (a plan of its own for a final event, whose rate
 * changes too).
 */
#define UPDATE_PICKED(set, pick) \
	"UPDATE train_data.batch_job_counters AS c" set \
	" WHERE c.batch_job_id OPERATOR(pg_catalog.=) $1 AND c.shard OPERATOR(pg_catalog.=) (" pick ")"

/* 1. The preferred shard, unless another transaction holds it. */
#define PICK_PREFERRED \
	"SELECT f.shard FROM train_data.batch_job_counters f" \
	" WHERE f.batch_job_id OPERATOR(pg_catalog.=) $1" \
	"   AND f.shard OPERATOR(pg_catalog.=) " PREFERRED_SHARD \
	"   FOR UPDATE SKIP LOCKED"

/* 2. The first shard of the range no other transaction holds. */
#define PICK_FREE \
	"SELECT f.shard FROM train_data.batch_job_counters f" \
	" WHERE f.batch_job_id OPERATOR(pg_catalog.=) $1" \
	"   AND f.shard OPERATOR(pg_catalog.>=) " RANGE_START \
	"   AND f.shard OPERATOR(pg_catalog.<=) (" RANGE_START " OPERATOR(pg_catalog.+) 15)" \
	" ORDER BY f.shard LIMIT 1 FOR UPDATE SKIP LOCKED"

static const char *const picked_sql[2][2] = {
	{UPDATE_PICKED(ADD_COUNTS, PICK_PREFERRED), UPDATE_PICKED(ADD_COUNTS ADD_RATE, PICK_PREFERRED)},
	{UPDATE_PICKED(ADD_COUNTS, PICK_FREE), UPDATE_PICKED(ADD_COUNTS ADD_RATE, PICK_FREE)},
};

/*
 * A new shard's row: the owner from the job row (a job the caller cannot
 * see gives a NULL owner, which the table refuses), the counts, and for a
 * final event the rate's first observation.
 */
#define INSERT_SHARD(shard, from) \
	"INSERT INTO train_data.batch_job_counters AS c" \
	"    (batch_job_id, created_by, shard, completed_items, failed_items, cancelled_items, in_flight," \
	"     interval_ewma, last_active)" \
	" SELECT x.job_id, j.created_by, " shard "," \
	"        $2, $3, $4, $5," \
	"        CASE WHEN $6 THEN train_data.eta_observe(NULL, NULL, a.active) END, a.active" \
	" FROM (SELECT $1 AS job_id) x" from \
	" LEFT JOIN train_data.batch_jobs j ON j.id OPERATOR(pg_catalog.=) x.job_id" \
	" CROSS JOIN LATERAL (SELECT CASE WHEN $6 THEN train_data.job_active_seconds(j.started_at, j.paused_time," \
	"                                                     j.paused_at, NULL, pg_catalog.now()) END AS active) a"

/*
 * 3. A shard the job does not have: the preferred one, else one of the
 * others at random (two transactions making one at once would otherwise
 * pick the same, and the second wait for the first); none when it has all.
 */
static const char new_sql[] =
	INSERT_SHARD("s.shard",
				 " CROSS JOIN (SELECT g.shard"
				 "               FROM pg_catalog.generate_series(" RANGE_START ","
				 "                                               " RANGE_START " OPERATOR(pg_catalog.+) 15) g(shard)"
				 "              WHERE NOT EXISTS (SELECT FROM train_data.batch_job_counters f"
				 "                                 WHERE f.batch_job_id OPERATOR(pg_catalog.=) $1"
				 "                                   AND f.shard OPERATOR(pg_catalog.=) g.shard)"
				 "              ORDER BY g.shard OPERATOR(pg_catalog.=) " PREFERRED_SHARD " DESC, pg_catalog.random()"
				 "              LIMIT 1) s")
	" ON CONFLICT (batch_job_id, shard) DO NOTHING";

/* 4. The preferred shard, waited for when another transaction holds it. */
static const char upsert_sql[] =
	INSERT_SHARD(PREFERRED_SHARD, "")
	" ON CONFLICT (batch_job_id, shard) DO UPDATE"
	" SET" ADD("completed_items", "excluded.completed_items") "," ADD("failed_items", "excluded.failed_items") ","
	ADD("cancelled_items", "excluded.cancelled_items") "," ADD("in_flight", "excluded.in_flight") ","
	"     interval_ewma = CASE WHEN $6 THEN train_data.eta_observe(c.interval_ewma, c.last_active,"
	"                                                                excluded.last_active)"
	"                          ELSE c.interval_ewma END,"
	"     last_active = CASE WHEN $6 THEN excluded.last_active ELSE c.last_active END";

static const Oid arg_types[] = {UUIDOID, INT4OID, INT4OID, INT4OID, INT4OID, BOOLOID};

static SPIPlanPtr picked_plans[2][2];
static SPIPlanPtr new_plan;
static SPIPlanPtr upsert_plan;

/* Run the kept statement with the first nargs arguments; the rows it wrote. */
static uint64
run(SPIPlanPtr *slot, const char *sql, int nargs, Datum *args)
{
	/* a generic plan from the first call: no planning per call */
	int			rc = SPI_execute_plan(td_kept_plan(slot, sql, nargs, arg_types, CURSOR_OPT_GENERIC_PLAN),
									  args, NULL, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

void
td_add_to_counters(Datum job, int32 completed, int32 failed, int32 cancelled, int32 in_flight, bool final_event)
{
	Datum		args[] = {job, Int32GetDatum(completed), Int32GetDatum(failed), Int32GetDatum(cancelled),
		Int32GetDatum(in_flight), BoolGetDatum(final_event)};
	int			f = final_event ? 1 : 0;
	const int32 add[] = {completed, failed, cancelled, in_flight};

	if (td_counters_update_native(job, add, final_event))
		return;
	for (int pick = 0; pick < 2; pick++)
	{
		if (run(&picked_plans[pick][f], picked_sql[pick][f], lengthof(arg_types) - 1, args) > 0)
			return;
	}
	if (run(&new_plan, new_sql, lengthof(arg_types), args) > 0)
		return;
	run(&upsert_plan, upsert_sql, lengthof(arg_types), args);
}
