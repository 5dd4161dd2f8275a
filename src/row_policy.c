/*
 * row_policy.c — a table's row-level security policies, evaluated on rows
 * that C code reads itself (an index scan), so such code needs neither SPI
 * nor the planner per call and still shows a caller exactly the rows a
 * SELECT of theirs would.
 *
 * Which policies, and how they combine, is PostgreSQL's own decision:
 * get_row_security_policies() is asked, as the rewriter asks it for a SELECT
 * of the table by the current user (the SELECT and ALL policies applying to
 * the user's roles, permissive ones OR'ed, restrictive ones AND'ed, deny
 * when none permits).  Nothing is copied from the policies into this code:
 * whatever a policy says (ALTER POLICY, a new policy, another role) is what
 * is evaluated, once the change has reached this backend.
 *
 * What is kept, per backend, is the compiled expression of those quals for
 * one (table, user), never a verdict about a row: every row read is judged
 * afresh, with the values of its own version under the reader's snapshot
 * (a re-owned or deleted row is judged as it is now, and a policy reading
 * anything, a setting, the time or another table through a function, reads
 * it again at every call).  The compiled expression depends only on the
 * catalogs, and is thrown away when any of them changes:
 *
 *   - the table's relcache entry (CREATE, ALTER and DROP POLICY, ALTER TABLE
 *     ... ROW LEVEL SECURITY, GRANT and REVOKE all invalidate it): a
 *     relcache callback marks the compiled policy stale;
 *   - the roles and their memberships (which policies apply to a user) and
 *     the functions (a policy's function redefined): syscache callbacks
 *     mark every compiled policy stale;
 *   - the user: the key includes GetUserId(), so SET ROLE and a SECURITY
 *     DEFINER caller get the policies of the role in effect.
 *
 * A policy compiled while an invalidation arrived serves that read only.
 * Kept the same way, and dropped at any of those changes: two facts per
 * (table, user) that PostgreSQL works out from the catalogs at every
 * statement, whether row-level security applies and that the reader may
 * SELECT (td_fact_get, row_policy.h).
 *
 * Invalidations arrive when the reader locks the table: the first lock of a
 * transaction processes them, and a concurrent ALTER POLICY needs an
 * ACCESS EXCLUSIVE lock the reader's ACCESS SHARE lock excludes until the
 * reader's transaction ends (a prepared transaction that changed a policy
 * holds that lock until COMMIT PREPARED, which sends the invalidation; a hot
 * standby replays both).
 *
 * Only quals of a shape whose compiled form depends on nothing else are
 * compiled; any other reads with SQL (TD_POLICY_UNSUPPORTED), so that the
 * native read cannot differ from a SELECT:
 *   - one condition: a single qual that is not an AND, before planning and
 *     after it (the planner splits ANDs and restrictive policies into
 *     conditions it orders by cost, and an error one of them raises, or the
 *     values it shows, would depend on an order this code does not
 *     reproduce; folding constants turns NOT (x OR y) into an AND, and
 *     canonicalizing pulls the shared part of ORs out, as in (A AND B) OR
 *     (A AND C)); the qual is compiled as the planner leaves it (A OR (A
 *     AND B), two permissive policies sharing A, is A), and ORs are
 *     evaluated in order by both;
 *   - functions and operators of pg_catalog and of the table's own schema
 *     only (the extension's: they pin their search_path or were parsed when
 *     created): no user function can run while a policy is compiled, and
 *     none is inlined with the search_path of the moment;
 *   - no domain (its constraints would be compiled in);
 *   - no volatile function in a subquery (equal subqueries are one
 *     parameter, evaluated once, as the planner's canonical form needs).
 * A policy compiled while another is being compiled is refused too (SQL).
 *
 * A policy's uncorrelated scalar subqueries without a FROM, such as the
 * project's (SELECT train_data.current_user_id()), are what the planner
 * makes initplans: they become parameters, evaluated at most once per read,
 * and only when a row needs them (an error they raise for an unknown row is
 * not raised, as with SQL).  Any other subquery (a lookup in another table,
 * say) needs the planner: td_policy_for() then answers
 * TD_POLICY_UNSUPPORTED and the caller reads with SQL.  So do the policy
 * hooks of other extensions, which could change without any invalidation.
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/params.h"
#include "optimizer/optimizer.h"
#include "rewrite/rowsecurity.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "compat.h"
#include "row_policy.h"
#include "train_data.h"

/* Most (table, user) pairs compiled at once in a backend. */
#define TD_POLICY_SLOTS 8

