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
 * the pick's FOR UPDATE locks it unless another transaction holds it (its newest
 * version, which must still be such a shard, as the statement's recheck
 * would have it), given the sums (kept in the int4 range) and, for a final
 * event, the rate from the job's active clock, checked against the table's
 * NOT NULL and CHECK constraints, and written with its index entries when
 * the update is not HOT.
 *
 * The UPDATE's foreign-key check of the job key runs only for a shard
 * version this transaction wrote (PostgreSQL checks an unchanged key
 * again then: RI_FKey_fk_upd_check_required); here it is made for that
 * case as the check makes it, the job row read and locked FOR KEY SHARE
 * (waiting as the check waits), and left out otherwise, as the UPDATE
 * leaves it out.
 *
 * It writes nothing and returns false, for counter_shards.c's statements
 * to do the work, whenever they could do more or otherwise: the checks of
 * native_write.c (a caller without the extension owner's privileges, a
 * read-only transaction, row-level security or a missing privilege, a
 * rule, a generated column, a partition or a table with children, another
 * table access method, an executor permission hook), a transaction that
 * reads from one snapshot (whose errors the statement raises), an update
 * trigger other than an immediate foreign-key check of columns left
 * unchanged, events of an after trigger still pending on the table (an
 * insert's key check not yet run), a count or owner column without NOT
 * NULL, no shard free (the statements make a new one), or a check of this
 * transaction's own shard that would fail or that another foreign key
 * would need.  Only that last is found after a row is locked, and that
 * row is one this transaction holds already.
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
#include "catalog/pg_class.h"
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

/* The counts a call adds to, in td_counters_update_native's order, then the rate's and the key's columns. */
enum
{
	COL_COMPLETED, COL_FAILED, COL_CANCELLED, COL_IN_FLIGHT, COL_EWMA, COL_LAST_ACTIVE,
	COL_JOB, COL_SHARD, COL_OWNER, N_COLS
};

static const td_native_column shard_columns[N_COLS] = {
	{"completed_items", INT4OID}, {"failed_items", INT4OID}, {"cancelled_items", INT4OID},
	{"in_flight", INT4OID}, {"interval_ewma", FLOAT8OID}, {"last_active", FLOAT8OID},
	{"batch_job_id", UUIDOID}, {"shard", INT2OID}, {"created_by", UUIDOID}
};

/* The job row's key, then the columns the active clock reads (td_job_active_seconds_now's order). */
enum
{
	JOB_ID, JOB_OWNER, JOB_STARTED, JOB_PAUSED_TIME, JOB_PAUSED_AT, JOB_COLS
};

static const td_native_column job_columns[JOB_COLS] = {
	{"id", UUIDOID}, {"created_by", UUIDOID},
	{"started_at", TIMESTAMPTZOID}, {"paused_time", INTERVALOID}, {"paused_at", TIMESTAMPTZOID}
};

/* The tables an addition reads and writes, locked, and what it found of them. */
typedef struct shard_tables
{
	Relation	rel;			/* batch_job_counters */
	Relation	key;			/* its primary key (batch_job_id, shard) */
	AttrNumber	cols[N_COLS];
	Relation	jobs;			/* batch_jobs */
	Relation	job_key;		/* its primary key (id) */
	AttrNumber	job_cols[JOB_COLS];
	bool		only_job_key;	/* the shards' one foreign key is (batch_job_id, created_by) → jobs */
} shard_tables;

/*
 * Is the shards' one foreign key their job's, (batch_job_id, created_by) →
 * batch_jobs (id, created_by)?
 */
static bool
only_job_key(shard_tables *t)
{
	List	   *fks = RelationGetFKeyList(t->rel);
	ForeignKeyCacheInfo *fk;

	if (list_length(fks) != 1)
		return false;
	fk = linitial_node(ForeignKeyCacheInfo, fks);
	return fk->confrelid == RelationGetRelid(t->jobs) && fk->nkeys == 2 &&
		fk->conkey[0] == t->cols[COL_JOB] && fk->conkey[1] == t->cols[COL_OWNER] &&
		fk->confkey[0] == t->job_cols[JOB_ID] && fk->confkey[1] == t->job_cols[JOB_OWNER];
}

/*
 * The job row (job, owner) read through its primary key with snap into
 * slot; with lock, also locked FOR KEY SHARE (its newest version, which
 * must still have that key), waiting as the key check waits.
 */
static bool
read_job(shard_tables *t, Snapshot snap, Datum job, Datum owner, bool lock, TupleTableSlot *slot)
{
	ScanKeyData key;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_UUID_EQ, job);
	if (!td_native_fetch_by_key(t->jobs, t->job_key, snap, &key, 1, slot))
		return false;
	if (!lock)
		return true;
	return td_native_lock_newest(t->jobs, snap, &slot->tts_tid, slot, LockTupleKeyShare, LockWaitBlock) &&
		td_native_key_equals(slot, t->job_cols[JOB_ID], job, F_UUID_EQ) &&
		td_native_key_equals(slot, t->job_cols[JOB_OWNER], owner, F_UUID_EQ);
}

