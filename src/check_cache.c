/*
 * check_cache.c — the CHECK constraints of train_data's tables, parsed once
 * per backend instead of once per statement.
 *
 * PostgreSQL 15 to 17 prepare a table's CHECK constraints the first time a
 * statement checks a row (ExecRelCheck): stringToNode() of each
 * constraint's stored text, then planning and compiling it, in the
 * statement's memory.  A worker's claim and completion run a dozen short
 * INSERT and UPDATE statements on tables with 31 constraints in all, so
 * reading those texts again was about an eighth of a cycle's instructions.
 *
 * An ExecutorStart hook fills each result relation's ri_ConstraintExprs as
 * ExecRelCheck would (ExecPrepareExpr of every constraint, in order, in the
 * query's memory), from trees kept per relation.  A constraint that calls
 * only built-in functions and coerces to no domain is kept planned
 * (planning such an expression always gives the same tree) and only
 * compiled per statement, sharing the kept tree as a cached plan's
 * expressions are shared; any other is kept parsed and planned per
 * statement from a copy, so that a function it calls, or a domain's
 * constraints, are looked up as they are now.  A kept entry is used only while the
 * relation's constraints are exactly the texts it was parsed from (compared
 * at every statement), so an added, dropped or replaced constraint is seen
 * at once.  Only tables of the train_data schema are kept: at most one
 * entry per table; the trees it replaces are freed at the end of the
 * transaction (no statement that compiled them outlives it).
 *
 * The cache is off where ExecRelCheck differs (PostgreSQL 18 skips
 * constraints that are not enforced and expands virtual generated columns;
 * its hook has another signature): see TD_KEEP_CHECKS in compat.h.
 */
#include "postgres.h"

#include "compat.h"
#include "train_data.h"

#ifdef TD_KEEP_CHECKS

#include "access/transam.h"
#include "access/tupdesc.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pg_list.h"
#include "optimizer/optimizer.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* The parsed CHECK constraints of one table, in its constraint order. */
typedef struct kept_checks
{
	Oid			relid;			/* hash key */
	int			ncheck;			/* 0: not parsed yet */
	char	  **texts;			/* the stored texts they were parsed from */
	Node	  **trees;
	bool	   *planned;		/* trees[i] planned (built-in functions, no domain) */
	MemoryContext cxt;			/* holds the above; NULL when none */
} kept_checks;

static ExecutorStart_hook_type prev_executor_start = NULL;
static HTAB *kept_tables = NULL;
static MemoryContext kept_parent = NULL;
static MemoryContext kept_retired = NULL;	/* replaced trees, freed at xact end */

/* A function that is not one of PostgreSQL's own (bootstrap catalog). */
static bool
is_not_builtin(Oid func, void *context)
{
	return func >= FirstGenbkiObjectId;
}

/*
 * Whether expression node calls a function that is not built in, or
 * coerces to a domain: planning drops a CoerceToDomain whose domain has no
 * constraints yet (eval_const_expressions), so a tree planned once would
 * miss a constraint added to the domain later.
 */
static bool
calls_non_builtin(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, CoerceToDomain))
		return true;
	if (check_functions_in_node(node, is_not_builtin, context))
		return true;
	return expression_tree_walker(node, calls_non_builtin, context);
}

/* The transaction ended: no statement uses the trees replaced in it. */
static void
free_retired(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		MemoryContextDeleteChildren(kept_retired);
}

/* Whether e was parsed from exactly the constraints constr has now. */
static bool
kept_matches(const kept_checks *e, const TupleConstr *constr)
{
	if (e->ncheck != constr->num_check)
		return false;
	for (int i = 0; i < e->ncheck; i++)
	{
		if (strcmp(e->texts[i], constr->check[i].ccbin) != 0)
			return false;
	}
	return true;
}

/*
 * Parse constr's constraints into e, replacing what it held.  They are
 * built in a context of the caller's memory first and adopted only when all
 * parsed, so an error leaves e as it was and frees what was built.
 */
