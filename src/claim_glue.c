/*
 * claim_glue.c — train_data.claim_batch_items(), the claim, native.
 *
 * A claim is a dozen short statements: leases that ran out first, then a
 * walk over the claim order (claimable_jobs: jobs by priority and age) that
 * takes, job by job, queued items up to each job's free concurrency.  Each statement is
 * prepared once per session and kept (SPI), so a claim plans nothing and
 * pays no interpreter between the statements; it runs as the function's
 * owner (SECURITY DEFINER), with the locking rules of sql/src/10_queue.sql:
 *
 *   - an item in flight holds one of its job's slots (job_claim_slots, which
 *     no user can see or lock): a claim locks free slots below the job's
 *     concurrency with SKIP LOCKED and writes the items it takes into them,
 *     and an item that stops being processed frees its slot (a trigger), so
 *     the cap holds exactly and claims of one job never wait for each
 *     other: they take different slots;
 *   - every item is taken with FOR NO KEY UPDATE SKIP LOCKED: a row another
 *     transaction holds is skipped, never waited for;
 *   - the job row is written only when the job starts, with SKIP LOCKED;
 *   - a job found with nothing queued leaves the claim order: its row is
 *     deleted with SKIP LOCKED, as a transaction queueing an item of the job
 *     holds that row (claimable_job_add), so no queued item is left out;
 *   - a job found with queued items but none to take (held by another
 *     transaction, waiting out a retry) is passed over by the session for a
 *     while (claim_hints.c), so that such jobs cannot slow every claim;
 *   - at most once a second per session, it closes the jobs whose closing
 *     check is owed (close_checks.c), taking their rows with SKIP LOCKED;
 *   - a session starts its scan of a job's queued items where its previous
 *     claim found the first one, and counts the job's items in flight
 *     without a slot only now and then (claim_hints.c), so that the entries
 *     an old snapshot elsewhere keeps are not read at every claim.
 *
 * The claim order is read a few entries per statement (2, then 8, 32, 128,
 * 256), so that passing over many jobs costs few statements; past the
 * first 2, the jobs the claim would visit are asked for a free slot first,
 * in one statement (ST_OPEN_JOBS), and full ones are not visited.
 *
 * The rare steps stay in PL/pgSQL and are called from here: rendering the
 * prompt of an item queued without one (claim_render), failing an item that
 * cannot be sent (claim_fail_item), and the end of a lost lease
 * (cancel_stranded_item, claim_lease_lost).  Every name and operator in the
 * statements is qualified: the plans are kept for the session.  They are
 * generic plans made on the first call, with sequential scans off (the
 * function's SET enable_seqscan): a table small then, such as
 * claimable_jobs, is still read through its index when it has grown.
 * "The first queued item" and "the next queued items" order by (position,
 * id), which only batch_items_claim_idx gives, so no plan passes a job's
 * finished items.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int128.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "claim_hints.h"
#include "counter_shards.h"
#include "engine_cache.h"
#include "kept_plan.h"
#include "train_data.h"

PG_FUNCTION_INFO_V1(train_data_claim_batch_items);

/* The statements of a claim, prepared once per session. */
enum claim_stmt
{
	ST_EXPIRED,					/* leases that ran out, oldest first */
	ST_EXPIRED_FLOOR,			/* the oldest of them left, whoever holds it */
	ST_NEXT_JOBS,				/* the next jobs in the claim order, and
								 * their owners */
	ST_OPEN_JOBS,				/* which of some jobs have a free slot */
	ST_FIRST_QUEUED,			/* a job's first queued item from a position */
	ST_DROP_JOB,				/* take a job out of the claim order */
	ST_JOB,						/* the job's state and usable concurrency */
	ST_JOB_EXISTS,				/* whether a job ST_JOB skipped exists */
	ST_MAKE_SLOTS,				/* a job's ten slots, at its first visit */
	ST_SLOTS,					/* free slots of a job, locked */
	ST_CONFIG,					/* the owner's effective AI configuration */
	ST_QUEUED,					/* a job's next queued items, locked */
	ST_RENDER,					/* the prompt of an item that has none */
	ST_FAIL,					/* fail an item that cannot be sent */
	ST_TAKE,					/* hand an item to the worker */
	ST_BIND,					/* the item taken holds its slot */
	ST_STRANDED,				/* cancel an item whose job has ended */
	ST_LEASE_LOST,				/* fail an item out of attempts */
	ST_START_JOB,				/* the first claim starts the job */
	ST_N
};

typedef struct claim_stmt_def
{
	const char *sql;
	int			nargs;
	Oid			argtypes[5];
} claim_stmt_def;

