/*
 * progress_glue.c — SQL entry points of batch progress and time remaining:
 * calculate_batch_progress(), estimate_time_remaining(), batch_progress()
 * and eta_observe().  The arithmetic is the pure core in core/eta.c.
 *
 * A job's state is the job row and at most 32 counter shards, whatever the
 * number of items.  They are read natively: an index scan of each primary
 * key, under the caller's snapshot, with ACCESS SHARE locks, as a SELECT
 * would read them.  What a SELECT would check, this checks, in the same
 * order, so that a caller learns what their own SELECT would tell them and
 * nothing more:
 *
 *   1. row-level security is asked whether it applies (check_enable_rls():
 *      the owner, a superuser and BYPASSRLS see every row; row_security = off
 *      is an error when a policy would apply);
 *   2. the SELECT privilege on each table (or on each column read), else
 *      PostgreSQL's own "permission denied for table" error, whether the job
 *      exists or not;
 *   3. each row read is shown to the caller's own policies (row_policy.c),
 *      as compiled for the role in effect: a job the policies hide reads as
 *      no job at all (NULL, no row), a shard they hide is not counted.
 *
 * Nothing about a job is kept between calls: every call reads the rows
 * again, and judges them by the policies as they are (see row_policy.c for
 * when a policy change reaches a backend).  What 1 and 2 find for a table
 * and the role in effect is kept until a catalog change of a relation or
 * a role reaches the backend (td_fact_get(), row_policy.h).  When the policies cannot be
 * evaluated without the planner (a subquery over another table, say), an
 * extension checks table access in the executor (ExecutorCheckPerms_hook),
 * or the tables do not have the columns this code reads, the job is read with
 * one prepared SELECT through SPI instead, where row-level security applies
 * as to any query: slower (about 10-20 microseconds a call), the same
 * answers.
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_index.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/datetime.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "eta.h"
#include "kept_plan.h"
#include "row_policy.h"
#include "train_data.h"

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
"SELECT j.status::train_data.batch_job_status, j.total_items::pg_catalog.int4,"
"       j.started_at::pg_catalog.timestamptz, j.completed_at::pg_catalog.timestamptz,"
"       j.paused_time::pg_catalog.interval, j.paused_at::pg_catalog.timestamptz,"
"       c.completed_items::pg_catalog.int4, c.failed_items::pg_catalog.int4,"
"       c.cancelled_items::pg_catalog.int4, c.in_flight::pg_catalog.int4,"
"       c.interval_ewma::pg_catalog.float8, c.last_active::pg_catalog.float8,"
"       j.status OPERATOR(pg_catalog.=) ANY"
"         ('{completed,failed,cancelled}'::train_data.batch_job_status[])"
"  FROM train_data.batch_jobs j"
"  LEFT JOIN train_data.batch_job_counters c ON c.batch_job_id OPERATOR(pg_catalog.=) j.id"
" WHERE j.id OPERATOR(pg_catalog.=) $1";

/* The columns read of a job, in the order of job_query's first six. */
#define JOB_COLS 6
static const char *const job_columns[JOB_COLS] = {
	"status", "total_items", "started_at", "completed_at", "paused_time", "paused_at"
};
static const Oid job_column_types[JOB_COLS] = {
	InvalidOid /* the status enum */ , INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INTERVALOID, TIMESTAMPTZOID
};

/* The columns read of a counter shard, in the order of job_query's next six. */
#define SHARD_COLS 6
static const char *const shard_columns[SHARD_COLS] = {
	"completed_items", "failed_items", "cancelled_items", "in_flight", "interval_ewma", "last_active"
};
static const Oid shard_column_types[SHARD_COLS] = {
	INT4OID, INT4OID, INT4OID, INT4OID, FLOAT8OID, FLOAT8OID
};

/* The final statuses of a job (job_query's last column). */
#define FINAL_STATUSES 3
static const char *const final_statuses[FINAL_STATUSES] = {"completed", "failed", "cancelled"};

/* An int4 value, 0 when NULL. */
static long
value_long(Datum d, bool isnull)
{
	return isnull ? 0 : DatumGetInt32(d);
}