/*
 * The job's active clock now from its row in slot, as the statement reads
 * it; NaN (NULL) when read is false (no job row the snapshot sees).
 */
static double
job_clock(shard_tables *t, TupleTableSlot *slot, bool read)
{
	Datum		v[JOB_COLS - JOB_STARTED];
	bool		n[JOB_COLS - JOB_STARTED];

	if (!read)
		return NAN;
	for (int i = JOB_STARTED; i < JOB_COLS; i++)
		v[i - JOB_STARTED] = slot_getattr(slot, t->job_cols[i], &n[i - JOB_STARTED]);
	return td_job_active_seconds_now(v, n);
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
 * them) that no other transaction holds, locked as the pick's FOR UPDATE
 * locks it, its newest version into slot
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
		locked = td_native_lock_newest(rel, snap, &tid, slot, LockTupleExclusive, LockWaitSkip) &&
			shard_within(slot, cols, job, from, to);
	}
	index_endscan(scan);
	return locked;
}

/*
 * The job's row for the locked shard in old: read for a final event's
 * clock, and, when this transaction wrote that version of the shard,
 * checked and locked FOR KEY SHARE as the key check an UPDATE then runs
 * (RI_FKey_fk_upd_check_required: the row was written by this
 * transaction).  False when the check would fail or check more than the
 * job's key: the statement runs it.
 */
static bool
job_of_shard(shard_tables *t, Snapshot snap, TupleTableSlot *old, Datum job, bool final_event,
			 TupleTableSlot *slot, double *active)
{
	bool		isnull;
	bool		ours = TransactionIdIsCurrentTransactionId(
		DatumGetTransactionId(slot_getsysattr(old, MinTransactionIdAttributeNumber, &isnull)));
	Datum		owner = slot_getattr(old, t->cols[COL_OWNER], &isnull);
	bool		found;

	if (ours && (isnull || !t->only_job_key))
		return false;
	if (!ours && !final_event)
		return true;
	found = read_job(t, snap, job, owner, ours, slot);
	if (ours && !found)
		return false;
	*active = final_event ? job_clock(t, slot, found) : NAN;
	return true;
}

/*
 * Add to a shard of job: the preferred one, else the first free one;
 * false (nothing written) when the job has none free and the statements
 * must make one, or they must do it for another reason.
 */
static bool
update_free_shard(shard_tables *t, Datum job, const int32 *add, bool final_event)
{
	EState	   *estate = CreateExecutorState();
	td_native_table w = {0};
	TupleTableSlot *found;
	TupleTableSlot *old;
	TupleTableSlot *new;
	TupleTableSlot *job_row;
	Snapshot	snap;
	int16		preferred = (int16) (MyProcPid % 16 + 16);
	double		active = NAN;
	bool		ok;

	td_native_begin_update(&w, t->rel, estate);
	found = ExecInitExtraTupleSlot(estate, RelationGetDescr(t->rel), table_slot_callbacks(t->rel));
	old = ExecInitExtraTupleSlot(estate, RelationGetDescr(t->rel), table_slot_callbacks(t->rel));
	new = ExecInitExtraTupleSlot(estate, RelationGetDescr(t->rel), &TTSOpsVirtual);
	job_row = ExecInitExtraTupleSlot(estate, RelationGetDescr(t->jobs), table_slot_callbacks(t->jobs));
	/* as a statement: a new snapshot (the command counter was advanced) */
	PushActiveSnapshot(GetTransactionSnapshot());
	snap = GetActiveSnapshot();
	/*
	 * the preferred shard, else the first free one of the engine's range,
	 * 16-31 (no row-level security applies here), as PICK_PREFERRED and
	 * PICK_FREE pick them
	 */
	ok = (lock_first_free(t->rel, t->cols, t->key, snap, job, preferred, preferred, found, old) ||
		  lock_first_free(t->rel, t->cols, t->key, snap, job, 16, 31, found, old)) &&
		job_of_shard(t, snap, old, job, final_event, job_row, &active) &&
		new_version(old, new, t->cols, add, final_event, active);
	if (ok)
		td_native_update_row(&w, estate, old, new, snap);
	PopActiveSnapshot();
	td_native_end(&w);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	return ok;
}

