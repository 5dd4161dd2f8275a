/*
 * engine_glue.c — train_data.engine_context(): is the current role the
 * extension's own (the owner of schema train_data, or a role with its
 * privileges, such as a superuser)?
 *
 * The worker functions are SECURITY DEFINER and owned by the extension
 * owner, so inside them the current role is that owner.  The guard triggers
 * of batch_jobs and batch_items call this in their WHEN clauses: the engine
 * may write every column, an ordinary user only what the user API changes.
 * One syscache probe and a role-membership test: cheap enough for a WHEN
 * clause evaluated per row.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/syscache.h"

#include "train_data.h"

PG_FUNCTION_INFO_V1(train_data_engine_context);

/* The owner of schema train_data (which the extension's scripts create). */
static Oid
schema_owner(void)
{
	Oid			nsp = get_namespace_oid("train_data", false);
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for schema %u", nsp);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

/* See train_data.h. */
bool
td_engine_context(void)
{
	return has_privs_of_role(GetUserId(), schema_owner());
}

/* True when the current role has the privileges of the extension owner. */
Datum
train_data_engine_context(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(td_engine_context());
}
