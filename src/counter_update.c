/*
 * counter_update.c — the engine's addition to a job's counters, made in a
 * free shard without a statement.
 *
 * Every claim and every completion adds to a job's live counters
 * (counter_shards.c).  As statements, that was an UPDATE whose sub-select
 * picks and locks the shard (FOR UPDATE SKIP LOCKED: the shard of this
 * backend's process id, else the first of the engine's range no other
 * transaction holds, each a statement of its own) and, for a final event,
 * reads the job's clock: about a tenth of a worker's cycle for one row.
 * Here that is done as the statements do it: the shards are found through
 * the primary key with a new snapshot (the command counter advanced),
 * the preferred one first, then the range 16-31 in order, each locked as
 * the UPDATE locks it unless another transaction holds it (its newest
 * version, which must still be such a shard, as the statement's recheck
 * would have it), given the sums (kept in the int4 range) and, for a final
 * event, the rate from the job's active clock, checked against the table's
 * NOT NULL and CHECK constraints, and written with its index entries when
 * the update is not HOT.
 *
 * It writes nothing and returns false, for counter_shards.c's statements
 * to do the work, whenever they could do more or otherwise: the checks of
 * native_write.c (a caller without the extension owner's privileges, a
 * read-only transaction, row-level security or a missing privilege, a
 * rule, a generated column, another table access method, an executor
 * permission hook), a transaction that reads from one snapshot (whose
 * errors the statement raises), an update trigger other than the
 * immediate foreign-key check of columns left unchanged (whose check can
 * only pass: the key is not changed, and the shard's lock keeps the job
 * from being deleted before this transaction ends), events of an after
 * trigger still pending on the table, no shard free (the statements make
 * a new one), or a NULL count.  A shard locked and then passed back is
 * updated by the statement, which locks it again.
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/bitmapset.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "counter_shards.h"
#include "eta.h"
#include "native_write.h"
#include "train_data.h"

/* The counts a call adds to, in td_counters_update_native's order, and the rate's columns. */
enum
{
	COL_COMPLETED, COL_FAILED, COL_CANCELLED, COL_IN_FLIGHT, COL_EWMA, COL_LAST_ACTIVE,
	COL_JOB, COL_SHARD, N_COLS
};

static const td_native_column shard_columns[N_COLS] = {
	{"completed_items", INT4OID}, {"failed_items", INT4OID}, {"cancelled_items", INT4OID},
	{"in_flight", INT4OID}, {"interval_ewma", FLOAT8OID}, {"last_active", FLOAT8OID},
	{"batch_job_id", UUIDOID}, {"shard", INT2OID}
};

/* The job row's columns the active clock reads, in td_job_active_seconds_now's order. */
#define CLOCK_COLS 3
static const td_native_column clock_columns[CLOCK_COLS] = {
	{"started_at", TIMESTAMPTZOID}, {"paused_time", INTERVALOID}, {"paused_at", TIMESTAMPTZOID}
};

/*
 * The job's active clock now, as the statement reads it (NULL, here NaN,
 * without a job row the snapshot sees); NaN also when the table is not as
 * expected, after which *usable is false.
 */
static double
job_clock(Oid jobs_oid, Datum job, Snapshot snap, bool *usable)
{
	Relation	jobs = table_open(jobs_oid, AccessShareLock);
	static const td_native_column id_column = {"id", UUIDOID};
	AttrNumber	id_col;
	AttrNumber	cols[CLOCK_COLS];
	Relation	index = NULL;
	double		active = NAN;

	*usable = td_native_find_columns(jobs, &id_column, 1, &id_col) &&
		td_native_find_columns(jobs, clock_columns, CLOCK_COLS, cols);
	if (*usable)
		index = td_native_open_key(jobs, &id_col, 1);
	*usable = *usable && index != NULL;
	if (*usable)
	{
		TupleTableSlot *slot = table_slot_create(jobs, NULL);
		ScanKeyData key;

		ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_UUID_EQ, job);
		if (td_native_fetch_by_key(jobs, index, snap, &key, 1, slot))
		{
			Datum		v[CLOCK_COLS];
			bool		n[CLOCK_COLS];

			for (int i = 0; i < CLOCK_COLS; i++)
				v[i] = slot_getattr(slot, cols[i], &n[i]);
			active = td_job_active_seconds_now(v, n);
		}
		ExecDropSingleTupleTableSlot(slot);
		index_close(index, NoLock);
	}
	table_close(jobs, NoLock);
	return active;
}

