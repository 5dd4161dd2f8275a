/*
 * native_write.c — rows the engine writes without a statement: when it
 * may, and the parts of an INSERT or UPDATE it does as the executor does.
 *
 * A statement costs the engine an executor start, and each row of a child
 * table a foreign-key check (a query of its own) where the parent is one
 * the engine has just written.  turn_writer.c inserts such rows directly,
 * as COPY does (the table's NOT NULL and CHECK constraints through
 * ExecConstraints, from the session's kept CHECK trees; the heap; every
 * index; the defaults of the columns left out), and counter_update.c
 * updates a counter shard as an UPDATE does.  Anything a statement would
 * do that they do not (row-level security, a rule, a generated column, a
 * trigger that is not the extension's own no-op or a key check that can
 * only pass, an executor permission hook, another table access method)
 * sends the caller back to its SQL: the checks here say when.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "native_write.h"
#include "train_data.h"

/* See native_write.h. */
bool
td_native_writes_here(void)
{
	return !XactReadOnly && ExecutorCheckPerms_hook == NULL && td_engine_context();
}

/* See native_write.h. */
bool
td_native_table_allowed(Oid relid, AclMode mode)
{
	return OidIsValid(relid) && pg_class_aclcheck(relid, GetUserId(), mode) == ACLCHECK_OK &&
		check_enable_rls(relid, InvalidOid, true) != RLS_ENABLED;
}

/* See native_write.h. */
bool
td_native_plain_table(Relation rel)
{
	return rel->rd_rel->relkind == RELKIND_RELATION && rel->rd_rel->relam == HEAP_TABLE_AM_OID &&
		!rel->rd_rel->relispartition &&	/* (its partition constraint) */
		!rel->rd_rel->relhassubclass && /* (a statement writes the children too) */
		rel->rd_rules == NULL &&	/* (relhasrules stays set once a rule is dropped) */
		(rel->rd_att->constr == NULL || !rel->rd_att->constr->has_generated_stored);
}

/* See native_write.h. */
AttrNumber
td_column_number(Relation rel, const char *name)
{
	AttrNumber	attnum = get_attnum(RelationGetRelid(rel), name);

	return attnum > 0 ? attnum : InvalidAttrNumber;
}

/* See native_write.h. */
bool
td_native_find_columns(Relation rel, const td_native_column *columns, int n, AttrNumber *attnums)
{
	for (int i = 0; i < n; i++)
	{
		attnums[i] = td_column_number(rel, columns[i].name);
		if (attnums[i] == InvalidAttrNumber ||
			TupleDescAttr(RelationGetDescr(rel), attnums[i] - 1)->atttypid != columns[i].type)
			return false;
	}
	return true;
}

/* Is t, of table rel, the known trigger k as the extension makes it? */
static bool
is_known(const Trigger *t, const td_known_trigger *k, Relation rel)
{
	char	   *function = get_func_name(t->tgfoid);
	bool		same;

	same = t->tgtype == k->type && t->tgqual != NULL && t->tgnargs == k->nargs && function != NULL &&
		strcmp(function, k->function) == 0 && get_func_namespace(t->tgfoid) == RelationGetNamespace(rel);
	for (int a = 0; same && a < k->nargs; a++)
		same = strcmp(t->tgargs[a], k->args[a]) == 0;
	return same;
}

/*
 * May the insert trigger t of rel be left out?  fks: rel's foreign keys.
 * (t and fks are copies: a catalog lookup here may rebuild rel's relcache
 * entry, freeing its trigger descriptor and key list.)
 */
static bool
trigger_left_out(const Trigger *t, List *fks, Relation rel, const td_known_trigger *known, int n,
				 td_checked_key checked, void *arg)
{
	ListCell   *lc;

	if (t->tgisinternal)
	{
		/* the check trigger of a key checked natively, and no other */
		if (RI_FKey_trigger_type(t->tgfoid) != RI_TRIGGER_FK)
			return false;
		foreach(lc, fks)
		{
			ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);

			if (fk->conoid == t->tgconstraint)
				return checked(fk, rel, arg);
		}
		return false;
	}
	/* one of the extension's own (whose WHEN text the table's owner is trusted to keep) */
	for (int i = 0; i < n; i++)
	{
		if (strcmp(t->tgname, known[i].name) == 0)
			return is_known(t, &known[i], rel);
	}
	return false;
}

