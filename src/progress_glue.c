/*
 * progress_glue.c — SQL entry points of batch progress and time remaining:
 * calculate_batch_progress(), estimate_time_remaining(), batch_progress()
 * and eta_observe().  The arithmetic is the pure core in core/eta.c.
 *
 * A job's state is read with one prepared statement through SPI, so
 * row-level security applies exactly as to the caller's own queries: a job
 * the caller cannot see reads as no job at all.  The statement touches the
 * job row and at most 16 counter shards, whatever the number of items.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "eta.h"

PG_FUNCTION_INFO_V1(train_data_calculate_batch_progress);
PG_FUNCTION_INFO_V1(train_data_estimate_time_remaining);
PG_FUNCTION_INFO_V1(train_data_batch_progress);
PG_FUNCTION_INFO_V1(train_data_eta_observe);
PG_FUNCTION_INFO_V1(train_data_job_active_seconds);

/* Everything known about a job at one instant. */
typedef struct job_state
{
	bool		found;
	Datum		status;			/* batch_job_status (an enum's OID) */
	bool		final;
	TimestampTz started_at;
	bool		started_null;
	TimestampTz completed_at;
	bool		completed_null;
	td_eta_shard shards[TD_ETA_SHARDS];
	td_eta_input eta;
} job_state;

static SPIPlanPtr job_plan = NULL;

/*
 * The job and its counter shards.  Every name and operator is qualified: the
 * plan is kept for the session, and an operator of the same name in a
 * schema on the caller's search_path must not stand in for the built-in one.
 */
static const char *const job_query =
"SELECT j.status, j.total_items, j.started_at, j.completed_at, j.paused_time, j.paused_at,"
"       c.completed_items, c.failed_items, c.cancelled_items, c.in_flight, c.interval_ewma, c.last_active,"
"       j.status OPERATOR(pg_catalog.=) ANY"
"         ('{completed,failed,cancelled}'::train_data.batch_job_status[])"
"  FROM train_data.batch_jobs j"
"  LEFT JOIN train_data.batch_job_counters c ON c.batch_job_id OPERATOR(pg_catalog.=) j.id"
" WHERE j.id OPERATOR(pg_catalog.=) $1";

/* Column i (1-based) of the current SPI row as a datum; *isnull set. */
static Datum
col(HeapTuple tuple, int i, bool *isnull)
{
	return SPI_getbinval(tuple, SPI_tuptable->tupdesc, i, isnull);
}

/* An int4 column, 0 when NULL. */
static long
col_long(HeapTuple tuple, int i)
{
	bool		isnull;
	Datum		d = col(tuple, i, &isnull);

	return isnull ? 0 : DatumGetInt32(d);
}

/* A float8 column, NaN when NULL. */
static double
col_double(HeapTuple tuple, int i)
{
	bool		isnull;
	Datum		d = col(tuple, i, &isnull);

	return isnull ? NAN : DatumGetFloat8(d);
}

/* A timestamptz as seconds since the PostgreSQL epoch. */
static double
ts_seconds(TimestampTz t)
{
	return (double) t / USECS_PER_SEC;
}

/* An interval as seconds (days of 24 hours, months of 30 days). */
static double
interval_seconds(const Interval *iv)
{
	return (double) iv->time / USECS_PER_SEC + iv->day * (double) SECS_PER_DAY +
		iv->month * (double) DAYS_PER_MONTH * SECS_PER_DAY;
}

/* A nullable timestamptz column as seconds, NaN when NULL. */
static double
col_ts(HeapTuple tuple, int i, TimestampTz *out, bool *isnull)
{
	Datum		d = SPI_getbinval(tuple, SPI_tuptable->tupdesc, i, isnull);

	if (*isnull)
		return NAN;
	*out = DatumGetTimestampTz(d);
	return ts_seconds(*out);
}