struct td_row_policy
{
	Oid			relid;			/* InvalidOid: a free slot */
	Oid			userid;
	bool		stale;			/* a catalog it depends on changed */
	bool		in_use;			/* a read is under way */
	bool		unsupported;	/* the quals need the planner */
	uint64		last_used;		/* for replacing the least recently used */
	MemoryContext cxt;			/* everything below */
	ExprState  *qual;			/* the quals, implicitly AND'ed */
	int			nparams;		/* the subqueries made parameters */
	ExprState **param_exprs;
	bool	   *param_ready;	/* evaluated in this read */
	ParamListInfo params;
	ExprContext *econtext;		/* per-read memory, the scanned row */
};

/* What compiling one relation's quals collects. */
typedef struct compile_state
{
	bool		unsupported;
	List	   *param_exprs;	/* the subqueries' expressions, in id order */
	List	   *sublinks;		/* the subqueries themselves, in the same order */
} compile_state;

static td_row_policy slots[TD_POLICY_SLOTS];
static uint64 use_clock = 0;
static bool callbacks_registered = false;
static bool compiling = false;	/* a policy is being compiled */

/* Most facts (td_fact_get) kept at once in a backend. */
#define TD_FACTS 16

/*
 * A fact about a table for a role, and what besides the catalogs it was
 * worked out under: the setting row_security and whether a
 * SECURITY_NOFORCE_RLS operation was under way.  Kept while catalog_epoch
 * is the one it was found in; the callbacks below start a new epoch at any
 * catalog change they hear of, any relation's or role's (and a policy
 * compiled while one arrived is compiled again: policy_slot).
 */
typedef struct td_fact_entry
{
	Oid			relid;
	Oid			userid;
	td_fact		kind;
	bool		row_security;
	bool		noforce;
	uint64		epoch;			/* 0: a free entry */
	int			value;
} td_fact_entry;

static td_fact_entry facts[TD_FACTS];
static int	next_fact = 0;		/* the entry replaced next */
static uint64 catalog_epoch = 1;

/* Relcache callback: a table (or every table) changed. */
static void
relcache_changed(Datum arg, Oid relid)
{
	catalog_epoch++;
	for (int i = 0; i < TD_POLICY_SLOTS; i++)
		if (slots[i].relid != InvalidOid && (relid == InvalidOid || slots[i].relid == relid))
			slots[i].stale = true;
}

/* Syscache callback: a role, a membership or a function changed. */
static void
syscache_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	catalog_epoch++;
	for (int i = 0; i < TD_POLICY_SLOTS; i++)
		slots[i].stale = true;
}

/* Register the invalidation callbacks, once per backend. */
static void
register_callbacks(void)
{
	if (callbacks_registered)
		return;
	td_on_relation_change(relcache_changed, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, syscache_changed, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, syscache_changed, (Datum) 0);
	CacheRegisterSyscacheCallback(PROCOID, syscache_changed, (Datum) 0);
	CacheRegisterSyscacheCallback(TYPEOID, syscache_changed, (Datum) 0);
	callbacks_registered = true;
}

/* Whether a node is one this code refuses to evaluate without the planner. */
static bool
needs_planner(Node *node)
{
	switch (nodeTag(node))
	{
		case T_SubLink:
		case T_SubPlan:
		case T_AlternativeSubPlan:
		case T_Query:
		case T_Aggref:
		case T_WindowFunc:
		case T_GroupingFunc:
		case T_CurrentOfExpr:
		case T_NextValueExpr:
		case T_PlaceHolderVar:
			return true;
		default:
			return false;
	}
}