/* A float8 value, NaN when NULL. */
static double
value_double(Datum d, bool isnull)
{
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

/* A nullable timestamptz value as seconds, NaN when NULL; *out set when not. */
static double
value_ts(Datum d, bool isnull, TimestampTz *out)
{
	if (isnull)
		return NAN;
	*out = DatumGetTimestampTz(d);
	return ts_seconds(*out);
}

/* Record the job row's values (job_columns' order) in *st. */
static void
set_job(job_state *st, const Datum *v, const bool *n, bool final)
{
	double		started = value_ts(v[2], n[2], &st->started_at);
	double		completed = value_ts(v[3], n[3], &st->completed_at);
	TimestampTz paused_at;
	double		paused = value_ts(v[5], n[5], &paused_at);

	st->found = true;
	st->status = v[0];
	st->final = final;
	st->eta.final = final;
	st->eta.total = value_long(v[1], n[1]);
	st->started_null = n[2];
	st->completed_null = n[3];
	st->eta.active_now = td_active_seconds(started, n[4] ? 0.0 : interval_seconds(DatumGetIntervalP(v[4])),
										   paused, completed,
										   ts_seconds(GetCurrentTransactionStartTimestamp()));
	st->eta.shards = st->shards;
}

/* Add a counter shard's values (shard_columns' order) to *st. */
static void
add_shard(job_state *st, const Datum *v, const bool *n)
{
	st->eta.completed += value_long(v[0], n[0]);
	st->eta.failed += value_long(v[1], n[1]);
	st->eta.cancelled += value_long(v[2], n[2]);
	st->eta.in_flight += value_long(v[3], n[3]);
	st->shards[st->eta.nshards].interval_ewma = value_double(v[4], n[4]);
	st->shards[st->eta.nshards].last_active = value_double(v[5], n[5]);
	st->eta.nshards++;
}

/*
 * Read the job and its counter shards into *st with SQL (st->found false if
 * none).
 */
static void
fetch_job_state_sql(Datum job_id, job_state *st)
{
	Datum		args[1] = {job_id};

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	td_kept_plan(&job_plan, job_query, 1, (Oid[]) {UUIDOID}, 0);
	if (SPI_execute_plan(job_plan, args, NULL, true, TD_ETA_SHARDS + 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed");

	for (uint64 i = 0; i < SPI_processed && i < TD_ETA_SHARDS; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		Datum		v[JOB_COLS + SHARD_COLS + 1];
		bool		n[JOB_COLS + SHARD_COLS + 1];

		for (int c = 0; c < JOB_COLS + SHARD_COLS + 1; c++)
			v[c] = SPI_getbinval(row, SPI_tuptable->tupdesc, c + 1, &n[c]);
		if (i == 0)
			set_job(st, v, n, DatumGetBool(v[JOB_COLS + SHARD_COLS]));
		add_shard(st, v + JOB_COLS, n + JOB_COLS);
	}
	SPI_finish();
}

/*
 * Where the native read finds what it reads: the tables, their primary keys
 * and the columns, looked up by name (an updated installation may number its
 * columns differently from a new one).  Reset by any invalidation of either
 * table or its key.
 */
typedef struct progress_layout
{
	bool		valid;			/* looked up since the last invalidation */
	bool		usable;			/* and as expected: else read with SQL */
	Oid			jobs;
	Oid			counters;
	Oid			jobs_key;
	Oid			counters_key;
	AttrNumber	job_id;
	AttrNumber	job_cols[JOB_COLS];
	AttrNumber	shard_job;
	AttrNumber	shard_cols[SHARD_COLS];
	AttrNumber	job_last;		/* the highest of job_cols */
	AttrNumber	shard_last;		/* the highest of shard_cols */
	Oid			final_status[FINAL_STATUSES];
} progress_layout;

static progress_layout layout;
static bool layout_callback_registered = false;

/* Relcache callback: forget the layout when a table it names changes. */
static void
layout_changed(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == layout.jobs || relid == layout.counters ||
		relid == layout.jobs_key || relid == layout.counters_key)
		layout.valid = false;
}

/* The attribute number of a column of the expected type, or 0. */
static AttrNumber
column_of(Oid relid, const char *name, Oid type)
{
	AttrNumber	attnum = get_attnum(relid, name);

	if (attnum <= 0 || (OidIsValid(type) && get_atttype(relid, attnum) != type))
		return InvalidAttrNumber;
	return attnum;
}

/*
 * The primary key of rel (a B-tree, as every unique index) if it has keys
 * columns and attnum first, else InvalidOid.
 */
static Oid
key_on(Relation rel, AttrNumber attnum, int keys)
{
	Oid			key = RelationGetPrimaryKeyIndex(rel);
	HeapTuple	tuple;
	bool		ok = false;

	if (!OidIsValid(key))
		return InvalidOid;
	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(key));
	if (HeapTupleIsValid(tuple))
	{
		Form_pg_index index = (Form_pg_index) GETSTRUCT(tuple);

		ok = index->indnkeyatts == keys && index->indkey.values[0] == attnum;
		ReleaseSysCache(tuple);
	}
	return ok ? key : InvalidOid;
}

/* Look up the tables of the layout by name (no lock needed yet). */
static void
layout_lookup_tables(void)
{
	Oid			nsp = get_namespace_oid("train_data", true);

	if (!layout_callback_registered)
	{
		td_on_relation_change(layout_changed, (Datum) 0);
		layout_callback_registered = true;
	}
	memset(&layout, 0, sizeof(layout));
	layout.jobs = OidIsValid(nsp) ? get_relname_relid("batch_jobs", nsp) : InvalidOid;
	layout.counters = OidIsValid(nsp) ? get_relname_relid("batch_job_counters", nsp) : InvalidOid;
	layout.valid = true;
}

/* Look up the keys, columns and statuses of the (open, locked) tables. */
static void
layout_lookup_columns(Relation jobs, Relation counters)
{
	bool		ok = true;
	Oid			status_type;

	layout.job_id = column_of(layout.jobs, "id", UUIDOID);
	layout.shard_job = column_of(layout.counters, "batch_job_id", UUIDOID);
	ok = layout.job_id != InvalidAttrNumber && layout.shard_job != InvalidAttrNumber;
	for (int i = 0; i < JOB_COLS; i++)
		ok = ok && (layout.job_cols[i] = column_of(layout.jobs, job_columns[i], job_column_types[i])) != 0;
	for (int i = 0; i < SHARD_COLS; i++)
		ok = ok && (layout.shard_cols[i] = column_of(layout.counters, shard_columns[i], shard_column_types[i])) != 0;
	for (int i = 0; i < JOB_COLS; i++)
		layout.job_last = Max(layout.job_last, layout.job_cols[i]);
	for (int i = 0; i < SHARD_COLS; i++)
		layout.shard_last = Max(layout.shard_last, layout.shard_cols[i]);
	if (ok)
	{
		layout.jobs_key = key_on(jobs, layout.job_id, 1);
		layout.counters_key = key_on(counters, layout.shard_job, 2);
		ok = OidIsValid(layout.jobs_key) && OidIsValid(layout.counters_key);
	}
	status_type = ok ? get_atttype(layout.jobs, layout.job_cols[0]) : InvalidOid;
	for (int i = 0; ok && i < FINAL_STATUSES; i++)
	{
		layout.final_status[i] = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
												 ObjectIdGetDatum(status_type),
												 CStringGetDatum(final_statuses[i]));
		ok = OidIsValid(layout.final_status[i]);
	}
	layout.usable = ok;
}

