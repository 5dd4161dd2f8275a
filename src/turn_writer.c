/*
 * turn_writer.c — train_data.engine_store_turns(): a completion's turns and
 * their signature row, written without a statement of their own.
 *
 * complete_batch_item inserted the turns with INSERT … SELECT and the
 * signature row with INSERT … VALUES.  Each statement started an executor,
 * and each turn queued a foreign-key check of its conversation: a query of
 * its own, its executor and a KEY SHARE lock of the parent (10 of the 13
 * checks of a 10-turn completion, about a tenth of a worker's cycle).  That
 * parent is the conversation the completion inserted a statement earlier,
 * in the same transaction: no other transaction can see it, so none can
 * lock, change or delete it before this one ends, and the check can only
 * pass.  This function makes sure it is so — the conversation (id, owner)
 * is visible, was inserted (not updated) by this transaction, and the key
 * is exactly (conversation_id, created_by) → conversations (id,
 * created_by) — and then writes the rows as COPY does (CHECK constraints,
 * the heap, every index), leaving out the checks.
 *
 * It writes nothing and returns false, for the caller's SQL to do the
 * work (and report what is wrong), whenever an INSERT could do more or
 * otherwise: a caller without the extension owner's privileges (checked
 * before any lock is taken), a read-only transaction, another trigger or
 * rule that would act on an insert, row-level security applying to the
 * caller, a missing INSERT privilege, a generated column, a column left
 * out of a domain type without a default, a table access method other
 * than heap, an executor permission hook (sepgsql), a turn that is not
 * {"role": string, "content": string}, or a parent this transaction did
 * not insert.  The extension's own insert triggers it leaves out (known by
 * name, function, kind and arguments, with a WHEN clause) are no-ops here:
 * conversation_turns_owner fires only for a NULL created_by, and the
 * signature and verdict statement triggers skip the engine's own
 * statements (engine_signs_turns); the signature row they would write is
 * written here.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "compat.h"
#include "detoast.h"
#include "minhash_glue.h"
#include "native_write.h"
#include "td_utf8.h"
#include "train_data.h"

PG_FUNCTION_INFO_V1(train_data_engine_store_turns);

/* Turns inserted with one table_multi_insert() call (COPY's buffer is 1,000). */
#define TURNS_PER_INSERT 64

/* The columns given for each row (turn_columns, signature_columns). */
#define TURN_COLS 6
#define SIGNATURE_COLS 4

/*
 * The extension's insert triggers on the turns table that an insert here
 * may leave out, as the extension makes them: each with a WHEN clause
 * under which it does nothing for the rows written here.
 */
static const td_known_trigger known_turn_triggers[] = {
	{"conversation_turns_owner", "inherit_owner", TRIGGER_TYPE_BEFORE | TRIGGER_TYPE_ROW | TRIGGER_TYPE_INSERT,
	2, {"conversations", "conversation_id"}},
	{"conversation_turns_signature_insert", "conversation_turns_signature", TRIGGER_TYPE_AFTER | TRIGGER_TYPE_INSERT,
	0, {NULL, NULL}},
	{"conversation_turns_verdicts_insert", "conversation_turns_verdicts", TRIGGER_TYPE_AFTER | TRIGGER_TYPE_INSERT,
	0, {NULL, NULL}},
};

/*
 * Is fk the key (conversation_id, created_by) → conversations (id,
 * created_by) of a table with those columns?
 */
static bool
is_parent_key(const ForeignKeyCacheInfo *fk, Relation child, void *arg)
{
	Relation	parent = (Relation) arg;

	return fk->confrelid == RelationGetRelid(parent) && fk->nkeys == 2 &&
		fk->conkey[0] == td_column_number(child, "conversation_id") &&
		fk->conkey[1] == td_column_number(child, "created_by") &&
		fk->confkey[0] == td_column_number(parent, "id") && fk->confkey[1] == td_column_number(parent, "created_by") &&
		fk->conkey[0] != InvalidAttrNumber && fk->conkey[1] != InvalidAttrNumber;
}

/*
 * May rows be inserted into rel here: a plain heap table without rules or
 * generated columns, that the caller may insert into without row-level
 * security (again, now that it is locked), whose insert triggers are all
 * ones left out (the turns' known ones, the parent key's check)?
 */