static const claim_stmt_def stmt_defs[ST_N] = {
	[ST_EXPIRED] = {
		"SELECT i.id, i.batch_job_id, i.prompt IS NULL,"
		"       i.attempts OPERATOR(pg_catalog.>=) i.max_attempts,"
		"       j.status OPERATOR(pg_catalog.=) ANY ('{queued,processing,paused}'::train_data.batch_job_status[]),"
		"       j.created_by, i.lease_expires_at"
		"  FROM train_data.batch_items i"
		"  JOIN train_data.batch_jobs j ON j.id OPERATOR(pg_catalog.=) i.batch_job_id"
		" WHERE i.status OPERATOR(pg_catalog.=) 'processing'"
		"   AND i.lease_expires_at OPERATOR(pg_catalog.<=) pg_catalog.now()"
		"   AND i.lease_expires_at OPERATOR(pg_catalog.>=) $2"	/* the session's floor: run_expired */
		" ORDER BY i.lease_expires_at"
		" LIMIT $1"
		/* the job row too: a job its owner holds is passed over, not waited for */
		"   FOR NO KEY UPDATE OF i, j SKIP LOCKED",
		2, {INT4OID, TIMESTAMPTZOID}
	},
	/*
	 * (reads batch_items_lease_idx from $1 and stops at its first entry
	 * visible: planned with sorts off, as ST_EXPIRED.  A min() was planned
	 * either that way or as a scan of batch_items_in_flight_idx, whose
	 * costs tied when few items were in flight: the valgrind run of the
	 * thirty-fourth session's CI saw the second, claim_plans)
	 */
	[ST_EXPIRED_FLOOR] = {
		"SELECT i.lease_expires_at FROM train_data.batch_items i"
		" WHERE i.status OPERATOR(pg_catalog.=) 'processing'"
		"   AND i.lease_expires_at OPERATOR(pg_catalog.<=) pg_catalog.now()"
		"   AND i.lease_expires_at OPERATOR(pg_catalog.>=) $1"
		" ORDER BY 1 LIMIT 1",		/* (1: told apart from ST_EXPIRED by 016_expired_floor) */
		1, {TIMESTAMPTZOID}
	},
	[ST_NEXT_JOBS] = {
		"SELECT c.claim_rank, c.job_created_at, c.batch_job_id, c.xmin, c.created_by"
		"  FROM train_data_internal.claimable_jobs c"
		" WHERE (c.claim_rank, c.job_created_at, c.batch_job_id) OPERATOR(pg_catalog.>) ($1, $2, $3)"
		" ORDER BY c.claim_rank, c.job_created_at, c.batch_job_id"
		" LIMIT $4",
		4, {INT2OID, TIMESTAMPTZOID, UUIDOID, INT4OID}
	},
	/*
	 * Which of the jobs $1 (the entries of the claim order a claim would
	 * visit, past its first 2) have a free slot below their concurrency
	 * (and none held at or above it: lowered, see ST_JOB), or no slots, or
	 * no row: their positions in $1, from 1.  A full job cannot be passed
	 * over by the session (no completion freeing a slot writes anything its
	 * hints could notice), and a visit finds nothing to take there: 1,000
	 * full jobs of one user before another's took 0.2 ms each at every
	 * claim of anyone (a review of 1.2); here a few microseconds.  Asked
	 * only for the entries the claim would visit: in the claim order's
	 * statement, it cost every entry read, those the session passes over
	 * too (60 times their reading; another review).  The slots as this
	 * snapshot sees them: one freed by a completion not yet committed still
	 * looks taken (its row is locked until then anyway).
	 */
	[ST_OPEN_JOBS] = {
		"SELECT x.n::pg_catalog.int4 FROM pg_catalog.unnest($1) WITH ORDINALITY AS x(id, n)"
		" WHERE COALESCE((SELECT sl.n OPERATOR(pg_catalog.=) 0 OR (sl.free AND NOT sl.over)"
		"                   FROM train_data.batch_jobs b"
		"                  CROSS JOIN LATERAL"
		"                        (SELECT pg_catalog.count(*) AS n,"
		"                                COALESCE(pg_catalog.bool_or(s.item_id IS NULL"
		"                                         AND s.slot OPERATOR(pg_catalog.<) b.concurrent_processing), false) AS free,"
		"                                COALESCE(pg_catalog.bool_or(s.item_id IS NOT NULL"
		"                                         AND s.slot OPERATOR(pg_catalog.>=) b.concurrent_processing), false) AS over"
		"                           FROM train_data_internal.job_claim_slots s"
		"                          WHERE s.batch_job_id OPERATOR(pg_catalog.=) b.id) sl"
		"                  WHERE b.id OPERATOR(pg_catalog.=) x.id), true)",
		1, {UUIDARRAYOID}
	},
	/*
	 * The position of a job's first queued item at or after $2, whether
	 * another transaction holds it or it waits out a retry (nothing is
	 * locked): where the claim's scan of the job's queued items starts.
	 */
	[ST_FIRST_QUEUED] = {
		"SELECT i.position FROM train_data.batch_items i"
		" WHERE i.batch_job_id OPERATOR(pg_catalog.=) $1 AND i.status OPERATOR(pg_catalog.=) 'queued'"
		"   AND i.position OPERATOR(pg_catalog.>=) $2"
		" ORDER BY i.position, i.id"	/* batch_items_claim_idx's order */
		" LIMIT 1",
		2, {UUIDOID, INT4OID}
	},
	/*
	 * Take a job out of the claim order when it cannot be claimed from ($2)
	 * or has nothing queued.  A row another transaction holds is left: it is
	 * queueing an item of the job (claimable_job_add) or pausing it.
	 */
	[ST_DROP_JOB] = {
		"DELETE FROM train_data_internal.claimable_jobs c"
		" WHERE c.ctid OPERATOR(pg_catalog.=)"
		"       (SELECT c2.ctid FROM train_data_internal.claimable_jobs c2"
		"         WHERE c2.batch_job_id OPERATOR(pg_catalog.=) $1 FOR UPDATE SKIP LOCKED)"
		"   AND ($2 OR (SELECT i.position FROM train_data.batch_items i"
		"                WHERE i.batch_job_id OPERATOR(pg_catalog.=) $1"
		"                  AND i.status OPERATOR(pg_catalog.=) 'queued'"
		"                ORDER BY i.position, i.id LIMIT 1) IS NULL)",
		2, {UUIDOID, BOOLOID}
	},
	/*
	 * The job's state, its concurrency (0 while an item is in flight in a
	 * slot at or above it: it was lowered, and takes effect once those
	 * items end), its owner, whether its slots exist, and its items in
	 * flight that hold no slot (restored from a dump, which makes the slots
	 * anew and empty; put in flight by 1.1 past ten at once), counted when
	 * $2 (else 0), and the version of its row: see read_job.
	 */
	[ST_JOB] = {
		"SELECT b.status OPERATOR(pg_catalog.=) ANY ('{queued,processing}'::train_data.batch_job_status[]),"
		"       b.status OPERATOR(pg_catalog.=) 'queued',"
		"       CASE WHEN sl.over THEN 0 ELSE b.concurrent_processing END,"
		"       b.created_by,"
		"       sl.n OPERATOR(pg_catalog.>) 0,"
		"       CASE WHEN $2 THEN"
		"            (SELECT pg_catalog.count(*)::pg_catalog.int4 FROM train_data.batch_items i"
		"              WHERE i.batch_job_id OPERATOR(pg_catalog.=) b.id"
		"                AND i.status OPERATOR(pg_catalog.=) 'processing'"
		"                AND i.id OPERATOR(pg_catalog.<>) ALL (sl.held))"
		"            ELSE 0 END,"
		"       b.xmin"
		"  FROM train_data.batch_jobs b"
		/* the job's slots read once: how many, any held at or above the concurrency, the items held */
		"  CROSS JOIN LATERAL"
		"       (SELECT pg_catalog.count(*) AS n,"
		"               COALESCE(pg_catalog.bool_or(s.slot OPERATOR(pg_catalog.>=) b.concurrent_processing"
		"                                           AND s.item_id IS NOT NULL), false) AS over,"
		"               COALESCE(pg_catalog.array_agg(s.item_id) FILTER (WHERE s.item_id IS NOT NULL),"
		"                        '{}'::pg_catalog.uuid[]) AS held"
		"          FROM train_data_internal.job_claim_slots s WHERE s.batch_job_id OPERATOR(pg_catalog.=) b.id) sl"
		" WHERE b.id OPERATOR(pg_catalog.=) $1"
		"   FOR KEY SHARE OF b SKIP LOCKED",	/* the lock the counters' key check takes */
		2, {UUIDOID, BOOLOID}
	},
	[ST_JOB_EXISTS] = {
		"SELECT FROM train_data.batch_jobs b WHERE b.id OPERATOR(pg_catalog.=) $1",
		1, {UUIDOID}
	},
	/*
	 * The slots of a job that has none (a job inserted with triggers off:
	 * jobs get theirs when made); two such first claims wait for each other once.
	 */
	[ST_MAKE_SLOTS] = {
		"INSERT INTO train_data_internal.job_claim_slots (batch_job_id, slot)"
		" SELECT $1, g::pg_catalog.int2 FROM pg_catalog.generate_series(0, 9) g"
		" ON CONFLICT DO NOTHING",
		1, {UUIDOID}
	},
	/* a slot another claim holds is skipped: it is taking that slot, or freeing it */
	[ST_SLOTS] = {
		"SELECT s.slot FROM train_data_internal.job_claim_slots s"
		" WHERE s.batch_job_id OPERATOR(pg_catalog.=) $1 AND s.slot OPERATOR(pg_catalog.<) $2"
		"   AND s.item_id IS NULL"
		" ORDER BY s.slot"
		" LIMIT $3"
		"   FOR NO KEY UPDATE SKIP LOCKED",
		3, {UUIDOID, INT4OID, INT4OID}
	},
	[ST_CONFIG] = {
		"SELECT train_data.get_effective_ai_config($1)",
		1, {UUIDOID}
	},
	[ST_QUEUED] = {
		"SELECT i.id, i.prompt IS NULL"
		"  FROM train_data.batch_items i"
		" WHERE i.batch_job_id OPERATOR(pg_catalog.=) $1 AND i.status OPERATOR(pg_catalog.=) 'queued'"
		"   AND i.position OPERATOR(pg_catalog.>=) $3"	/* the job's first queued item */
		"   AND i.available_at OPERATOR(pg_catalog.<=) pg_catalog.now()"
		" ORDER BY i.position, i.id"	/* batch_items_claim_idx's order */
		" LIMIT $2"
		"   FOR NO KEY UPDATE SKIP LOCKED",
		3, {UUIDOID, INT4OID, INT4OID}
	},
	[ST_RENDER] = {
		"SELECT r.prompt, r.problem"
		"  FROM train_data.batch_items i, train_data.claim_render(i.template_id, i.parameters) r"
		" WHERE i.id OPERATOR(pg_catalog.=) $1",
		1, {UUIDOID}
	},
	[ST_FAIL] = {
		"SELECT train_data.claim_fail_item(i, $2, $3)"
		"  FROM train_data.batch_items i WHERE i.id OPERATOR(pg_catalog.=) $1",
		3, {UUIDOID, TEXTOID, BOOLOID}
	},
	/*
	 * $5: the prompt rendered now, for an item that has none stored.  An
	 * item's first claim starts its lease tokens past the last one of a
	 * deleted item with its id (deleted_item_tokens: a late call of that
	 * item's worker is never taken for this one's).
	 */
	[ST_TAKE] = {
		"UPDATE train_data.batch_items i"
		"   SET status = 'processing', attempts = i.attempts OPERATOR(pg_catalog.+) 1, worker = $2,"
		"       lease_expires_at = pg_catalog.now() OPERATOR(pg_catalog.+) $3,"
		"       started_at = COALESCE(i.started_at, pg_catalog.now()), progress = NULL,"
		"       lost_attempts = CASE WHEN i.status OPERATOR(pg_catalog.=) 'processing'"	/* a lease run out: its call lost */
		"                            THEN train_data.lost_attempt(i) ELSE i.lost_attempts END,"
		"       prompt = COALESCE(i.prompt, $5), request = train_data.claim_request($4, COALESCE(i.prompt, $5)),"
		"       released = CASE WHEN i.attempts OPERATOR(pg_catalog.+) i.released OPERATOR(pg_catalog.=) 0"
		"                       THEN COALESCE((SELECT t.token FROM train_data_internal.deleted_item_tokens t"
		"                                       WHERE t.item_id OPERATOR(pg_catalog.=) i.id), 0)"
		"                       ELSE i.released END"
		" WHERE i.id OPERATOR(pg_catalog.=) $1"
		" RETURNING i.id, i.batch_job_id, i.position, i.tier, i.parameters, i.prompt, i.request,"
		"           i.attempts OPERATOR(pg_catalog.+) i.released,"	/* the lease token */
		"           i.lease_expires_at, $4 OPERATOR(pg_catalog.->>) 'provider',"
		"           $4 OPERATOR(pg_catalog.->>) 'baseUrl'",
		5, {UUIDOID, TEXTOID, INTERVALOID, JSONBOID, TEXTOID}
	},
	/*
	 * The item taken holds the locked free slot (a plain UPDATE, not a
	 * data-modifying WITH in ST_TAKE: check_cache.c serves only plain
	 * statements, and batch_items' constraints were read again per claim).
	 */
	[ST_BIND] = {
		"UPDATE train_data_internal.job_claim_slots s SET item_id = $3"
		" WHERE s.batch_job_id OPERATOR(pg_catalog.=) $1 AND s.slot OPERATOR(pg_catalog.=) $2",
		3, {UUIDOID, INT2OID, UUIDOID}
	},
	[ST_STRANDED] = {
		"SELECT train_data.cancel_stranded_item($1, $2, true)",
		2, {UUIDOID, UUIDOID}
	},
	[ST_LEASE_LOST] = {
		"SELECT train_data.claim_lease_lost($1, $2)",
		2, {UUIDOID, UUIDOID}
	},
	[ST_START_JOB] = {
		"UPDATE train_data.batch_jobs b"
		"   SET status = 'processing', started_at = COALESCE(b.started_at, pg_catalog.now())"
		" WHERE b.id OPERATOR(pg_catalog.=)"
		"       (SELECT b2.id FROM train_data.batch_jobs b2"
		"         WHERE b2.id OPERATOR(pg_catalog.=) $1 AND b2.status OPERATOR(pg_catalog.=) 'queued'"
		"           FOR NO KEY UPDATE SKIP LOCKED)",
		1, {UUIDOID}
	},
};