/*
 * Open and lock both tables (ACCESS SHARE, kept to the end of the
 * transaction, as a SELECT's); false when they are not as this code expects
 * (the caller then reads with SQL, which reports what is wrong): plain
 * tables without children (a partitioned or inherited table is read by a
 * SELECT across its children), with the columns and keys of the layout.
 */
static bool
open_tables(Relation *jobs, Relation *counters)
{
	for (int attempt = 0; attempt < 2; attempt++)
	{
		if (!layout.valid)
			layout_lookup_tables();
		if (!OidIsValid(layout.jobs) || !OidIsValid(layout.counters))
			return false;
		*jobs = try_relation_open(layout.jobs, AccessShareLock);
		*counters = *jobs != NULL ? try_relation_open(layout.counters, AccessShareLock) : NULL;
		/* locking processed the pending invalidations: is the layout still current? */
		if (*counters != NULL && layout.valid &&
			(*jobs)->rd_rel->relkind == RELKIND_RELATION && (*counters)->rd_rel->relkind == RELKIND_RELATION &&
			!(*jobs)->rd_rel->relhassubclass && !(*counters)->rd_rel->relhassubclass)
		{
			if (!OidIsValid(layout.jobs_key))
				layout_lookup_columns(*jobs, *counters);
			if (layout.usable)
				return true;
		}
		if (*counters != NULL)
			relation_close(*counters, NoLock);
		if (*jobs != NULL)
			relation_close(*jobs, NoLock);
		if (layout.valid)
			return false;
	}
	return false;
}

/*
 * Fail as a SELECT of the given columns of rel would without the SELECT
 * privilege on the table or on each of those columns.
 */