static void
kept_parse(kept_checks *e, const TupleConstr *constr)
{
	int			n = constr->num_check;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "train_data kept checks",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	char	  **texts = palloc(n * sizeof(char *));
	Node	  **trees = palloc(n * sizeof(Node *));
	bool	   *planned = palloc(n * sizeof(bool));

	for (int i = 0; i < n; i++)
	{
		texts[i] = pstrdup(constr->check[i].ccbin);
		trees[i] = stringToNode(texts[i]);
		planned[i] = !calls_non_builtin(trees[i], NULL);
		if (planned[i])
			trees[i] = (Node *) expression_planner((Expr *) trees[i]);
	}
	MemoryContextSwitchTo(old);

	MemoryContextSetParent(cxt, kept_parent);
	if (e->cxt != NULL)
		MemoryContextSetParent(e->cxt, kept_retired);
	e->cxt = cxt;
	e->texts = texts;
	e->trees = trees;
	e->planned = planned;
	e->ncheck = n;
}

/* The kept entry of rel, parsed from its constraints as they are now. */
static kept_checks *
kept_entry(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	TupleConstr *constr = rel->rd_att->constr;
	kept_checks *e;
	bool		found;

	if (kept_tables == NULL)
	{
		HASHCTL		ctl;

		kept_parent = AllocSetContextCreate(CacheMemoryContext,
											"train_data check constraints",
											ALLOCSET_SMALL_SIZES);
		kept_retired = AllocSetContextCreate(kept_parent,
											 "train_data replaced check constraints",
											 ALLOCSET_SMALL_SIZES);
		RegisterXactCallback(free_retired, NULL);
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(kept_checks);
		ctl.hcxt = kept_parent;
		kept_tables = hash_create("train_data check constraints", 32, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(kept_tables, &relid, HASH_ENTER, &found);
	if (!found)
	{
		e->ncheck = 0;
		e->texts = NULL;
		e->trees = NULL;
		e->planned = NULL;
		e->cxt = NULL;
	}
	if (e->cxt == NULL || !kept_matches(e, constr))
		kept_parse(e, constr);
	return e;
}

/*
 * What ExecRelCheck does on its first row, done from the kept trees: every
 * constraint planned (unless kept planned) and compiled in the query's
 * memory, in order.  The array is set only when complete (ExecRelCheck
 * builds it on a NULL one).
 */
static void
fill_constraint_exprs(ResultRelInfo *rri, EState *estate)
{
	kept_checks *e = kept_entry(rri->ri_RelationDesc);
	MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
	ExprState **exprs = palloc(e->ncheck * sizeof(ExprState *));

	for (int i = 0; i < e->ncheck; i++)
		exprs[i] = e->planned[i] ? ExecInitExpr((Expr *) e->trees[i], NULL)
			: ExecPrepareExpr((Expr *) copyObject(e->trees[i]), estate);
	MemoryContextSwitchTo(old);
	rri->ri_ConstraintExprs = exprs;
}

/* Whether the statement's result relation rri is one of ours with checks not yet prepared. */
static bool
wants_kept_checks(const ResultRelInfo *rri, Oid nsp)
{
	Relation	rel = rri->ri_RelationDesc;

	return rri->ri_ConstraintExprs == NULL &&
		rel->rd_rel->relkind == RELKIND_RELATION &&
		rel->rd_rel->relnamespace == nsp &&
		rel->rd_att->constr != NULL &&
		rel->rd_att->constr->num_check > 0;
}

/*
 * ExecutorStart hook: the executor as usual, then the CHECK constraints of
 * an INSERT's or UPDATE's train_data tables from the kept trees.
 */
static void
td_executor_start(QueryDesc *query, int eflags)
{
	ListCell   *lc;
	Oid			nsp = InvalidOid;

	if (prev_executor_start)
		prev_executor_start(query, eflags);
	else
		standard_ExecutorStart(query, eflags);

	if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0 ||
		(query->operation != CMD_INSERT && query->operation != CMD_UPDATE))
		return;
	foreach(lc, query->estate->es_opened_result_relations)
	{
		ResultRelInfo *rri = (ResultRelInfo *) lfirst(lc);

		if (!OidIsValid(nsp))
			nsp = get_namespace_oid("train_data", true);
		if (OidIsValid(nsp) && wants_kept_checks(rri, nsp))
			fill_constraint_exprs(rri, query->estate);
	}
}

/* Install the hook (from _PG_init). */
void
td_install_check_cache(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = td_executor_start;
}

#else							/* !TD_KEEP_CHECKS */

/* Nothing to install: this PostgreSQL prepares checks differently. */
void
td_install_check_cache(void)
{
}

#endif							/* TD_KEEP_CHECKS */