static bool
writable_here(Relation rel, Relation parent, bool turns)
{
	return td_native_plain_table(rel) && td_native_table_allowed(RelationGetRelid(rel), ACL_INSERT) &&
		td_native_insert_triggers_ok(rel, known_turn_triggers, turns ? lengthof(known_turn_triggers) : 0,
									 is_parent_key, parent);
}

/*
 * Are all n turns objects with a string role and a string content?  The
 * caller's SQL reports any other.
 */
static bool
turns_usable(Jsonb *turns)
{
	uint32		n;

	if (!JB_ROOT_IS_ARRAY(turns) || JB_ROOT_IS_SCALAR(turns))
		return false;
	n = JB_ROOT_COUNT(turns);
	for (uint32 i = 0; i < n; i++)
	{
		JsonbValue *turn = getIthJsonbValueFromContainer(&turns->root, i);
		JsonbValue *v;

		CHECK_FOR_INTERRUPTS();
		if (turn->type != jbvBinary || !JsonContainerIsObject(turn->val.binary.data))
			return false;
		v = getKeyJsonValueFromContainer(turn->val.binary.data, "role", 4, NULL);
		if (v == NULL || v->type != jbvString)
			return false;
		v = getKeyJsonValueFromContainer(turn->val.binary.data, "content", 7, NULL);
		if (v == NULL || v->type != jbvString)
			return false;
	}
	return true;
}

/* A text Datum of a jsonb string member key of container c. */
static Datum
member_text(JsonbContainer *c, const char *key, int *chars)
{
	JsonbValue *v = getKeyJsonValueFromContainer(c, key, strlen(key), NULL);

	if (chars != NULL)
		*chars = GetDatabaseEncoding() == PG_UTF8 ? (int) td_utf8_count(v->val.string.val, v->val.string.len)
			: pg_mbstrlen_with_len(v->val.string.val, v->val.string.len);
	return PointerGetDatum(cstring_to_text_with_len(v->val.string.val, v->val.string.len));
}

/*
 * Insert the turns of conversation conv (owner owner) into the turns table
 * t: turn_number from 1, token_count ceil(characters / 4).
 */
static void
write_turns(td_native_table *t, EState *estate, Datum conv, Datum owner, Jsonb *turns)
{
	TupleTableSlot *slots[TURNS_PER_INSERT];
	uint32		n = JB_ROOT_COUNT(turns);
	int			filled = 0;

	for (uint32 k = 0; k < TURNS_PER_INSERT && k < n; k++)
		slots[k] = ExecInitExtraTupleSlot(estate, RelationGetDescr(t->rel), table_slot_callbacks(t->rel));
	for (uint32 i = 0; i < n; i++)
	{
		/* (a chunk's turns are read into memory freed once it is inserted) */
		MemoryContext old = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
		JsonbValue *turn = getIthJsonbValueFromContainer(&turns->root, i);
		Datum		values[TURN_COLS];
		int			chars;

		CHECK_FOR_INTERRUPTS();
		values[0] = conv;
		values[1] = owner;
		values[2] = Int32GetDatum((int32) i + 1);
		values[3] = member_text(turn->val.binary.data, "role", NULL);
		values[4] = member_text(turn->val.binary.data, "content", &chars);
		values[5] = Int32GetDatum((int32) (((int64) chars + 3) / 4));
		td_native_fill_row(t, slots[filled++], estate, values, NULL);
		MemoryContextSwitchTo(old);
		if (filled == TURNS_PER_INSERT || i + 1 == n)
		{
			td_native_insert_rows(t, slots, filled, estate);
			for (int k = 0; k < filled; k++)
				ExecClearTuple(slots[k]);
			filled = 0;
			ResetPerTupleExprContext(estate);
		}
	}
}

/* Insert the signature row of conversation conv into table s. */
static void
write_signature(td_native_table *s, EState *estate, Datum conv, Datum owner, Jsonb *turns)
{
	Datum		values[SIGNATURE_COLS];
	TupleTableSlot *slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(s->rel),
												  table_slot_callbacks(s->rel));

	values[0] = conv;
	values[1] = owner;
	values[2] = td_turns_signature(turns);
	values[3] = td_signature_bands(values[2]);
	td_native_fill_row(s, slot, estate, values, NULL);
	td_native_insert_rows(s, &slot, 1, estate);
}