/* Read the job and its counter shards into *st (st->found false if none). */
static void
fetch_job_state(Datum job_id, job_state *st)
{
	Datum		args[1] = {job_id};
	HeapTuple	row;
	bool		isnull;

	memset(st, 0, sizeof(*st));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (job_plan == NULL)
	{
		Oid			argtypes[1] = {UUIDOID};
		SPIPlanPtr	plan = SPI_prepare(job_query, 1, argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		job_plan = plan;
	}
	if (SPI_execute_plan(job_plan, args, NULL, true, TD_ETA_SHARDS + 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed");

	if (SPI_processed > 0)
	{
		row = SPI_tuptable->vals[0];
		st->found = true;
		st->status = col(row, 1, &isnull);
		st->final = DatumGetBool(col(row, 13, &isnull));
		st->eta.total = col_long(row, 2);
		{
			TimestampTz paused_at;
			bool		paused_null;
			double		started = col_ts(row, 3, &st->started_at, &st->started_null);
			double		completed = col_ts(row, 4, &st->completed_at, &st->completed_null);
			Datum		paused_time = col(row, 5, &isnull);
			double		paused = col_ts(row, 6, &paused_at, &paused_null);

			st->eta.active_now = td_active_seconds(started,
												   isnull ? 0.0 : interval_seconds(DatumGetIntervalP(paused_time)),
												   paused, completed,
												   ts_seconds(GetCurrentTransactionStartTimestamp()));
		}
		st->eta.final = st->final;
		st->eta.shards = st->shards;
		for (uint64 i = 0; i < SPI_processed && i < TD_ETA_SHARDS; i++)
		{
			row = SPI_tuptable->vals[i];
			st->eta.completed += col_long(row, 7);
			st->eta.failed += col_long(row, 8);
			st->eta.cancelled += col_long(row, 9);
			st->eta.in_flight += col_long(row, 10);
			st->shards[st->eta.nshards].interval_ewma = col_double(row, 11);
			st->shards[st->eta.nshards].last_active = col_double(row, 12);
			st->eta.nshards++;
		}
	}
	SPI_finish();
}

/* Percent of items in a final state as numeric with two decimals. */
static Datum
percent_datum(const job_state *st)
{
	long		h = td_progress_hundredths(st->eta.completed + st->eta.failed + st->eta.cancelled,
										   st->eta.total);
	char		buf[32];

	snprintf(buf, sizeof(buf), "%ld.%02ld", h / 100, h % 100);
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid),
							   Int32GetDatum(-1));
}

/* The estimate as an interval, or false when unknown. */
static bool
eta_interval(const job_state *st, Interval **out)
{
	double		seconds = td_eta_estimate(&st->eta);
	Interval   *iv;

	if (seconds < 0 || !isfinite(seconds))
		return false;
	iv = (Interval *) palloc0(sizeof(Interval));
	if (seconds > 1e12)
		seconds = 1e12;
	iv->time = (TimeOffset) llround(seconds * USECS_PER_SEC);
	*out = iv;
	return true;
}

/* A job id argument; NULL ids read as unknown jobs. */
static bool
job_arg(FunctionCallInfo fcinfo, job_state *st)
{
	if (PG_ARGISNULL(0))
		return false;
	fetch_job_state(PG_GETARG_DATUM(0), st);
	return st->found;
}

/*
 * calculate_batch_progress(job_id uuid) returns numeric — percent of items
 * in a final state, two decimals; 0 for an empty job; NULL for an unknown
 * or invisible job.
 */
Datum
train_data_calculate_batch_progress(PG_FUNCTION_ARGS)
{
	job_state	st;

	if (!job_arg(fcinfo, &st))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(percent_datum(&st));
}

/*
 * estimate_time_remaining(job_id uuid) returns interval — NULL while nothing
 * has finished (or for an unknown job), '0' once the job is final.
 */
Datum
train_data_estimate_time_remaining(PG_FUNCTION_ARGS)
{
	job_state	st;
	Interval   *iv;

	if (!job_arg(fcinfo, &st) || !eta_interval(&st, &iv))
		PG_RETURN_NULL();
	PG_RETURN_INTERVAL_P(iv);
}

/*
 * batch_progress(job_id uuid) returns one row of counts, percent, estimate,
 * throughput and times; no row for an unknown or invisible job.
 */
Datum
train_data_batch_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	job_state	st;
	Datum		values[13];
	bool		nulls[13] = {0};
	Interval   *iv;
	double		rate;
	char		buf[64];
	long		queued;

	InitMaterializedSRF(fcinfo, 0);
	if (!job_arg(fcinfo, &st))
		return (Datum) 0;

	queued = st.eta.total - st.eta.completed - st.eta.failed - st.eta.cancelled - st.eta.in_flight;
	values[0] = PG_GETARG_DATUM(0);
	values[1] = st.status;
	values[2] = Int32GetDatum((int32) st.eta.total);
	values[3] = Int32GetDatum((int32) (queued > 0 ? queued : 0));
	values[4] = Int32GetDatum((int32) st.eta.in_flight);
	values[5] = Int32GetDatum((int32) st.eta.completed);
	values[6] = Int32GetDatum((int32) st.eta.failed);
	values[7] = Int32GetDatum((int32) st.eta.cancelled);
	values[8] = percent_datum(&st);
	if (eta_interval(&st, &iv))
		values[9] = IntervalPGetDatum(iv);
	else
		nulls[9] = true;
	rate = td_eta_rate(&st.eta);
	if (rate > 0 && !st.final)
	{
		snprintf(buf, sizeof(buf), "%.1f", rate * 60.0);
		values[10] = DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid),
										 Int32GetDatum(-1));
	}
	else if (st.final && st.eta.active_now > 0)
	{
		snprintf(buf, sizeof(buf), "%.1f", (st.eta.completed + st.eta.failed) * 60.0 / st.eta.active_now);
		values[10] = DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid),
										 Int32GetDatum(-1));
	}
	else
		nulls[10] = true;
	values[11] = TimestampTzGetDatum(st.started_at);
	nulls[11] = st.started_null;
	values[12] = TimestampTzGetDatum(st.completed_at);
	nulls[12] = st.completed_null;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/*
 * eta_observe(interval_ewma float8, last_active float8, active_now float8)
 * returns float8 — a shard's smoothed interval after a final event.
 */
Datum
train_data_eta_observe(PG_FUNCTION_ARGS)
{
	double		ewma = PG_ARGISNULL(0) ? NAN : PG_GETARG_FLOAT8(0);
	double		last = PG_ARGISNULL(1) ? NAN : PG_GETARG_FLOAT8(1);

	if (PG_ARGISNULL(2))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(td_eta_observe(ewma, last, PG_GETARG_FLOAT8(2)));
}

/* A nullable timestamptz argument as seconds, NaN when NULL. */
static double
ts_arg(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NAN : ts_seconds(PG_GETARG_TIMESTAMPTZ(argno));
}

/*
 * job_active_seconds(started_at, paused_time, paused_at, completed_at, at)
 * returns float8 — see td_active_seconds().
 */
Datum
train_data_job_active_seconds(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(4))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(td_active_seconds(ts_arg(fcinfo, 0),
									   PG_ARGISNULL(1) ? 0.0 : interval_seconds(PG_GETARG_INTERVAL_P(1)),
									   ts_arg(fcinfo, 2), ts_arg(fcinfo, 3), ts_arg(fcinfo, 4)));
}