/* See native_write.h. */
bool
td_native_insert_triggers_ok(Relation rel, const td_known_trigger *known, int n, td_checked_key checked, void *arg)
{
	/*
	 * copies, as the executor takes (InitResultRelInfo): the lookups below
	 * may accept an invalidation of rel (its statistics updated by ANALYZE,
	 * say), which rebuilds its relcache entry and frees the originals
	 */
	TriggerDesc *td = CopyTriggerDesc(rel->trigdesc);
	List	   *fks = copyObject(RelationGetFKeyList(rel));

	for (int i = 0; td != NULL && i < td->numtriggers; i++)
	{
		const Trigger *t = &td->triggers[i];

		if (TRIGGER_FOR_INSERT(t->tgtype) && !trigger_left_out(t, fks, rel, known, n, checked, arg))
			return false;
	}
	return true;
}

/* See native_write.h. */
bool
td_native_parent_is_ours(Relation parent, Datum id, Datum owner)
{
	AttrNumber	id_col = td_column_number(parent, "id");
	AttrNumber	owner_col = td_column_number(parent, "created_by");
	Relation	index;
	TupleTableSlot *slot;
	ScanKeyData skey;
	bool		ours = false;

	if (owner_col == InvalidAttrNumber || TupleDescAttr(RelationGetDescr(parent), owner_col - 1)->atttypid != UUIDOID)
		return false;
	index = td_native_open_key(parent, &id_col, 1);
	if (index == NULL)
		return false;
	slot = table_slot_create(parent, NULL);
	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_UUID_EQ, id);
	if (td_native_fetch_by_key(parent, index, SnapshotSelf, &skey, 1, slot))
	{
		bool		should_free;
		HeapTuple	tuple = ExecFetchSlotHeapTuple(slot, false, &should_free);

		ours = TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tuple->t_data)) &&
			!(tuple->t_data->t_infomask & HEAP_UPDATED) &&
			td_native_key_equals(slot, owner_col, owner, F_UUID_EQ);
		if (should_free)
			heap_freetuple(tuple);
	}
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, NoLock);
	return ours;
}

/* See native_write.h. */
Relation
td_native_open_key(Relation rel, const AttrNumber *cols, int n)
{
	Oid			key = RelationGetPrimaryKeyIndex(rel);
	Relation	index;

	if (!OidIsValid(key))
		return NULL;
	index = index_open(key, AccessShareLock);
	for (int i = 0; i < n; i++)
	{
		if (index->rd_index->indnkeyatts != n || index->rd_index->indkey.values[i] != cols[i])
		{
			index_close(index, AccessShareLock);
			return NULL;
		}
	}
	return index;
}

/* See native_write.h. */
bool
td_native_fetch_by_key(Relation rel, Relation index, Snapshot snap, ScanKeyData *keys, int nkeys,
					   TupleTableSlot *slot)
{
	IndexScanDesc scan = index_beginscan(rel, index, snap, nkeys, 0);
	bool		found;

	index_rescan(scan, keys, nkeys, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	return found;
}

/* See native_write.h. */
bool
td_native_key_equals(TupleTableSlot *slot, AttrNumber attnum, Datum value, Oid eq)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, attnum, &isnull);

	return !isnull && DatumGetBool(OidFunctionCall2(eq, d, value));
}

/* See native_write.h. */
bool
td_native_begin(td_native_table *w, Relation rel, EState *estate, const AttrNumber *cols, int ncols)
{
	/* (the descriptor read afresh after each lookup, which may rebuild it) */
	td_native_begin_update(w, rel, estate);
	w->cols = cols;
	w->ncols = ncols;
	w->defaults = palloc0(sizeof(ExprState *) * w->natts);
	for (int i = 0; i < w->natts; i++)
	{
		Node	   *def;
		Oid			type = TupleDescAttr(RelationGetDescr(rel), i)->atttypid;
		bool		given = false;

		for (int k = 0; k < ncols && !given; k++)
			given = cols[k] == i + 1;
		if (given || TupleDescAttr(RelationGetDescr(rel), i)->attisdropped)
			continue;
		def = build_column_default(rel, i + 1);
		if (def != NULL)
			w->defaults[i] = ExecPrepareExpr((Expr *) def, estate);
		else if (get_typtype(type) == TYPTYPE_DOMAIN)
			return false;
	}
	return true;
}