/*
 * Walker: true when a subquery's expression refers to anything but
 * constants and functions (a column, an outer row, another subquery).
 */
static bool
param_expr_unsupported(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (needs_planner(node) || IsA(node, Var) || IsA(node, Param))
		return true;
	return expression_tree_walker(node, param_expr_unsupported, context);
}

/*
 * Walker: true when a qual holds what cannot be evaluated on the scanned row
 * alone (after its simple subqueries became parameters): a column of
 * another relation, a system or whole-row column, a foreign parameter.
 */
static bool
qual_unsupported(Node *node, int *nparams)
{
	if (node == NULL)
		return false;
	if (needs_planner(node))
		return true;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;

		return var->varno != 1 || var->varlevelsup != 0 || var->varattno <= 0;
	}
	if (IsA(node, Param))
	{
		Param	   *param = (Param *) node;

		return param->paramkind != PARAM_EXTERN || param->paramid < 1 || param->paramid > *nparams;
	}
	return expression_tree_walker(node, qual_unsupported, nparams);
}

/*
 * The expression of an uncorrelated scalar subquery without FROM
 * ((SELECT f()), what the planner makes an initplan), or NULL for any
 * other subquery.
 */
static Expr *
simple_subquery_expr(SubLink *sublink)
{
	Query	   *query = (Query *) sublink->subselect;
	TargetEntry *tle;

	if (sublink->subLinkType != EXPR_SUBLINK || sublink->testexpr != NULL ||
		query == NULL || !IsA(query, Query) || query->commandType != CMD_SELECT ||
		query->utilityStmt != NULL || query->rtable != NIL ||
		(query->jointree != NULL && (query->jointree->fromlist != NIL || query->jointree->quals != NULL)) ||
		query->hasAggs || query->hasWindowFuncs || query->hasTargetSRFs || query->hasSubLinks ||
		query->hasRecursive || query->hasModifyingCTE || query->hasForUpdate ||
		query->cteList != NIL || query->groupClause != NIL || query->groupingSets != NIL ||
		query->havingQual != NULL || query->windowClause != NIL || query->distinctClause != NIL ||
		query->sortClause != NIL || query->limitOffset != NULL || query->limitCount != NULL ||
		query->rowMarks != NIL || query->setOperations != NULL ||
		list_length(query->targetList) != 1)
		return NULL;
	tle = linitial_node(TargetEntry, query->targetList);
	if (tle->resjunk || param_expr_unsupported((Node *) tle->expr, NULL))
		return NULL;
	return tle->expr;
}

/* Mutator: each simple subquery becomes a parameter; others are noted. */
static Node *
subqueries_to_params(Node *node, compile_state *state)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, SubLink))
	{
		Expr	   *expr = simple_subquery_expr((SubLink *) node);
		Param	   *param;
		ListCell   *lc;
		int			id = 0;

		if (expr == NULL)
		{
			state->unsupported = true;
			return node;
		}
		/*
		 * Equal subqueries are one parameter, so that the qual simplifies as
		 * the planner's does (it compares them as equal: A OR (A AND B) is
		 * A); they are evaluated once, which only a volatile one could tell
		 * (refused: supported_shape).
		 */
		foreach(lc, state->sublinks)
		{
			if (equal(lfirst(lc), node))
			{
				id = foreach_current_index(lc) + 1;
				break;
			}
		}
		if (id == 0)
		{
			state->param_exprs = lappend(state->param_exprs, expr);
			state->sublinks = lappend(state->sublinks, node);
			id = list_length(state->param_exprs);
		}
		param = makeNode(Param);
		param->paramkind = PARAM_EXTERN;
		param->paramid = id;
		param->paramtype = exprType((Node *) expr);
		param->paramtypmod = exprTypmod((Node *) expr);
		param->paramcollid = exprCollation((Node *) expr);
		param->location = -1;
		return (Node *) param;
	}
	return expression_tree_mutator(node, subqueries_to_params, state);
}