static SPIPlanPtr stmt_plans[ST_N];

/* One claim call: its arguments and what it has handed out so far. */
typedef struct claim_call
{
	Datum		worker;
	Datum		lease;
	int			max_items;
	int			claimed;
	bool		ended_items;	/* items failed or cancelled: the commit waits */
	ReturnSetInfo *rsinfo;
} claim_call;

/* An item a claim has locked and may take. */
typedef struct claim_item
{
	Datum		id;
	Datum		job;
	bool		prompt_missing;
} claim_item;

/*
 * Run statement st with args (NULL entries where nulls[i]); the rows are in
 * SPI_tuptable, the count is returned.
 */
static uint64
run(enum claim_stmt st, Datum *args, const char *nulls)
{
	int			rc;

	/* a generic plan from the first call: no planning per claim */
	td_kept_plan(&stmt_plans[st], stmt_defs[st].sql, stmt_defs[st].nargs, stmt_defs[st].argtypes,
				 CURSOR_OPT_GENERIC_PLAN);
	rc = SPI_execute_plan(stmt_plans[st], args, nulls, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/* Column i (1-based) of row r of the last result, copied out of it. */
static Datum
value(uint64 r, int i, bool *isnull)
{
	Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, i - 1);
	Datum		d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, i, isnull);

	return *isnull ? (Datum) 0 : datumCopy(d, att->attbyval, att->attlen);
}