/* old + add, kept in the int4 range. */
static int32
clamped_sum(Datum old, int32 add)
{
	int64		sum = (int64) DatumGetInt32(old) + add;

	return (int32) Max(Min(sum, PG_INT32_MAX), PG_INT32_MIN);
}

/* A float8 Datum, or NULL (*isnull) for NaN standing for NULL. */
static Datum
nullable_double(double d, bool *isnull)
{
	*isnull = isnan(d);
	return *isnull ? (Datum) 0 : Float8GetDatum(d);
}

/*
 * The new version of the locked shard in old: the counts added, and for a
 * final event (active: the job's clock) the rate observed; false when a
 * count is NULL.
 */
static bool
new_version(TupleTableSlot *old, TupleTableSlot *new, const AttrNumber *cols, const int32 *add,
			bool final_event, double active)
{
	int			natts = old->tts_tupleDescriptor->natts;

	slot_getallattrs(old);
	ExecClearTuple(new);
	memcpy(new->tts_values, old->tts_values, natts * sizeof(Datum));
	memcpy(new->tts_isnull, old->tts_isnull, natts * sizeof(bool));
	for (int c = COL_COMPLETED; c <= COL_IN_FLIGHT; c++)
	{
		int			i = cols[c] - 1;

		if (old->tts_isnull[i])
			return false;
		new->tts_values[i] = Int32GetDatum(clamped_sum(old->tts_values[i], add[c]));
	}
	if (final_event)
	{
		int			e = cols[COL_EWMA] - 1;
		int			l = cols[COL_LAST_ACTIVE] - 1;
		double		ewma = old->tts_isnull[e] ? NAN : DatumGetFloat8(old->tts_values[e]);
		double		last = old->tts_isnull[l] ? NAN : DatumGetFloat8(old->tts_values[l]);

		new->tts_values[e] = isnan(active) ? (Datum) 0 : Float8GetDatum(td_eta_observe(ewma, last, active));
		new->tts_isnull[e] = isnan(active);
		new->tts_values[l] = nullable_double(active, &new->tts_isnull[l]);
	}
	ExecStoreVirtualTuple(new);
	return true;
}

/* Is the version in slot a shard of job numbered from .. to? */
static bool
shard_within(TupleTableSlot *slot, const AttrNumber *cols, Datum job, int16 from, int16 to)
{
	bool		isnull;
	Datum		shard = slot_getattr(slot, cols[COL_SHARD], &isnull);

	return !isnull && DatumGetInt16(shard) >= from && DatumGetInt16(shard) <= to &&
		td_native_key_equals(slot, cols[COL_JOB], job, F_UUID_EQ);
}

/*
 * Lock the first shard of job numbered from .. to (by number, as snap sees
 * them) that no other transaction holds, its newest version into slot
 * (found: the scan's); false when there is none.  A version that is no
 * longer such a shard is passed over, as the statement's recheck would.
 */
static bool
lock_first_free(Relation rel, const AttrNumber *cols, Relation key, Snapshot snap, Datum job, int16 from, int16 to,
				TupleTableSlot *found, TupleTableSlot *slot)
{
	ScanKeyData keys[3];
	IndexScanDesc scan = index_beginscan(rel, key, snap, 3, 0);
	bool		locked = false;

	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_UUID_EQ, job);
	ScanKeyInit(&keys[1], 2, BTGreaterEqualStrategyNumber, F_INT2GE, Int16GetDatum(from));
	ScanKeyInit(&keys[2], 2, BTLessEqualStrategyNumber, F_INT2LE, Int16GetDatum(to));
	index_rescan(scan, keys, 3, NULL, 0);
	while (!locked && index_getnext_slot(scan, ForwardScanDirection, found))
	{
		ItemPointerData tid = found->tts_tid;

		CHECK_FOR_INTERRUPTS();
		locked = td_native_lock_newest(rel, snap, &tid, slot, LockTupleNoKeyExclusive, LockWaitSkip) &&
			shard_within(slot, cols, job, from, to);
	}
	index_endscan(scan);
	return locked;
}