/*
 * Parameter hook: the value of a subquery, evaluated on first use in a read
 * (as an initplan is).
 */
static ParamExternData *
fetch_param(ParamListInfo params, int paramid, bool speculative, ParamExternData *workspace)
{
	td_row_policy *policy = (td_row_policy *) params->paramFetchArg;
	ParamExternData *prm = &params->params[paramid - 1];

	if (!policy->param_ready[paramid - 1])
	{
		if (speculative)
		{
			workspace->ptype = InvalidOid;
			return workspace;
		}
		prm->value = ExecEvalExpr(policy->param_exprs[paramid - 1], policy->econtext, &prm->isnull);
		policy->param_ready[paramid - 1] = true;
	}
	return prm;
}

/* The security quals PostgreSQL applies to a SELECT of rel by the current user. */
static List *
select_security_quals(Relation rel)
{
	Query	   *query;
	RangeTblEntry *rte;
	List	   *quals;
	List	   *checks;
	bool		has_row_security;
	bool		has_sublinks;

	td_select_query_of(RelationGetRelid(rel), rel->rd_rel->relkind, &query, &rte);
	get_row_security_policies(query, rte, 1, &quals, &checks, &has_row_security, &has_sublinks);
	return quals;
}

/* Whether a function is not one of pg_catalog's or of the namespace nsp (its context). */
static bool
untrusted_function(Oid funcid, void *context)
{
	Oid			nsp = get_func_namespace(funcid);

	return nsp != PG_CATALOG_NAMESPACE && nsp != *(Oid *) context;
}

/*
 * Walker: true when an expression calls a function of another schema than
 * pg_catalog and the table's (context: its namespace), or holds a domain.
 */
static bool
untrusted_node(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, CoerceToDomain) || IsA(node, CoerceToDomainValue))
		return true;
	if (check_functions_in_node(node, untrusted_function, context))
		return true;
	return expression_tree_walker(node, untrusted_node, context);
}

/* Whether the quals are of the one shape compiled (see the header). */
static bool
supported_shape(List *quals, List *param_exprs, Oid nsp)
{
	Node	   *qual;

	if (list_length(quals) != 1)
		return false;
	qual = (Node *) linitial(quals);
	if (is_andclause(qual) || contain_volatile_functions((Node *) param_exprs))
		return false;
	return !untrusted_node(qual, &nsp) && !untrusted_node((Node *) param_exprs, &nsp);
}

/*
 * The qual as the planner leaves it: constants folded (which turns NOT (x
 * OR y) into an AND) and canonicalized (shared parts of ORs pulled out: A
 * OR (A AND B) is A, (A AND B) OR (A AND C) an AND); NULL when that is an
 * AND, whose parts the planner orders by cost (see the header).
 */
static Node *
planned_qual(Node *qual)
{
	qual = (Node *) canonicalize_qual(expression_planner((Expr *) qual), false);
	return is_andclause(qual) ? NULL : qual;
}

/* Set up the parameters of a compiled policy from the subqueries' expressions. */
static void
compile_params(td_row_policy *policy, List *exprs)
{
	int			i = 0;
	ListCell   *lc;

	policy->nparams = list_length(exprs);
	policy->param_exprs = (ExprState **) palloc0(sizeof(ExprState *) * Max(policy->nparams, 1));
	policy->param_ready = (bool *) palloc0(sizeof(bool) * Max(policy->nparams, 1));
	policy->params = makeParamList(policy->nparams);
	policy->params->paramFetch = fetch_param;
	policy->params->paramFetchArg = policy;
	foreach(lc, exprs)
	{
		Expr	   *expr = expression_planner((Expr *) lfirst(lc));

		if (param_expr_unsupported((Node *) expr, NULL))
		{
			policy->unsupported = true;
			return;
		}
		policy->param_exprs[i] = ExecInitExpr(expr, NULL);
		policy->params->params[i].ptype = exprType((Node *) expr);
		policy->params->params[i].pflags = PARAM_FLAG_CONST;
		i++;
	}
}