/* A boolean column of row r; NULL reads as false. */
static bool
flag(uint64 r, int i)
{
	bool		isnull;
	Datum		d = value(r, i, &isnull);

	return !isnull && DatumGetBool(d);
}

/* The argument checks; the messages name the bad value. */
static void
check_args(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("worker name must not be empty")));
	{
		text	   *worker = PG_GETARG_TEXT_PP(0);
		const char *s = VARDATA_ANY(worker);
		int			len = VARSIZE_ANY_EXHDR(worker);
		int			chars;
		int			k = 0;

		while (k < len && (s[k] == ' ' || (s[k] >= '\t' && s[k] <= '\r')))
			k++;				/* blank: ASCII white space only */
		if (k == len)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("worker name must not be empty")));
		chars = pg_mbstrlen_with_len(s, len);
		if (chars > 200)
			ereport(ERROR, (errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
							errmsg("worker name is %d characters long; the limit is 200", chars)));
	}
	if (PG_ARGISNULL(1) || PG_GETARG_INT32(1) < 1 || PG_GETARG_INT32(1) > 1000)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("max_items must be between 1 and 1000, not %s",
							   PG_ARGISNULL(1) ? "NULL" : psprintf("%d", PG_GETARG_INT32(1)))));
	if (PG_ARGISNULL(2))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("lease must be more than 0 and at most 1 day, not NULL")));
	{
		Datum		lease = PG_GETARG_DATUM(2);
		Interval	zero = {0, 0, 0};
		Interval	day = {0, 1, 0};

		/*
		 * Months are refused: the comparison counts a month as 30 days, but
		 * now() + lease adds calendar months ('1200 mons -35999 days'
		 * compares as 1 day and ends 525 days later).
		 */
		if (DatumGetIntervalP(lease)->month != 0 ||
			DatumGetBool(DirectFunctionCall2(interval_le, lease, IntervalPGetDatum(&zero))) ||
			DatumGetBool(DirectFunctionCall2(interval_gt, lease, IntervalPGetDatum(&day))))
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("lease must be more than 0 and at most 1 day, not %s",
								   DatumGetCString(DirectFunctionCall1(interval_out, lease))),
							errhint("Give a lease in days, hours, minutes and seconds, without months or years.")));
	}
}

/*
 * The lease as an exact duration: its days as 24 hours each.  now() plus a
 * day adds a calendar day, 23 or 25 hours across a daylight-saving change
 * of the session's time zone; a lease is a length of time (found left by
 * earlier sessions: a 1-day lease across such a change).  lease is checked
 * (check_args): no months, more than 0 and at most a day.
 */
static Datum
exact_lease(const Interval *lease)
{
	Interval   *exact = (Interval *) palloc(sizeof(Interval));
	INT128		total = int64_to_int128(lease->time);

	/* in 128 bits: days and time may be far apart, of opposite signs */
	int128_add_int64_mul_int64(&total, lease->day, USECS_PER_DAY);
	exact->month = 0;
	exact->day = 0;
	exact->time = int128_to_int64(total);	/* at most a day: it fits */
	return IntervalPGetDatum(exact);
}

/*
 * Hand one locked item to the worker with config, in slot (a locked free
 * slot of its job; -1 for a lease reclaimed, which keeps its slot): its
 * stored prompt, or one rendered now; an item whose prompt cannot be
 * rendered is failed instead.  True when the item was handed out (a row
 * added to the result).
 */
static bool
take_item(claim_call *call, const claim_item *item, Datum config, int slot)
{
	bool		reclaimed = slot < 0;
	Datum		prompt = (Datum) 0;
	char		prompt_null = 'n';
	Datum		args[5];
	char		nulls[5] = "     ";
	Datum		values[11];
	bool		isnull[11];

	if (item->prompt_missing)
	{
		bool		pnull;
		bool		qnull;
		Datum		problem;

		run(ST_RENDER, (Datum[]) {item->id}, NULL);
		prompt = SPI_processed == 1 ? value(0, 1, &pnull) : (pnull = true, (Datum) 0);
		problem = SPI_processed == 1 ? value(0, 2, &qnull) : (qnull = true, (Datum) 0);
		SPI_freetuptable(SPI_tuptable);
		if (pnull)
		{
			run(ST_FAIL, (Datum[]) {item->id, problem, BoolGetDatum(reclaimed)},
				qnull ? " n " : "   ");
			call->ended_items = true;
			return false;
		}
		prompt_null = ' ';
	}
	args[0] = item->id;
	args[1] = call->worker;
	args[2] = call->lease;
	args[3] = config;
	args[4] = prompt;
	nulls[4] = prompt_null;
	if (run(ST_TAKE, args, nulls) != 1)
		return false;
	for (int i = 0; i < 11; i++)
		values[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull[i]);
	tuplestore_putvalues(call->rsinfo->setResult, call->rsinfo->setDesc, values, isnull);
	SPI_freetuptable(SPI_tuptable);
	if (!reclaimed)
		run(ST_BIND, (Datum[]) {item->job, Int16GetDatum((int16) slot), item->id}, NULL);
	call->claimed++;
	return true;
}