/* See native_write.h. */
void
td_native_fill_row(td_native_table *w, TupleTableSlot *slot, EState *estate, const Datum *values,
				   const bool *nulls)
{
	ExprContext *econtext = GetPerTupleExprContext(estate);

	ExecClearTuple(slot);
	for (int i = 0; i < w->natts; i++)
	{
		slot->tts_values[i] = (Datum) 0;
		slot->tts_isnull[i] = true;
		if (w->defaults[i] != NULL)
			slot->tts_values[i] = ExecEvalExpr(w->defaults[i], econtext, &slot->tts_isnull[i]);
	}
	for (int k = 0; k < w->ncols; k++)
	{
		bool		isnull = nulls != NULL && nulls[k];

		slot->tts_values[w->cols[k] - 1] = isnull ? (Datum) 0 : values[k];
		slot->tts_isnull[w->cols[k] - 1] = isnull;
	}
	ExecStoreVirtualTuple(slot);
	if (w->rel->rd_att->constr != NULL)
		ExecConstraints(w->rri, slot, estate);
}

/* See native_write.h. */
void
td_native_insert_rows(td_native_table *w, TupleTableSlot **slots, int n, EState *estate)
{
	if (n == 0)
		return;
	table_multi_insert(w->rel, slots, n, GetCurrentCommandId(true), 0, NULL);
	for (int i = 0; i < n; i++)
	{
		List	   *recheck = td_insert_index_tuples(w->rri, slots[i], estate);

		if (recheck != NIL)
			elog(ERROR, "deferred index check on table \"%s\"", RelationGetRelationName(w->rel));
	}
}

/* See native_write.h. */
void
td_native_end(td_native_table *w)
{
	if (w->rri != NULL)
		ExecCloseIndices(w->rri);
}

/* See native_write.h. */
void
td_native_begin_update(td_native_table *w, Relation rel, EState *estate)
{
	w->rel = rel;
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, rel, 0, NULL, 0);
	ExecOpenIndices(w->rri, false);
	td_keep_checks_for(w->rri, estate);
	w->natts = RelationGetNumberOfAttributes(rel);
	w->cols = NULL;
	w->ncols = 0;
	w->defaults = NULL;
}

/* Is attnum one of the n columns of cols? */
static bool
among(AttrNumber attnum, const AttrNumber *cols, int n)
{
	for (int i = 0; i < n; i++)
		if (cols[i] == attnum)
			return true;
	return false;
}

/* See native_write.h. */
bool
td_native_update_triggers_ok(Relation rel, const AttrNumber *changed, int n)
{
	TriggerDesc *td = CopyTriggerDesc(rel->trigdesc);
	List	   *fks = copyObject(RelationGetFKeyList(rel));

	if (AfterTriggerPendingOnRel(RelationGetRelid(rel)))
		return false;
	for (int i = 0; td != NULL && i < td->numtriggers; i++)
	{
		const Trigger *t = &td->triggers[i];
		bool		left_out = false;
		ListCell   *lc;

		if (!TRIGGER_FOR_UPDATE(t->tgtype))
			continue;
		if (!t->tgisinternal || t->tgdeferrable || RI_FKey_trigger_type(t->tgfoid) != RI_TRIGGER_FK)
			return false;
		foreach(lc, fks)
		{
			ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);

			if (fk->conoid != t->tgconstraint)
				continue;
			left_out = true;
			for (int k = 0; k < fk->nkeys; k++)
				left_out = left_out && !among(fk->conkey[k], changed, n);
		}
		if (!left_out)
			return false;
	}
	return true;
}

/* See native_write.h. */
bool
td_native_lock_newest(Relation rel, Snapshot snap, ItemPointer tid, TupleTableSlot *slot, LockTupleMode mode,
					  LockWaitPolicy wait)
{
	TM_FailureData tmfd;

	/* (as ExecLockRows locks: the newest version, past an update in progress of a key-share lock) */
	return table_tuple_lock(rel, tid, snap, slot, GetCurrentCommandId(false), mode, wait,
							TUPLE_LOCK_FLAG_FIND_LAST_VERSION | TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS,
							&tmfd) == TM_Ok;
}

/* See native_write.h. */
void
td_native_update_row(td_native_table *w, EState *estate, TupleTableSlot *old, TupleTableSlot *new, Snapshot snap)
{
	TM_FailureData tmfd;
	bool		index_entries;
	bool		summarizing_only;
	TM_Result	res;

	if (w->rel->rd_att->constr != NULL)
		ExecConstraints(w->rri, new, estate);
	res = td_tuple_update(w->rel, &old->tts_tid, new, GetCurrentCommandId(true), snap, &tmfd, &index_entries,
						  &summarizing_only);
	if (res != TM_Ok)			/* (the row is locked by this transaction) */
		elog(ERROR, "could not update a locked row of table \"%s\": result %d", RelationGetRelationName(w->rel),
			 (int) res);
	if (index_entries && td_update_index_tuples(w->rri, new, estate, summarizing_only) != NIL)
		elog(ERROR, "deferred index check on table \"%s\"", RelationGetRelationName(w->rel));
}
