/*
 * native_write.h — rows the engine writes without a statement
 * (turn_writer.c, log_writer.c, counter_update.c): when it may, and the
 * parts of an INSERT it does as the executor does them.
 */
#ifndef TD_NATIVE_WRITE_H
#define TD_NATIVE_WRITE_H

#include "postgres.h"

#include "access/skey.h"
#include "commands/trigger.h"
#include "nodes/execnodes.h"
#include "nodes/lockoptions.h"
#include "utils/acl.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

/*
 * May this call write natively at all: the caller has the extension
 * owner's privileges, the transaction may write, and no executor
 * permission hook (sepgsql) would be passed over?  Takes no lock.
 */
extern bool td_native_writes_here(void);

/*
 * Has the caller the privilege mode (one ACL_* bit) on table relid, with
 * no row-level security applying to her?  Takes no lock.
 */
extern bool td_native_table_allowed(Oid relid, AclMode mode);

/*
 * Is rel a plain heap table (not a partition, without children), without
 * rules or stored generated columns?
 */
extern bool td_native_plain_table(Relation rel);

/* A column written natively: its name and type. */
typedef struct td_native_column
{
	const char *name;
	Oid			type;
} td_native_column;

/* The attribute number of column name of rel, or 0. */
extern AttrNumber td_column_number(Relation rel, const char *name);

/*
 * The attribute numbers of the n columns of rel into attnums; false when
 * one is missing or of another type.
 */
extern bool td_native_find_columns(Relation rel, const td_native_column *columns, int n, AttrNumber *attnums);

/*
 * An insert trigger of the extension's that a native insert may leave
 * out: it does nothing for the rows written natively (its WHEN clause, or
 * its function's test, sees to that).
 */
typedef struct td_known_trigger
{
	const char *name;
	const char *function;		/* in the table's schema */
	int16		type;			/* TRIGGER_TYPE_* bits: timing, level, INSERT */
	int16		nargs;
	const char *args[2];
} td_known_trigger;

/* Is the foreign key fk of rel one whose check the native insert makes itself? */
typedef bool (*td_checked_key) (const ForeignKeyCacheInfo *fk, Relation rel, void *arg);

/*
 * Is every insert trigger of rel one a native insert may leave out: one
 * of the n known ones (by name, function, kind and arguments, with a WHEN
 * clause), or the check trigger of a foreign key checked says is made
 * natively?  Read from copies of rel's trigger descriptor and key list.
 */
extern bool td_native_insert_triggers_ok(Relation rel, const td_known_trigger *known, int n,
										 td_checked_key checked, void *arg);

/*
 * Was the row of parent whose single-column primary key is id, and whose
 * uuid column created_by is owner, inserted (not updated since) by this
 * transaction, and is it still there?  Read as this transaction sees its
 * own rows (SnapshotSelf).
 */
extern bool td_native_parent_is_ours(Relation parent, Datum id, Datum owner);

/*
 * The primary key of rel when its key columns are exactly cols[0 .. n - 1],
 * opened (AccessShareLock); NULL (nothing opened) otherwise.
 */
extern Relation td_native_open_key(Relation rel, const AttrNumber *cols, int n);

/*
 * The row of rel whose key (index, of nkeys columns) equals keys, as snap
 * sees it, into slot; false when there is none.
 */
extern bool td_native_fetch_by_key(Relation rel, Relation index, Snapshot snap, ScanKeyData *keys, int nkeys,
								   TupleTableSlot *slot);

/* Is column attnum of slot, not NULL, equal to value (eq: the equality function)? */
extern bool td_native_key_equals(TupleTableSlot *slot, AttrNumber attnum, Datum value, Oid eq);

/* A table being written natively: its relation, result info and column defaults. */
typedef struct td_native_table
{
	Relation	rel;
	ResultRelInfo *rri;
	int			natts;
	const AttrNumber *cols;		/* the columns given for each row */
	int			ncols;
	ExprState **defaults;		/* per attribute, NULL: none (or given) */
} td_native_table;

/*
 * Set up w for inserting into rel in estate: its indexes, its CHECK
 * constraints, and the defaults of the columns not among the ncols given
 * ones; false when a column left out has no default and is of a domain
 * (an INSERT checks the domain's constraints on its NULL).  Close it with
 * td_native_end (also after false).
 */
extern bool td_native_begin(td_native_table *w, Relation rel, EState *estate, const AttrNumber *cols, int ncols);

/*
 * A new row of w in slot: the given columns (w->cols[k] = values[k], NULL
 * where nulls[k]; nulls NULL: none), every other column its default (or
 * NULL), checked against the table's NOT NULL and CHECK constraints.
 */
extern void td_native_fill_row(td_native_table *w, TupleTableSlot *slot, EState *estate, const Datum *values,
							   const bool *nulls);

/* Insert the n rows of slots into w's table and its indexes. */
extern void td_native_insert_rows(td_native_table *w, TupleTableSlot **slots, int n, EState *estate);

/* Close what td_native_begin opened. */
extern void td_native_end(td_native_table *w);

/*
 * Set up w for updating rel in estate: its indexes and CHECK constraints
 * (no defaults).  Close it with td_native_end.
 */
extern void td_native_begin_update(td_native_table *w, Relation rel, EState *estate);

/*
 * Would an UPDATE of rel that changes the n columns changed fire nothing
 * but an immediate foreign-key check of columns it leaves unchanged (which
 * can only pass), with no after-trigger events pending on rel?  Read from
 * copies of rel's trigger descriptor and key list.
 */
extern bool td_native_update_triggers_ok(Relation rel, const AttrNumber *changed, int n);

/*
 * Lock the row of rel whose version at tid was found with snap, as a
 * statement locks it in mode, its newest version into slot (tid set to
 * it): waiting for
 * another transaction's lock (LockWaitBlock, as an UPDATE does) or not
 * (LockWaitSkip); false when it is held (skip), deleted or otherwise not
 * locked.  The caller checks that the newest version still qualifies.
 */
extern bool td_native_lock_newest(Relation rel, Snapshot snap, ItemPointer tid, TupleTableSlot *slot,
								  LockTupleMode mode, LockWaitPolicy wait);

/*
 * Replace the version of a row this transaction locked (old, from
 * td_native_lock_newest) by new (a virtual slot of the same descriptor):
 * the table's NOT NULL and CHECK constraints, the heap, and the index
 * entries when the update is not HOT.
 */
extern void td_native_update_row(td_native_table *w, EState *estate, TupleTableSlot *old, TupleTableSlot *new,
								 Snapshot snap);

#endif							/* TD_NATIVE_WRITE_H */