/*
 * The effective AI configuration of a job's owner: the session's copy
 * (engine_cache.c), else read now and kept.
 */
static Datum
owner_config(Datum owner)
{
	bool		isnull;
	Datum		config;
	uint64		since;

	if (td_engine_cache_get(TD_CACHE_CONFIG, DatumGetUUIDP(owner), UUID_LEN, &config, &isnull))
		return config;
	since = td_engine_cache_generation();
	run(ST_CONFIG, &owner, NULL);
	config = value(0, 1, &isnull);
	SPI_freetuptable(SPI_tuptable);
	td_engine_cache_put(TD_CACHE_CONFIG, DatumGetUUIDP(owner), UUID_LEN, config, isnull, -1, false, since);
	return config;
}

/*
 * The floor of the session's scans for leases that ran out.  While any
 * session keeps an old snapshot (a transaction left open, a long pg_dump),
 * the entries of the items that finished since cannot be cleaned up, and
 * once their leases are past, a scan from the oldest lease read every one
 * of them, at every claim (a review of 1.2: 2,273 buffers 40 s into a held
 * snapshot, 19,533 after 160 s, a claim 24 ms instead of 1.3 ms, with
 * 30-second leases).  A scan starts at the floor: the oldest lease run out
 * that the session's last look found left (one another transaction
 * holds: a claim taking it, its owner holding her job), else that look's
 * now().  The look is a statement of its own, made after a scan that
 * found fewer than it could take, at most every EXPIRED_FLOOR_MS, so a
 * scan reads at most that long's entries again; the floor is never above
 * the oldest lease the scan itself took back (a rollback runs them out
 * again).  Every EXPIRED_FULL_SCAN_MS a scan starts from the oldest lease,
 * and so do the next until a look sets the floor again, for what a look
 * cannot see: a claim or heartbeat uncommitted when it looked (whose lease
 * ends before the floor only when it took longer than the lease), the
 * items an earlier claim of a transaction that rolled back took back.
 * Per session; times only, nothing to invalidate.
 */
#define EXPIRED_FLOOR_MS 1000
#define EXPIRED_FULL_SCAN_MS 10000
static TimestampTz expired_floor = DT_NOBEGIN;
static TimestampTz expired_floor_at = 0;	/* 0: never */
static TimestampTz expired_full_at = 0;
static TimestampTz expired_scanned_from = DT_NOBEGIN;	/* the floor of the last scan */

/*
 * ST_EXPIRED, planned (and, whenever PostgreSQL plans it again, re-planned)
 * with sorts off, so that it reads batch_items_lease_idx in its order and
 * stops at the first lease still running.  batch_items_in_flight_idx
 * (batch_job_id, lease_expires_at) has the same predicate; when the
 * statistics show few items in flight, a scan of it and a sort look as
 * cheap, but that scan reads the whole index, with an entry for every item
 * that finished since the table's last vacuum (after 15,000 cycles: 44
 * pages and 90 us a claim, against one page).
 */
