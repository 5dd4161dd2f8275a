/*
 * native_write.c — the checks every native write of the engine makes
 * before it writes rows without a statement: anything a statement would do
 * that the native code does not (row-level security, a rule, a generated
 * column, an executor permission hook, another table access method) sends
 * the caller back to its SQL.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/rls.h"

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
		rel->rd_rules == NULL &&	/* (relhasrules stays set once a rule is dropped) */
		(rel->rd_att->constr == NULL || !rel->rd_att->constr->has_generated_stored);
}