/* Compile rel's SELECT quals for the current user into policy->cxt. */
static void
compile_policy(td_row_policy *policy, Relation rel)
{
	MemoryContext old = MemoryContextSwitchTo(policy->cxt);
	compile_state state = {0};
	List	   *quals = NIL;
	ListCell   *lc;

	foreach(lc, select_security_quals(rel))
		quals = lappend(quals, subqueries_to_params((Node *) lfirst(lc), &state));
	if (!state.unsupported && !supported_shape(quals, state.param_exprs, RelationGetNamespace(rel)))
		state.unsupported = true;
	if (!state.unsupported)
	{
		Node	   *qual = planned_qual((Node *) linitial(quals));

		if (qual == NULL)
			state.unsupported = true;
		else
			linitial(quals) = qual;
	}
	if (!state.unsupported)
	{
		int			nparams = list_length(state.param_exprs);

		state.unsupported = qual_unsupported((Node *) quals, &nparams);
	}
	policy->unsupported = state.unsupported;
	if (!policy->unsupported)
		compile_params(policy, state.param_exprs);
	if (!policy->unsupported)
	{
		policy->qual = ExecInitQual(quals, NULL);
		policy->econtext = CreateStandaloneExprContext();
		policy->econtext->ecxt_param_list_info = policy->params;
	}
	MemoryContextSwitchTo(old);
}

/*
 * compile_policy, with every policy lookup made meanwhile (by code a policy
 * runs while it is compiled) refused: it reads with SQL.
 */
static void
compile_policy_guarded(td_row_policy *policy, Relation rel)
{
	compiling = true;
	PG_TRY();
	{
		compile_policy(policy, rel);
	}
	PG_FINALLY();
	{
		compiling = false;
	}
	PG_END_TRY();
}

/* Empty a slot (its memory freed), ready to compile into. */
static void
reset_slot(td_row_policy *policy)
{
	if (policy->cxt != NULL)
		MemoryContextDelete(policy->cxt);
	memset(policy, 0, sizeof(*policy));
}

/* The slot of (relid, userid), or else a free one, or else the least recently used. */
static td_row_policy *
find_slot(Oid relid, Oid userid)
{
	td_row_policy *victim = NULL;

	for (int i = 0; i < TD_POLICY_SLOTS; i++)
		if (slots[i].relid == relid && slots[i].userid == userid)
			return &slots[i];
	for (int i = 0; i < TD_POLICY_SLOTS; i++)
	{
		td_row_policy *p = &slots[i];

		if (p->relid == InvalidOid)
			return p;
		/* never the slot the previous call returned: its caller may hold it unbegun */
		if (!p->in_use && p->last_used != use_clock &&
			(victim == NULL || p->last_used < victim->last_used))
			victim = p;
	}
	return victim;
}

/*
 * The policy of rel for userid, compiled again if stale; NULL when its slot
 * is in use by a read under way.
 */
static td_row_policy *
policy_slot(Relation rel, Oid userid)
{
	Oid			relid = RelationGetRelid(rel);
	td_row_policy *p = find_slot(relid, userid);
	uint64		epoch;

	if (p == NULL || p->in_use)
		return NULL;
	if (p->relid == relid && p->userid == userid && !p->stale)
		return p;
	if (compiling)
		return NULL;
	reset_slot(p);
	epoch = catalog_epoch;
	p->cxt = AllocSetContextCreate(CacheMemoryContext, "train_data row policy", ALLOCSET_SMALL_SIZES);
	compile_policy_guarded(p, rel);
	p->relid = relid;
	p->userid = userid;
	/*
	 * An invalidation processed while compiling (a catalog read opens a
	 * table) found no slot of relid to mark: the quals may predate it, so
	 * they serve this read, as a statement begun before the change, and are
	 * compiled again at the next.
	 */
	if (catalog_epoch != epoch)
		p->stale = true;
	return p;
}