static void
check_select(Relation rel, AttrNumber key, const AttrNumber *cols, int ncols)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			userid = GetUserId();
	bool		ok;
	int			kept;
	uint64		epoch;

	if (td_fact_get(relid, TD_FACT_SELECT, &kept, &epoch))
		return;					/* (only a yes is kept) */
	ok = pg_class_aclcheck(relid, userid, ACL_SELECT) == ACLCHECK_OK;
	if (!ok)
	{
		ok = pg_attribute_aclcheck(relid, key, userid, ACL_SELECT) == ACLCHECK_OK;
		for (int i = 0; ok && i < ncols; i++)
			ok = pg_attribute_aclcheck(relid, cols[i], userid, ACL_SELECT) == ACLCHECK_OK;
	}
	if (!ok)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(rel));
	td_fact_set(relid, TD_FACT_SELECT, 1, epoch);
}

/* Take a visible row's values into *st; false when the scan should stop. */
typedef bool (*row_taker) (job_state *st, const Datum *v, const bool *n);

/* The job row's values (job_columns' order); one row is all there is. */
static bool
take_job(job_state *st, const Datum *v, const bool *n)
{
	bool		final = false;

	for (int i = 0; i < FINAL_STATUSES && !n[0]; i++)
		final = final || DatumGetObjectId(v[0]) == layout.final_status[i];
	set_job(st, v, n, final);
	return false;
}

/* A counter shard's values; at most TD_ETA_SHARDS are taken. */
static bool
take_shard(job_state *st, const Datum *v, const bool *n)
{
	add_shard(st, v, n);
	return st->eta.nshards < TD_ETA_SHARDS;
}

/*
 * Scan rel by its primary key key for the rows whose first key column is id,
 * handing the columns cols (ncols, the highest last) of each row the caller
 * may see to take, until it says to stop.
 */
static void
scan_visible(Relation rel, Oid key, Datum id, td_row_policy *policy, const AttrNumber *cols,
			 int ncols, AttrNumber last, row_taker take, job_state *st)
{
	Relation	index = index_open(key, AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	ScanKeyData skey;
	IndexScanDesc scan = index_beginscan(rel, index, GetActiveSnapshot(), 1, 0);
	bool		more = true;

	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_UUID_EQ, id);
	index_rescan(scan, &skey, 1, NULL, 0);
	while (more && index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		Datum		v[Max(JOB_COLS, SHARD_COLS)];
		bool		n[Max(JOB_COLS, SHARD_COLS)];

		CHECK_FOR_INTERRUPTS();
		if (policy != NULL && !td_policy_passes(policy, slot))
			continue;
		slot_getsomeattrs(slot, last);
		for (int c = 0; c < ncols; c++)
		{
			v[c] = slot->tts_values[cols[c] - 1];
			n[c] = slot->tts_isnull[cols[c] - 1];
		}
		more = take(st, v, n);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, NoLock);
}

/*
 * The policies of both tables for the caller, begun for one read, once
 * the caller's privileges are checked; false when either needs SQL.
 */
static bool
begin_policies(Relation jobs, Relation counters, td_row_policy **job_policy,
			   td_row_policy **shard_policy)
{
	td_policy_verdict jv = td_policy_for(jobs, job_policy);
	td_policy_verdict sv = td_policy_for(counters, shard_policy);

	if (jv == TD_POLICY_UNSUPPORTED || sv == TD_POLICY_UNSUPPORTED)
		return false;
	/* the executor's order: policies (rewriting), then privileges */
	check_select(jobs, layout.job_id, layout.job_cols, JOB_COLS);
	check_select(counters, layout.shard_job, layout.shard_cols, SHARD_COLS);
	if (*job_policy != NULL && !td_policy_begin(*job_policy))
		return false;
	if (*shard_policy != NULL && *shard_policy != *job_policy && !td_policy_begin(*shard_policy))
	{
		if (*job_policy != NULL)
			td_policy_end(*job_policy);
		return false;
	}
	return true;
}

/* Read the job and its counter shards natively; false when SQL must. */
static bool
fetch_job_state_native(Datum job_id, job_state *st)
{
	Relation	jobs = NULL;
	Relation	counters = NULL;
	td_row_policy *job_policy = NULL;
	td_row_policy *shard_policy = NULL;
	bool		ok;

	/* an extension's own checks of table access (sepgsql, say) run only in a query */
	if (ExecutorCheckPerms_hook != NULL || !open_tables(&jobs, &counters))
		return false;
	ok = begin_policies(jobs, counters, &job_policy, &shard_policy);
	if (ok)
	{
		PG_TRY();
		{
			scan_visible(jobs, layout.jobs_key, job_id, job_policy, layout.job_cols, JOB_COLS,
						 layout.job_last, take_job, st);
			if (st->found)
				scan_visible(counters, layout.counters_key, job_id, shard_policy, layout.shard_cols,
							 SHARD_COLS, layout.shard_last, take_shard, st);
		}
		PG_CATCH();
		{
			if (job_policy != NULL)
				td_policy_abandon(job_policy);
			if (shard_policy != NULL)
				td_policy_abandon(shard_policy);
			PG_RE_THROW();
		}
		PG_END_TRY();
		if (job_policy != NULL)
			td_policy_end(job_policy);
		if (shard_policy != NULL)
			td_policy_end(shard_policy);
	}
	relation_close(counters, NoLock);
	relation_close(jobs, NoLock);
	return ok;
}

