/*
 * row_policy.h — a table's row-level security, evaluated by C code that reads
 * rows itself (row_policy.c).
 */
#ifndef TD_ROW_POLICY_H
#define TD_ROW_POLICY_H

#include "postgres.h"

#include "executor/tuptable.h"
#include "utils/relcache.h"

/* A relation's SELECT policies for one user, compiled (row_policy.c). */
typedef struct td_row_policy td_row_policy;

/* What the policies say about a relation for the current user. */
typedef enum td_policy_verdict
{
	TD_POLICY_NONE,				/* no policy applies: every row is visible */
	TD_POLICY_QUAL,				/* a row is visible when td_policy_passes() */
	TD_POLICY_UNSUPPORTED		/* the policies need the planner: read with SQL */
} td_policy_verdict;

/*
 * Facts about a table for the role in effect that PostgreSQL works out from
 * the catalogs at every statement: whether row-level security applies to
 * the role (check_enable_rls()'s answer), and that it may SELECT what a
 * reader reads (only a yes is kept: a no raises its error at every call).
 * Kept per backend, keyed by the table, the role (GetUserId()), the setting
 * row_security and whether a SECURITY_NOFORCE_RLS operation is under way;
 * all are forgotten at any catalog change of a relation or a role that
 * reaches the backend (the invalidations that also make compiled policies
 * stale: a GRANT or REVOKE, ALTER TABLE ... ROW LEVEL SECURITY, a new
 * owner, ALTER ROLE, a membership).  Working them out again was about 10 %
 * of a progress call under row-level security.
 */
typedef enum td_fact
{
	TD_FACT_RLS,				/* check_enable_rls(relid, InvalidOid, false) */
	TD_FACT_SELECT				/* the reader's SELECT privilege check passed */
} td_fact;

/*
 * The fact kind about relid, when kept; false when it must be worked out.
 * *epoch: the catalogs' state it is to be worked out under (for
 * td_fact_set), read before anything is looked up.
 */
extern bool td_fact_get(Oid relid, td_fact kind, int *value, uint64 *epoch);

/*
 * Keep the fact kind about relid, as just worked out under epoch (from
 * td_fact_get); not kept when a catalog change reached the backend since.
 */
extern void td_fact_set(Oid relid, td_fact kind, int value, uint64 epoch);

/*
 * How the policies of rel (opened and locked by the caller) apply to the
 * current user (GetUserId()) now; *policy is set for TD_POLICY_QUAL.
 * Raises PostgreSQL's own error when row_security is off and a policy would
 * apply.  *policy stays valid until td_policy_begin(), or until the second
 * next call of td_policy_for() (so a reader may look up two tables' policies
 * before it begins either).
 */
extern td_policy_verdict td_policy_for(Relation rel, td_row_policy **policy);

/*
 * Begin one read (what one SQL statement would evaluate once, as the
 * uncorrelated subqueries of the policies, is evaluated at most once until
 * td_policy_end()); false when the policy is in use by a read under way
 * (a policy calling back into its reader), and the caller must read with SQL.
 */
extern bool td_policy_begin(td_row_policy *policy);

/* Whether the row in slot passes the policies (a NULL result is false). */
extern bool td_policy_passes(td_row_policy *policy, TupleTableSlot *slot);

/* End the read begun by td_policy_begin(), freeing what it evaluated. */
extern void td_policy_end(td_row_policy *policy);

/* Forget a policy whose read ended by an error (its state is not trusted). */
extern void td_policy_abandon(td_row_policy *policy);

#endif							/* TD_ROW_POLICY_H */