/* The entry of the fact kind about relid for the role and session as they are now, or NULL. */
static td_fact_entry *
fact_entry(Oid relid, td_fact kind)
{
	Oid			userid = GetUserId();
	bool		noforce = InNoForceRLSOperation();

	for (int i = 0; i < TD_FACTS; i++)
	{
		td_fact_entry *f = &facts[i];

		if (f->epoch == catalog_epoch && f->relid == relid && f->kind == kind && f->userid == userid &&
			f->row_security == row_security && f->noforce == noforce)
			return f;
	}
	return NULL;
}

bool
td_fact_get(Oid relid, td_fact kind, int *value, uint64 *epoch)
{
	td_fact_entry *f;

	register_callbacks();
	*epoch = catalog_epoch;
	f = fact_entry(relid, kind);
	if (f == NULL)
		return false;
	*value = f->value;
	return true;
}

void
td_fact_set(Oid relid, td_fact kind, int value, uint64 epoch)
{
	td_fact_entry *f;

	/*
	 * Working the fact out read catalogs, and opening one can process
	 * invalidations that arrived meanwhile (a REVOKE committed while the
	 * check ran): the answer may be from before them, so it is not kept
	 * (a review of the first form, which kept it under the new epoch).
	 */
	if (epoch != catalog_epoch)
		return;
	f = fact_entry(relid, kind);
	if (f == NULL)
	{
		f = &facts[next_fact];
		next_fact = (next_fact + 1) % TD_FACTS;
		f->relid = relid;
		f->kind = kind;
		f->userid = GetUserId();
		f->row_security = row_security;
		f->noforce = InNoForceRLSOperation();
		f->epoch = catalog_epoch;
	}
	f->value = value;
}

td_policy_verdict
td_policy_for(Relation rel, td_row_policy **policy)
{
	td_row_policy *p;
	Oid			relid = RelationGetRelid(rel);
	int			rls;
	uint64		epoch;

	register_callbacks();
	*policy = NULL;
	/* (an error, row_security off where a policy applies, is raised at every call) */
	if (!td_fact_get(relid, TD_FACT_RLS, &rls, &epoch))
	{
		rls = check_enable_rls(relid, InvalidOid, false);
		td_fact_set(relid, TD_FACT_RLS, rls, epoch);
	}
	switch (rls)
	{
		case RLS_NONE:
		case RLS_NONE_ENV:
			return TD_POLICY_NONE;
		default:
			break;
	}
	if (row_security_policy_hook_permissive != NULL || row_security_policy_hook_restrictive != NULL)
		return TD_POLICY_UNSUPPORTED;
	p = policy_slot(rel, GetUserId());
	if (p == NULL || p->unsupported)
		return TD_POLICY_UNSUPPORTED;
	p->last_used = ++use_clock;
	*policy = p;
	return TD_POLICY_QUAL;
}

bool
td_policy_begin(td_row_policy *policy)
{
	if (policy->in_use)
		return false;
	policy->in_use = true;
	for (int i = 0; i < policy->nparams; i++)
		policy->param_ready[i] = false;
	return true;
}

bool
td_policy_passes(td_row_policy *policy, TupleTableSlot *slot)
{
	MemoryContext old = MemoryContextSwitchTo(policy->econtext->ecxt_per_tuple_memory);
	bool		pass;

	policy->econtext->ecxt_scantuple = slot;
	pass = ExecQual(policy->qual, policy->econtext);
	policy->econtext->ecxt_scantuple = NULL;
	MemoryContextSwitchTo(old);
	return pass;
}

void
td_policy_end(td_row_policy *policy)
{
	ResetExprContext(policy->econtext);
	policy->in_use = false;
}

void
td_policy_abandon(td_row_policy *policy)
{
	policy->in_use = false;
	policy->stale = true;
}