/*
 * Add to a shard of the locked table rel, whose columns are cols: the
 * preferred one, else the first free one; false (nothing written) when
 * the job has none free and the statements must make one.
 */
static bool
update_free_shard(Relation rel, const AttrNumber *cols, Oid jobs_oid, Datum job, const int32 *add,
				 bool final_event)
{
	Relation	key = td_native_open_key(rel, &cols[COL_JOB], 2);
	EState	   *estate;
	td_native_table w = {0};
	TupleTableSlot *found;
	TupleTableSlot *old;
	TupleTableSlot *new;
	Snapshot	snap;
	int16		preferred = (int16) (MyProcPid % 16 + 16);
	bool		ok;

	if (key == NULL)
		return false;
	estate = CreateExecutorState();
	td_native_begin_update(&w, rel, estate);
	found = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), table_slot_callbacks(rel));
	old = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), table_slot_callbacks(rel));
	new = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), &TTSOpsVirtual);
	/* as a statement: the command counter advanced, a new snapshot */
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	snap = GetActiveSnapshot();
	/*
	 * the preferred shard, else the first free one of the engine's range,
	 * 16-31 (no row-level security applies here), as PICK_PREFERRED and
	 * PICK_FREE pick them
	 */
	ok = lock_first_free(rel, cols, key, snap, job, preferred, preferred, found, old) ||
		lock_first_free(rel, cols, key, snap, job, 16, 31, found, old);
	if (ok)
	{
		double		active = NAN;

		if (final_event)
			active = job_clock(jobs_oid, job, snap, &ok);
		ok = ok && new_version(old, new, cols, add, final_event, active);
	}
	if (ok)
		td_native_update_row(&w, estate, old, new, snap);
	PopActiveSnapshot();
	td_native_end(&w);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	index_close(key, NoLock);
	return ok;
}

/* See counter_shards.h. */
bool
td_counters_update_native(Datum job, const int32 *add, bool final_event)
{
	Oid			nsp;
	Oid			relid;
	Oid			jobs_oid;
	Relation	rel;
	AttrNumber	cols[N_COLS];
	bool		ok;

	/* (checked before any lock: a role refused here holds none) */
	if (!td_native_writes_here() || IsolationUsesXactSnapshot())
		return false;
	nsp = get_namespace_oid("train_data", false);
	relid = get_relname_relid("batch_job_counters", nsp);
	jobs_oid = get_relname_relid("batch_jobs", nsp);
	if (!td_native_table_allowed(relid, ACL_UPDATE) || !td_native_table_allowed(relid, ACL_SELECT) ||
		(final_event && !td_native_table_allowed(jobs_oid, ACL_SELECT)))
		return false;
	/* the lock the UPDATE takes */
	rel = table_open(relid, RowExclusiveLock);
	ok = td_native_plain_table(rel) && td_native_table_allowed(relid, ACL_UPDATE);
	ok = ok && td_native_find_columns(rel, shard_columns, N_COLS, cols) &&
		td_native_update_triggers_ok(rel, cols, COL_JOB);	/* (the counts and the rate change) */
	if (ok)
	{
		/* a publication may refuse updates of a table without a replica identity, as the UPDATE would */
		CheckCmdReplicaIdentity(rel, CMD_UPDATE);
		ok = update_free_shard(rel, cols, jobs_oid, job, add, final_event);
	}
	table_close(rel, NoLock);
	return ok;
}