static uint64
run_expired(int max_items)
{
	int			nest = NewGUCNestLevel();
	TimestampTz clock = GetCurrentTimestamp(),
				floor = expired_floor;
	uint64		n;

	if (expired_full_at == 0 || TimestampDifferenceExceeds(expired_full_at, clock, EXPIRED_FULL_SCAN_MS))
	{
		TIMESTAMP_NOBEGIN(floor);	/* and from the oldest until a look sets it again */
		expired_floor = floor;
		expired_full_at = clock;
	}
	(void) set_config_option("enable_sort", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	n = run(ST_EXPIRED, (Datum[]) {Int32GetDatum(max_items), TimestampTzGetDatum(floor)}, NULL);
	AtEOXact_GUC(true, nest);
	expired_scanned_from = floor;
	return n;
}

/*
 * After a scan that found fewer than it could take (its rows handled):
 * the new floor, at most every EXPIRED_FLOOR_MS but at once after a scan
 * from the oldest lease (see expired_floor).  Never above taken_from, the
 * oldest lease the scan took back (none: DT_NOEND): the look sees the
 * items taken with their new leases, and if this transaction rolls back,
 * their old ones are run out again (a review of 1.2 found them coming back
 * one claim per 10 s).
 */
static void
raise_expired_floor(TimestampTz taken_from)
{
	TimestampTz clock = GetCurrentTimestamp(),
				floor;
	bool		isnull = true;
	Datum		oldest = (Datum) 0;
	int			nest;

	if (!TIMESTAMP_IS_NOBEGIN(expired_scanned_from) && expired_floor_at != 0 &&
		!TimestampDifferenceExceeds(expired_floor_at, clock, EXPIRED_FLOOR_MS))
		return;
	nest = NewGUCNestLevel();
	(void) set_config_option("enable_sort", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (run(ST_EXPIRED_FLOOR, (Datum[]) {TimestampTzGetDatum(expired_scanned_from)}, NULL) > 0)
		oldest = value(0, 1, &isnull);	/* (none: no lease ran out since the floor) */
	AtEOXact_GUC(true, nest);
	SPI_freetuptable(SPI_tuptable);
	floor = isnull ? GetCurrentTransactionStartTimestamp() : DatumGetTimestampTz(oldest);	/* now() */
	expired_floor = Min(floor, taken_from);
	expired_floor_at = clock;
}

/*
 * Leases that ran out, oldest first, whatever their job: an item with
 * attempts left goes to this worker (it keeps its place in its job's
 * concurrency), one without fails for good, one whose job has ended is
 * cancelled.
 */
static void
reclaim_expired(claim_call *call)
{
	uint64		n = run_expired(call->max_items);
	claim_item *items = palloc(sizeof(claim_item) * (n + 1));
	bool	   *exhausted = palloc(sizeof(bool) * (n + 1));
	bool	   *job_live = palloc(sizeof(bool) * (n + 1));
	Datum	   *owners = palloc(sizeof(Datum) * (n + 1));
	TimestampTz taken_from = DT_NOEND;	/* the oldest lease taken back */
	bool		isnull;

	for (uint64 r = 0; r < n; r++)
	{
		items[r].id = value(r, 1, &isnull);
		items[r].job = value(r, 2, &isnull);
		items[r].prompt_missing = flag(r, 3);
		exhausted[r] = flag(r, 4);
		job_live[r] = flag(r, 5);
		owners[r] = value(r, 6, &isnull);
		taken_from = Min(taken_from, DatumGetTimestampTz(value(r, 7, &isnull)));
	}
	SPI_freetuptable(SPI_tuptable);
	for (uint64 r = 0; r < n; r++)
	{
		CHECK_FOR_INTERRUPTS();
		if (!job_live[r])
		{
			run(ST_STRANDED, (Datum[]) {items[r].id, items[r].job}, NULL);
			call->ended_items = true;
		}
		else if (exhausted[r])
		{
			run(ST_LEASE_LOST, (Datum[]) {items[r].id, items[r].job}, NULL);
			call->ended_items = true;
		}
		else
			take_item(call, &items[r], owner_config(owners[r]), -1);
	}
	if (n < (uint64) call->max_items)
		raise_expired_floor(taken_from);
}

/* What a visit to a job found. */
typedef enum visit_outcome
{
	VISIT_TOOK,					/* items taken (or failed for good) */
	VISIT_LEFT,					/* the job left the claim order */
	VISIT_NOTHING,				/* queued items, none to take now: held by
								 * another transaction or waiting out a retry;
								 * or the job row held by its owner */
	VISIT_HELD					/* to leave the claim order, but its entry
								 * there held by another transaction */
} visit_outcome;

/* Whether statement st finds a row for the job (its result freed: run per visit). */
static bool
finds(enum claim_stmt st, Datum job)
{
	bool		found = run(st, &job, NULL) == 1;

	SPI_freetuptable(SPI_tuptable);
	return found;
}

/*
 * Take a job out of the claim order (ST_DROP_JOB; not_claimable: whatever
 * it holds queued; else only when nothing is queued, as the statement
 * reads it).  A row another transaction holds is left, and the
 * session passes over it (VISIT_HELD): a user's open transaction that
 * wrote her jobs' entries made every claim visit every one of them, 0.1
 * to 0.3 s a claim with 3,000 jobs (a review of 1.2).  It is not counted
 * against her jobs: the other transaction is as often a claim taking the
 * same entry out, and her jobs with work would be passed over for it.
 */
static visit_outcome
drop_job(Datum job, bool not_claimable)
{
	return run(ST_DROP_JOB, (Datum[]) {job, BoolGetDatum(not_claimable)}, NULL) == 1 ? VISIT_LEFT : VISIT_HELD;
}

/*
 * The position of a job's first queued item, 0 when none: looked for from
 * the session's floor for the job's entry in the claim order, and from the
 * first position when there is none past it (claim_hints.c).  The floor is
 * moved there: for the session when the transaction had written nothing
 * before the scan, else for the transaction.  An entry this transaction
 * wrote (it queued, released or retried an item of the job) has no floor:
 * the transaction's next such write leaves the entry's xmin as it is.
 */
static int32
first_queued(const td_claim_entry *entry, Datum job)
{
	bool		for_session = XactLastRecEnd == InvalidXLogRecPtr;	/* nothing written yet */
	bool		own = TransactionIdIsCurrentTransactionId(entry->xmin);
	int32		floor = own ? 1 : td_claim_floor(entry);
	int32		first = 0;
	bool		isnull;

	for (;;)
	{
		if (run(ST_FIRST_QUEUED, (Datum[]) {job, Int32GetDatum(floor)}, NULL) == 1)
			first = DatumGetInt32(value(0, 1, &isnull));
		SPI_freetuptable(SPI_tuptable);
		if (first > 0 || floor <= 1)
			break;
		floor = 1;
	}
	if (first > 0 && !own)
		td_claim_floor_set(entry, first, for_session);
	return first;
}

/*
 * Read the job (ST_JOB: its row share-locked, skipped when another
 * transaction holds it; the row stays in SPI_tuptable) and its items in
 * flight that hold no slot: counted unless this session found none lately
 * at this version of the job's row (claim_hints.c).  False when the row
 * was not read.
 */
static bool
read_job(Datum job, int32 *unheld)
{
	TransactionId seen = td_claim_all_held(job, GetCurrentTimestamp());
	bool		count = !TransactionIdIsValid(seen);
	bool		isnull;

	for (;;)
	{
		TransactionId xmin;

		if (run(ST_JOB, (Datum[]) {job, BoolGetDatum(count)}, NULL) != 1)
			return false;
		xmin = DatumGetTransactionId(value(0, 7, &isnull));
		if (count)
		{
			*unheld = DatumGetInt32(value(0, 6, &isnull));
			td_claim_note_held(job, xmin, GetCurrentTimestamp(), *unheld == 0);
			return true;
		}
		if (xmin == seen)
		{
			*unheld = 0;
			return true;
		}
		SPI_freetuptable(SPI_tuptable);
		count = true;			/* another version of the job's row: count */
	}
}

/*
 * Queued items of one job, by position, up to the free slots of its
 * concurrency this claim can lock (a slot another claim holds is skipped,
 * never waited for: that claim is taking it).  Items in flight that hold
 * no slot (unheld) take places too: the claim locks up to that many more
 * slots than it wants and leaves that many unused.  Every item a claim
 * puts in flight holds a slot, so unheld only falls; each of k claims
 * running at once leaves unheld of the free slots it locked unused, so
 * together they fill at most (free slots - unheld), and the items in
 * flight stay within the concurrency.  The scan of the queued items
 * starts at first, the job's first queued item.
 */
static visit_outcome
claim_from_job(claim_call *call, Datum job, int32 first)
{
	bool		isnull;
	int32		cap;
	int32		want;
	int32		unheld;
	int64		usable;
	bool		not_started;
	bool		has_slots;
	Datum		owner;
	Datum		config;
	uint64		n;
	uint64		nslots;
	int16	   *slots;
	claim_item *items;
	int			taken = 0;

	/*
	 * The job row is share-locked for the counters' foreign key first, with
	 * SKIP LOCKED: a job whose row its owner holds (FOR UPDATE) is passed
	 * over this time instead of making the claim wait on a user.
	 */
	if (!read_job(job, &unheld))
	{
		SPI_freetuptable(SPI_tuptable);
		return finds(ST_JOB_EXISTS, job) ? VISIT_NOTHING : drop_job(job, true);
	}
	if (!flag(0, 1))
	{
		SPI_freetuptable(SPI_tuptable);
		return drop_job(job, true);
	}
	not_started = flag(0, 2);
	cap = DatumGetInt32(value(0, 3, &isnull));
	owner = value(0, 4, &isnull);
	has_slots = flag(0, 5);
	SPI_freetuptable(SPI_tuptable);
	want = Min(cap, call->max_items - call->claimed);
	if (want <= 0 || unheld >= cap)
		return VISIT_TOOK;		/* full, or its concurrency lowered under its items in flight */
	if (!has_slots)
		run(ST_MAKE_SLOTS, &job, NULL);
	nslots = run(ST_SLOTS, (Datum[]) {job, Int32GetDatum(cap), Int32GetDatum(Min(cap, want + unheld))}, NULL);
	usable = Min((int64) nslots - unheld, want);
	if (usable <= 0)
	{
		SPI_freetuptable(SPI_tuptable);
		return VISIT_TOOK;		/* full, or its free slots being taken: nothing to remember */
	}
	slots = palloc(sizeof(int16) * nslots);
	for (uint64 r = 0; r < nslots; r++)
		slots[r] = DatumGetInt16(value(r, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	n = run(ST_QUEUED, (Datum[]) {job, Int32GetDatum((int32) usable), Int32GetDatum(first)}, NULL);
	if (n == 0)
	{
		/* nothing queued at all: out of the claim order; else held or waiting */
		SPI_freetuptable(SPI_tuptable);
		return drop_job(job, false) == VISIT_LEFT ? VISIT_LEFT : VISIT_NOTHING;
	}
	items = palloc(sizeof(claim_item) * (n + 1));
	for (uint64 r = 0; r < n; r++)
	{
		items[r].id = value(r, 1, &isnull);
		items[r].job = job;
		items[r].prompt_missing = flag(r, 2);
	}
	SPI_freetuptable(SPI_tuptable);
	config = owner_config(owner);
	for (uint64 r = 0; r < n; r++)
	{
		CHECK_FOR_INTERRUPTS();
		/* an item failed instead of taken leaves its slot to the next one */
		if (take_item(call, &items[r], config, slots[taken]))
			taken++;
	}
	if (taken == 0)
		return VISIT_TOOK;
	td_add_to_counters(job, 0, 0, 0, taken, false);
	if (not_started)			/* never waits: the owner may hold the job row */
		run(ST_START_JOB, &job, NULL);
	return VISIT_TOOK;
}

/*
 * Within one claim, after OWNER_NOTHING_MAX jobs of one owner found with
 * nothing to take, her further jobs are passed over: whatever she does to
 * her jobs' entries in the claim order (a priority changed back and forth
 * writes them again, so the session's pass-over no longer applies), a claim
 * visits at most that many of her jobs in vain.  Her jobs with work wait at
 * most until the session passes over the ones without (one claim each).
 */
#define OWNER_NOTHING_MAX 4

typedef struct owner_count
{
	pg_uuid_t	owner;			/* the hash key */
	int			nothing;
} owner_count;

/* Has this claim found nothing in OWNER_NOTHING_MAX jobs of the owner (0: none known)? */
static bool
owner_passed(HTAB **tally, Datum owner)
{
	owner_count *c;

	if (*tally == NULL || owner == (Datum) 0)
		return false;
	c = hash_search(*tally, DatumGetUUIDP(owner), HASH_FIND, NULL);
	return c != NULL && c->nothing >= OWNER_NOTHING_MAX;
}

/* Count a job of the owner found with nothing to take (the table made in cxt, the claim's). */
static void
owner_found_nothing(HTAB **tally, Datum owner, MemoryContext cxt)
{
	owner_count *c;
	bool		found;

	if (owner == (Datum) 0)
		return;
	if (*tally == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(pg_uuid_t);
		ctl.entrysize = sizeof(owner_count);
		ctl.hcxt = cxt;
		*tally = hash_create("train_data claim owners", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	c = hash_search(*tally, DatumGetUUIDP(owner), HASH_ENTER, &found);
	c->nothing = found ? c->nothing + 1 : 1;
}

/*
 * A transaction that wrote nothing but claims commits without waiting for
 * its WAL to reach the disk: synchronous_commit off for that commit only,
 * set just before it (XACT_EVENT_PRE_COMMIT).  A crash within the next
 * moment may forget such a claim, and recovery then finds the item as it
 * was before (queued): nothing is half kept, since WAL is replayed in
 * order and any later commit that waits, such as the completion of any
 * item, writes the claim's WAL first.  The worker's completion is refused
 * and the item is claimed again.
 *
 * "Nothing but claims" is told by XactLastRecEnd, the end of the WAL this
 * backend wrote in the current transaction (0 until it writes): 0 or where
 * the previous claim of the transaction left it when a claim starts, and
 * where the last claim left it at the commit.  Any other write, before or
 * after (a completion in the same statement, the caller's own rows, a
 * deferred trigger), moves it, and the commit waits as the caller's
 * setting says.  So does a claim that ended items (failed one out of
 * attempts or without a prompt, cancelled one whose job has ended): like a
 * completion, it decides an item's outcome, may end its job, and tells the
 * job's listeners, who must not hear of what a crash then forgets.
 * train_data.durable_claims = on (read at the commit) keeps the caller's
 * setting for claims too.
 */
static struct
{
	bool		only_claims;	/* the current transaction wrote nothing but claims */
	XLogRecPtr	end;			/* XactLastRecEnd after its last claim */
	bool		registered;
}			claims_commit;

/* The transaction's end: decide at its commit, forget after it (XactCallback). */
static void
claims_commit_callback(XactEvent event, void *arg)
{
	if (!claims_commit.only_claims)
		return;
	if (event == XACT_EVENT_PRE_COMMIT && XactLastRecEnd == claims_commit.end && !td_durable_claims)
		(void) set_config_option("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
	if (event != XACT_EVENT_PRE_COMMIT && event != XACT_EVENT_PARALLEL_PRE_COMMIT &&
		event != XACT_EVENT_PRE_PREPARE)
		claims_commit.only_claims = false;	/* committed, aborted or prepared */
}

/* At a claim's start: has the transaction written nothing but claims so far? */
static bool
claims_only_so_far(void)
{
	return XactLastRecEnd == InvalidXLogRecPtr ||
		(claims_commit.only_claims && XactLastRecEnd == claims_commit.end);
}

/* At a claim's end: remember where its WAL ended, if the transaction still qualifies. */
static void
claims_commit_note(bool qualifies)
{
	if (!claims_commit.registered)
	{
		RegisterXactCallback(claims_commit_callback, NULL);
		claims_commit.registered = true;
	}
	claims_commit.only_claims = qualifies;
	claims_commit.end = XactLastRecEnd;
}

/* The claim order's entries a claim visits without asking ST_OPEN_JOBS first. */
#define FIRST_BATCH 2

/*
 * Of n entries of the claim order (jobs, their keys and owners), those the
 * claim may visit: not passed over by the session or, as the claim stands
 * now, for their owner, and with a free slot (ST_OPEN_JOBS, one statement
 * for those).  The visit checks again what may have changed meanwhile.
 */
static bool *
open_jobs(const Datum *jobs, const td_claim_entry *keys, const Datum *owners, uint64 n,
		  TimestampTz now, HTAB *tally)
{
	bool	   *open = palloc0(sizeof(bool) * n);
	Datum	   *asked = palloc(sizeof(Datum) * n);
	int			nasked = 0;
	int		   *where = palloc(sizeof(int) * n);
	uint64		found;

	for (uint64 r = 0; r < n; r++)
	{
		CHECK_FOR_INTERRUPTS();
		if (td_claim_passed_over(&keys[r], now) || owner_passed(&tally, owners[r]))
			continue;
		where[nasked] = (int) r;
		asked[nasked++] = jobs[r];
	}
	if (nasked == 0)
		return open;
	found = run(ST_OPEN_JOBS, (Datum[]) {PointerGetDatum(construct_array(asked, nasked, UUIDOID, UUID_LEN,
																		   false, TYPALIGN_CHAR))}, NULL);
	for (uint64 k = 0; k < found; k++)
	{
		bool		isnull;
		int32		at = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 1, &isnull));

		if (!isnull && at >= 1 && at <= nasked)
			open[where[at - 1]] = true;
	}
	SPI_freetuptable(SPI_tuptable);
	return open;
}

/*
 * claim_batch_items(worker, max_items, lease): expired leases first, then
 * queued items by the claim order (job priority, job age, job, position).
 * The walk reads only claimable_jobs, which holds the jobs with work to
 * take, so paused, ended and empty jobs cost nothing; a job found with
 * nothing queued leaves it.
 */
Datum
train_data_claim_batch_items(PG_FUNCTION_ARGS)
{
	claim_call	call;
	int16		after_rank = -1;
	TimestampTz after_created = DT_NOBEGIN;
	pg_uuid_t	after_job = {{0}};
	MemoryContext walk;
	MemoryContext visit;
	MemoryContext outer;
	TimestampTz now;
	int			batch = FIRST_BATCH;	/* jobs read per statement: 2, then 8, 32, 128, 256 */
	HTAB	   *tally = NULL;	/* owners' jobs found with nothing to take, this claim */
	bool		only_claims;	/* the transaction wrote nothing else before */

	check_args(fcinfo);
	td_require_read_committed();
	InitMaterializedSRF(fcinfo, 0);
	call.worker = PG_GETARG_DATUM(0);
	call.lease = exact_lease(PG_GETARG_INTERVAL_P(2));
	call.max_items = PG_GETARG_INT32(1);
	call.claimed = 0;
	call.ended_items = false;
	call.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	only_claims = claims_only_so_far();
	reclaim_expired(&call);
	if (td_check_owed_closes())
		call.ended_items = true;	/* a job may have ended: as a completion's */
	/* what one job's visit allocates is freed before the next, a batch of the order's after it */
	walk = AllocSetContextCreate(CurrentMemoryContext, "claim walk", ALLOCSET_SMALL_SIZES);
	visit = AllocSetContextCreate(CurrentMemoryContext, "claim visit", ALLOCSET_SMALL_SIZES);
	outer = CurrentMemoryContext;
	now = GetCurrentTimestamp();
	while (call.claimed < call.max_items)
	{
		uint64		n;
		Datum	   *jobs;
		td_claim_entry *keys;
		Datum	   *owners;
		bool	   *open;
		visit_outcome outcome;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(walk);
		MemoryContextSwitchTo(walk);
		n = run(ST_NEXT_JOBS, (Datum[]) {Int16GetDatum(after_rank), TimestampTzGetDatum(after_created),
										 UUIDPGetDatum(&after_job), Int32GetDatum(batch)}, NULL);
		if (n == 0)
			break;
		jobs = palloc(sizeof(Datum) * n);
		keys = palloc(sizeof(td_claim_entry) * n);
		owners = palloc(sizeof(Datum) * n);
		for (uint64 r = 0; r < n; r++)
		{
			bool		isnull;

			jobs[r] = value(r, 3, &isnull);
			keys[r] = td_claim_entry_of(jobs[r], DatumGetTransactionId(value(r, 4, &isnull)));
			owners[r] = value(r, 5, &isnull);
			if (r == n - 1)		/* the next batch starts after the last row */
			{
				after_rank = DatumGetInt16(value(r, 1, &isnull));
				after_created = DatumGetTimestampTz(value(r, 2, &isnull));
				after_job = *DatumGetUUIDP(jobs[r]);
			}
		}
		SPI_freetuptable(SPI_tuptable);
		open = batch == FIRST_BATCH ? NULL : open_jobs(jobs, keys, owners, n, now, tally);
		for (uint64 r = 0; r < n && call.claimed < call.max_items; r++)
		{
			int32		first;

			CHECK_FOR_INTERRUPTS();
			if (td_claim_passed_over(&keys[r], now) || owner_passed(&tally, owners[r]) ||
				(open != NULL && !open[r]))
				continue;
			MemoryContextReset(visit);
			MemoryContextSwitchTo(visit);
			first = first_queued(&keys[r], jobs[r]);
			/* nothing queued: out of the claim order */
			outcome = first == 0 ? drop_job(jobs[r], false) : claim_from_job(&call, jobs[r], first);
			MemoryContextSwitchTo(walk);
			td_claim_pass_over(&keys[r], GetCurrentTimestamp(),
							   outcome == VISIT_NOTHING || outcome == VISIT_HELD);	/* from the visit's end */
			if (outcome == VISIT_NOTHING)
				owner_found_nothing(&tally, owners[r], outer);
		}
		if ((uint64) batch > n)
			break;				/* the last batch of the order */
		batch = Min(batch * 4, 256);
	}
	MemoryContextSwitchTo(outer);
	SPI_finish();
	claims_commit_note(only_claims && !call.ended_items);
	return (Datum) 0;
}