/*
 * A native read is under way in this backend: a policy (or anything it
 * calls) that calls a progress function reads with SQL, so the shared
 * layout and policy slots of the read under way stay as it found them.
 */
static bool native_read_active = false;

/* Read the job and its counter shards into *st (st->found false if none). */
static void
fetch_job_state(Datum job_id, job_state *st)
{
	bool		native = false;

	memset(st, 0, sizeof(*st));
	if (!native_read_active)
	{
		native_read_active = true;
		PG_TRY();
		{
			native = fetch_job_state_native(job_id, st);
		}
		PG_FINALLY();
		{
			native_read_active = false;
		}
		PG_END_TRY();
	}
	if (!native)
	{
		memset(st, 0, sizeof(*st));
		fetch_job_state_sql(job_id, st);
	}
}

/* Percent of items in a final state as numeric with two decimals. */
static Datum
percent_datum(const job_state *st)
{
	long		h = td_progress_hundredths(st->eta.completed + st->eta.failed + st->eta.cancelled,
										   st->eta.total);

	return NumericGetDatum(int64_div_fast_to_numeric(h, 2));
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
 * The row type of batch_progress, blessed, kept with the call site
 * (fn_extra) so that a call does not build it again.
 */
static TupleDesc
progress_row_desc(FunctionCallInfo fcinfo)
{
	TupleDesc	desc = (TupleDesc) fcinfo->flinfo->fn_extra;

	if (desc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		TupleDesc	declared;

		if (get_call_result_type(fcinfo, NULL, &declared) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		desc = BlessTupleDesc(CreateTupleDescCopy(declared));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = desc;
	}
	return desc;
}

/* Items per minute with one decimal, or false when there is no rate. */
static bool
items_per_minute(const job_state *st, Datum *out)
{
	double		rate = td_eta_rate(&st->eta);
	char		buf[64];

	if (rate > 0 && !st->final)
		snprintf(buf, sizeof(buf), "%.1f", rate * 60.0);
	else if (st->final && st->eta.active_now > 0)
		snprintf(buf, sizeof(buf), "%.1f", (st->eta.completed + st->eta.failed) * 60.0 / st->eta.active_now);
	else
		return false;
	*out = DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid),
							   Int32GetDatum(-1));
	return true;
}

/*
 * batch_progress(job_id uuid) returns one row of counts, percent, estimate,
 * throughput and times; no row for an unknown or invisible job.  One call
 * gives the whole set (the value-per-call protocol's single result), so no
 * tuplestore is built and nothing is kept between calls.
 */
Datum
train_data_batch_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	job_state	st;
	Datum		values[13];
	bool		nulls[13] = {0};
	Interval   *iv;
	long		queued;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) || (rsinfo->allowedModes & SFRM_ValuePerCall) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	rsinfo->returnMode = SFRM_ValuePerCall;
	if (!job_arg(fcinfo, &st))
	{
		rsinfo->isDone = ExprEndResult;
		PG_RETURN_NULL();
	}

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
	nulls[10] = !items_per_minute(&st, &values[10]);
	values[11] = TimestampTzGetDatum(st.started_at);
	nulls[11] = st.started_null;
	values[12] = TimestampTzGetDatum(st.completed_at);
	nulls[12] = st.completed_null;
	rsinfo->isDone = ExprSingleResult;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(progress_row_desc(fcinfo), values, nulls)));
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

/* See train_data.h. */
double
td_job_active_seconds_now(const Datum *v, const bool *n)
{
	return td_active_seconds(n[0] ? NAN : ts_seconds(DatumGetTimestampTz(v[0])),
							 n[1] ? 0.0 : interval_seconds(DatumGetIntervalP(v[1])),
							 n[2] ? NAN : ts_seconds(DatumGetTimestampTz(v[2])), NAN,
							 ts_seconds(GetCurrentTransactionStartTimestamp()));
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
