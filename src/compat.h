/*
 * compat.h — every PostgreSQL-version-dependent construct of train_data.
 *
 * The extension targets PostgreSQL 15; other majors are added here, behind
 * PG_VERSION_NUM, so that no other file needs a version test.
 */
#ifndef TD_COMPAT_H
#define TD_COMPAT_H

#include "postgres.h"

#include "access/tableam.h"
#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "nodes/parsenodes.h"
#include "storage/lockdefs.h"
#include "storage/proc.h"
#if PG_VERSION_NUM >= 160000
#include "parser/parse_relation.h"
#endif
#include "utils/guc.h"
#include "utils/guc_tables.h"

#if PG_VERSION_NUM < 150000
#error "train_data requires PostgreSQL 15 or later"
#endif

/* Reserve the "train_data." prefix for our own settings. */
#define td_reserve_guc_prefix(prefix) MarkGUCPrefixReserved(prefix)

/*
 * All GUC variables, placeholders included, as an array of *count entries:
 * PostgreSQL 16 moved them to a hash table and returns a palloc'd copy.
 */
#if PG_VERSION_NUM >= 160000
#define td_guc_variables(count) get_guc_variables(count)
#else
#define td_guc_variables(count) \
	(*(count) = GetNumConfigOptions(), get_guc_variables())
#endif

/*
 * The CHECK constraints of our tables are kept parsed per backend
 * (check_cache.c) where ExecRelCheck prepares them as check_cache.c
 * mirrors -- stringToNode and ExecPrepareExpr of each, in order -- and
 * ExecutorStart_hook returns void: PostgreSQL 15 to 17.
 */
#if PG_VERSION_NUM < 180000
#define TD_KEEP_CHECKS 1
#endif

/* The backend's local id of the current transaction (PostgreSQL 17 moved it). */
#if PG_VERSION_NUM >= 170000
#define td_local_xact_id() (MyProc->vxid.lxid)
#else
#define td_local_xact_id() (MyProc->lxid)
#endif

/* A JSON lexer over a NUL-terminated string in the database encoding. */
#if PG_VERSION_NUM >= 170000
#define td_json_lexer(str, len) \
	makeJsonLexContextCstringLen(NULL, (str), (len), GetDatabaseEncoding(), true)
#else
#define td_json_lexer(str, len) \
	makeJsonLexContextCstringLen((str), (len), GetDatabaseEncoding(), true)
#endif

/* Semantic callbacks of the JSON parser return void before PostgreSQL 16. */
#if PG_VERSION_NUM >= 160000
#define TD_JSON_CB_TYPE JsonParseErrorType
#define TD_JSON_CB_RETURN return JSON_SUCCESS
#else
#define TD_JSON_CB_TYPE void
#define TD_JSON_CB_RETURN return
#endif

/*
 * Insert the index entries of a row just inserted from slot, as an INSERT
 * does (PostgreSQL 16 added onlySummarizing); returns the indexes whose
 * (deferred) unique check is still to come.
 */
#if PG_VERSION_NUM >= 160000
#define td_insert_index_tuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL, false)
#else
#define td_insert_index_tuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL)
#endif

/*
 * Update the row at otid (locked by this transaction) to the one in slot,
 * waiting for nothing; *index_entries says whether its index entries are
 * to be inserted, *summarizing_only whether only those of summarizing
 * indexes (PostgreSQL 16 made the flag an enum).
 */
static inline TM_Result
td_tuple_update(Relation rel, ItemPointer otid, TupleTableSlot *slot, CommandId cid, Snapshot snap,
				TM_FailureData *tmfd, bool *index_entries, bool *summarizing_only)
{
	LockTupleMode mode;
#if PG_VERSION_NUM >= 160000
	TU_UpdateIndexes update;
	TM_Result	res = table_tuple_update(rel, otid, slot, cid, snap, InvalidSnapshot, true, tmfd, &mode, &update);

	*index_entries = update != TU_None;
	*summarizing_only = update == TU_Summarizing;
#else
	TM_Result	res = table_tuple_update(rel, otid, slot, cid, snap, InvalidSnapshot, true, tmfd, &mode,
										 index_entries);

	*summarizing_only = false;
#endif
	return res;
}

/* The index entries of a row an update wrote from slot (see td_tuple_update). */
#if PG_VERSION_NUM >= 160000
#define td_update_index_tuples(rri, slot, estate, summarizing_only) \
	ExecInsertIndexTuples((rri), (slot), (estate), true, false, NULL, NIL, (summarizing_only))
#else
#define td_update_index_tuples(rri, slot, estate, summarizing_only) \
	ExecInsertIndexTuples((rri), (slot), (estate), true, false, NULL, NIL)
#endif

/*
 * A SELECT of one relation by the current user, as the rewriter sees it
 * (for get_row_security_policies()): PostgreSQL 16 moved the permissions
 * of a range table entry to a list of its own.
 */
static inline void
td_select_query_of(Oid relid, char relkind, Query **query, RangeTblEntry **rte)
{
	*query = makeNode(Query);
	(*query)->commandType = CMD_SELECT;
	*rte = makeNode(RangeTblEntry);
	(*rte)->rtekind = RTE_RELATION;
	(*rte)->relid = relid;
	(*rte)->relkind = relkind;
	(*rte)->rellockmode = AccessShareLock;
#if PG_VERSION_NUM >= 160000
	addRTEPermissionInfo(&(*query)->rteperminfos, *rte)->requiredPerms = ACL_SELECT;
#else
	(*rte)->requiredPerms = ACL_SELECT;
	(*rte)->checkAsUser = InvalidOid;
#endif
	(*query)->rtable = list_make1(*rte);
}

#endif							/* TD_COMPAT_H */