/*
 * Are the locked tables as the native update expects (t filled in, the
 * keys opened)?
 */
static bool
tables_usable(shard_tables *t)
{
	Oid			relid = RelationGetRelid(t->rel);

	if (!td_native_plain_table(t->rel) ||
		/* the job read as the statements read it: its one table (theirs reads its children too) */
		t->jobs->rd_rel->relkind != RELKIND_RELATION || t->jobs->rd_rel->relhassubclass ||
		!td_native_table_allowed(relid, ACL_UPDATE) ||
		!td_native_find_columns(t->rel, shard_columns, N_COLS, t->cols) ||
		!td_native_find_columns(t->jobs, job_columns, JOB_COLS, t->job_cols) ||
		!td_native_update_triggers_ok(t->rel, t->cols, COL_JOB))	/* (the counts and the rate change) */
		return false;
	/*
	 * the counts and the owner NOT NULL, as the extension makes them: else
	 * the statements' sums (a NULL count) and key check (a NULL owner) are
	 * theirs to make, decided before any row is locked
	 */
	for (int c = COL_COMPLETED; c <= COL_OWNER; c++)
	{
		if ((c <= COL_IN_FLIGHT || c == COL_OWNER) &&
			!TupleDescAttr(RelationGetDescr(t->rel), t->cols[c] - 1)->attnotnull)
			return false;
	}
	t->only_job_key = only_job_key(t);
	t->key = td_native_open_key(t->rel, &t->cols[COL_JOB], 2);
	t->job_key = td_native_open_key(t->jobs, &t->job_cols[JOB_ID], 1);
	return t->key != NULL && t->job_key != NULL;
}

/* See counter_shards.h. */
bool
td_counters_update_native(Datum job, const int32 *add, bool final_event)
{
	Oid			nsp;
	Oid			relid;
	Oid			jobs_oid;
	shard_tables t = {0};
	bool		ok;

	/* (checked before any lock: a role refused here holds none) */
	if (!td_native_writes_here() || IsolationUsesXactSnapshot())
		return false;
	nsp = get_namespace_oid("train_data", false);
	relid = get_relname_relid("batch_job_counters", nsp);
	jobs_oid = get_relname_relid("batch_jobs", nsp);
	if (!td_native_table_allowed(relid, ACL_UPDATE) || !td_native_table_allowed(relid, ACL_SELECT) ||
		!td_native_table_allowed(jobs_oid, ACL_SELECT))
		return false;
	/* as a statement: what came before is seen, the catalog included */
	CommandCounterIncrement();
	/*
	 * the UPDATE's lock, then the one its reads of the job take (the rate's
	 * read, the key check's FOR KEY SHARE), before any row is locked
	 */
	t.rel = table_open(relid, RowExclusiveLock);
	t.jobs = table_open(jobs_oid, RowShareLock);
	ok = tables_usable(&t);
	if (ok)
	{
		/* a publication may refuse updates of a table without a replica identity, as the UPDATE would */
		CheckCmdReplicaIdentity(t.rel, CMD_UPDATE);
		ok = update_free_shard(&t, job, add, final_event);
	}
	if (t.job_key != NULL)
		index_close(t.job_key, NoLock);
	if (t.key != NULL)
		index_close(t.key, NoLock);
	table_close(t.jobs, NoLock);
	table_close(t.rel, NoLock);
	return ok;
}