/* The turns' columns written here, in the order write_turns gives them. */
static const td_native_column turn_columns[TURN_COLS] = {
	{"conversation_id", UUIDOID}, {"created_by", UUIDOID}, {"turn_number", INT4OID},
	{"role", TEXTOID}, {"content", TEXTOID}, {"token_count", INT4OID}
};

/* The signature row's columns, in the order write_signature gives them. */
static const td_native_column signature_columns[SIGNATURE_COLS] = {
	{"conversation_id", UUIDOID}, {"created_by", UUIDOID}, {"signature", INT4ARRAYOID}, {"bands", INT8ARRAYOID}
};

/*
 * Write the turns and the signature row, all checks passed; false, nothing
 * written, when a column would need the SQL (td_native_begin).
 */
static bool
write_all(Relation turns_rel, const AttrNumber *turn_cols, Relation sig_rel, const AttrNumber *sig_cols,
		  Datum conv, Datum owner, Jsonb *turns)
{
	EState	   *estate = CreateExecutorState();
	td_native_table t = {0};
	td_native_table s = {0};
	bool		ok;

	ok = td_native_begin(&t, turns_rel, estate, turn_cols, TURN_COLS) &&
		td_native_begin(&s, sig_rel, estate, sig_cols, SIGNATURE_COLS);
	if (ok)
	{
		write_turns(&t, estate, conv, owner, turns);
		write_signature(&s, estate, conv, owner, turns);
	}
	td_native_end(&t);
	td_native_end(&s);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	return ok;
}

/*
 * engine_store_turns(conversation uuid, owner uuid, turns jsonb) returns
 * boolean — the turns ([{role, content}, ...]) of a conversation this
 * transaction inserted, and its signature row, written; false (nothing
 * written) when the caller's SQL must write them.  Internal: the engine's.
 */
Datum
train_data_engine_store_turns(PG_FUNCTION_ARGS)
{
	Datum		conv;
	Datum		owner;
	Jsonb	   *turns;
	Oid			nsp;
	Relation	parent;
	Relation	turns_rel;
	Relation	sig_rel;
	Oid			turns_oid;
	Oid			sig_oid;
	Oid			parent_oid;
	AttrNumber	turn_cols[TURN_COLS];
	AttrNumber	sig_cols[SIGNATURE_COLS];
	bool		ok;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("engine_store_turns() needs a conversation id, an owner and turns")));
	conv = PG_GETARG_DATUM(0);
	owner = PG_GETARG_DATUM(1);
	turns = TD_GETARG_JSONB_P(2);
	nsp = get_namespace_oid("train_data", false);
	turns_oid = get_relname_relid("conversation_turns", nsp);
	sig_oid = get_relname_relid("conversation_signatures", nsp);
	parent_oid = get_relname_relid("conversations", nsp);
	/* (checked before any lock: a role refused here holds none) */
	if (!td_native_writes_here() || !OidIsValid(parent_oid) ||
		!td_native_table_allowed(turns_oid, ACL_INSERT) || !td_native_table_allowed(sig_oid, ACL_INSERT) ||
		!turns_usable(turns))
		PG_RETURN_BOOL(false);
	/* the locks the INSERT statements take, in their order */
	turns_rel = table_open(turns_oid, RowExclusiveLock);
	sig_rel = table_open(sig_oid, RowExclusiveLock);
	parent = table_open(parent_oid, AccessShareLock);
	ok = td_native_find_columns(turns_rel, turn_columns, TURN_COLS, turn_cols) &&
		td_native_find_columns(sig_rel, signature_columns, SIGNATURE_COLS, sig_cols) &&
		writable_here(turns_rel, parent, true) && writable_here(sig_rel, parent, false) &&
		td_native_parent_is_ours(parent, conv, owner);
	ok = ok && write_all(turns_rel, turn_cols, sig_rel, sig_cols, conv, owner, turns);
	table_close(parent, NoLock);
	table_close(sig_rel, NoLock);
	table_close(turns_rel, NoLock);
	PG_RETURN_BOOL(ok);
}
