/*
 * check_cache.c — the CHECK constraints and trigger WHEN clauses of
 * train_data's tables, parsed once per backend instead of once per
 * statement.
 *
 * PostgreSQL 15 to 17 prepare a table's CHECK constraints the first time a
 * statement checks a row (ExecRelCheck), and a trigger's WHEN clause the
 * first time the statement fires it (TriggerEnabled): stringToNode() of
 * the stored text, then planning and compiling it, in the statement's
 * memory.  A worker's claim and completion run a dozen short INSERT and
 * UPDATE statements on tables with 31 constraints and a dozen WHEN
 * clauses, so reading those texts again was about an eighth of a cycle's
 * instructions.
 *
 * An ExecutorStart hook fills each result relation's ri_ConstraintExprs as
 * ExecRelCheck would (ExecPrepareExpr of every constraint, in order, in the
 * query's memory) and the ri_TrigWhenExprs of the triggers the statement
 * fires as TriggerEnabled would (ExecPrepareQual), from trees kept per
 * relation.  A constraint is kept planned, and only compiled per statement
 * (sharing the kept tree as a cached plan's expressions are shared), when
 * planning it cannot come out otherwise later: it calls only built-in
 * functions that are not SQL functions (which planning inlines only for a
 * role allowed to run them), coerces to no domain (planning drops a
 * CoerceToDomain whose domain has no constraints yet) and converts nothing
 * through text (an output function may read the session's settings, as
 * float8out reads extra_float_digits, when planning folds a constant).
 * Any other constraint, and every WHEN clause, is kept parsed and planned
 * per statement from a copy, so a function it calls, a domain's
 * constraints or the session's settings count as they are now.  A kept
 * entry is used only while the relation's constraints and the statement's
 * triggers are exactly the texts (and trigger oids) it was parsed from,
 * compared at every statement, so an added, dropped or replaced constraint
 * or trigger is seen at once.  Only plain INSERT and UPDATE statements (no
 * data-modifying WITH, whose targets may be written with another command)
 * on tables of the train_data and train_data_internal schemas are served:
 * at most one entry per table; the trees it replaces are freed at the end
 * of the transaction (no statement that compiled them outlives it).
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
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pg_list.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteManip.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

/*
 * Expressions kept parsed: texts[i] is the stored text trees[i] was parsed
 * from (NULL for none: a trigger without WHEN), planned[i] whether the tree
 * is also planned (a CHECK constraint that need not be planned per
 * statement: see plan_per_statement).
 */
typedef struct kept_exprs
{
	int			n;
	char	  **texts;
	Node	  **trees;
	bool	   *planned;
} kept_exprs;

/*
 * One table: its CHECK constraints in their order, and the WHEN clauses of
 * its triggers in their order (trigger oids beside them), as
 * TriggerEnabled prepares them (OLD and NEW as INNER_VAR and OUTER_VAR, a
 * list of ANDed conditions).
 */
typedef struct kept_table
{
	Oid			relid;			/* hash key */
	kept_exprs	checks;
	kept_exprs	whens;
	Oid		   *tgoids;
	MemoryContext cxt;			/* holds the above; NULL when not parsed yet */
} kept_table;

static ExecutorStart_hook_type prev_executor_start = NULL;
static HTAB *kept_tables = NULL;
static MemoryContext kept_parent = NULL;
static MemoryContext kept_retired = NULL;	/* replaced trees, freed at xact end */

/*
 * A function planning could change or read differently later: one that is
 * not PostgreSQL's own (bootstrap catalog), which may be replaced, or a
 * built-in SQL function, which planning inlines only for a role allowed to
 * run it.
 */
static bool
plans_differently(Oid func, void *context)
{
	HeapTuple	tuple;
	bool		sql;

	if (func >= FirstGenbkiObjectId)
		return true;
	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(func));
	if (!HeapTupleIsValid(tuple))
		return true;
	sql = ((Form_pg_proc) GETSTRUCT(tuple))->prolang == SQLlanguageId;
	ReleaseSysCache(tuple);
	return sql;
}

/*
 * Whether expression node must be planned per statement rather than once:
 * it calls a function that plans differently (above), coerces to a domain
 * (planning drops a CoerceToDomain whose domain has no constraints yet, so
 * a tree planned once would miss a constraint added later), or converts a
 * value through text (an output function may read the session's settings,
 * as float8out reads extra_float_digits, and planning folds constants).
 */
static bool
plan_per_statement(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, CoerceToDomain) || IsA(node, CoerceViaIO) || IsA(node, ArrayCoerceExpr))
		return true;
	if (check_functions_in_node(node, plans_differently, context))
		return true;
	return expression_tree_walker(node, plan_per_statement, context);
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

/* Whether stored text a (may be NULL) is b (may be NULL). */
static bool
same_text(const char *a, const char *b)
{
	return (a == NULL) ? b == NULL : (b != NULL && strcmp(a, b) == 0);
}

/* Whether e was parsed from exactly the constraints constr has now. */
static bool
checks_match(const kept_table *e, const TupleConstr *constr)
{
	int			n = constr ? constr->num_check : 0;

	if (e->checks.n != n)
		return false;
	for (int i = 0; i < n; i++)
	{
		if (!same_text(e->checks.texts[i], constr->check[i].ccbin))
			return false;
	}
	return true;
}

/* Whether e was parsed from exactly the triggers and WHEN clauses td has now. */
static bool
whens_match(const kept_table *e, const TriggerDesc *td)
{
	int			n = td ? td->numtriggers : 0;

	if (e->whens.n != n)
		return false;
	for (int i = 0; i < n; i++)
	{
		if (e->tgoids[i] != td->triggers[i].tgoid || !same_text(e->whens.texts[i], td->triggers[i].tgqual))
			return false;
	}
	return true;
}

/* Room for n expressions in the current memory context. */
static void
exprs_alloc(kept_exprs *x, int n)
{
	x->n = n;
	x->texts = palloc0((n ? n : 1) * sizeof(char *));
	x->trees = palloc0((n ? n : 1) * sizeof(Node *));
	x->planned = palloc0((n ? n : 1) * sizeof(bool));
}

/*
 * Keep tree i (parsed from text), planned once unless plan_per_statement.
 * Planning here may raise an error (a constant expression that fails), as
 * ExecRelCheck would on the statement's first row; so it is done for a
 * CHECK constraint only: a WHEN clause is planned per statement, and only
 * for the triggers a statement fires (fill_when_exprs).
 */
static void
exprs_set(kept_exprs *x, int i, const char *text, Node *tree, bool plan)
{
	x->texts[i] = pstrdup(text);
	x->planned[i] = plan && !plan_per_statement(tree, NULL);
	x->trees[i] = x->planned[i] ? (Node *) expression_planner((Expr *) tree) : tree;
}

/* A trigger's WHEN clause as TriggerEnabled prepares it, before planning. */
static Node *
when_tree(const char *tgqual)
{
	Node	   *tree = stringToNode(tgqual);

	ChangeVarNodes(tree, PRS2_OLD_VARNO, INNER_VAR, 0);
	ChangeVarNodes(tree, PRS2_NEW_VARNO, OUTER_VAR, 0);
	return (Node *) make_ands_implicit((Expr *) tree);
}

/*
 * Parse rel's constraints and the WHEN clauses of td (the statement's copy
 * of its triggers) into e, replacing what it held.  They are built in a
 * context of the caller's memory first and adopted only when all parsed,
 * so an error leaves e as it was and frees what was built.
 */
static void
kept_parse(kept_table *e, Relation rel, const TriggerDesc *td)
{
	const TupleConstr *constr = rel->rd_att->constr;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "train_data kept expressions",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	kept_exprs	checks,
				whens;
	Oid		   *tgoids;

	exprs_alloc(&checks, constr ? constr->num_check : 0);
	for (int i = 0; i < checks.n; i++)
		exprs_set(&checks, i, constr->check[i].ccbin, stringToNode(constr->check[i].ccbin), true);
	exprs_alloc(&whens, td ? td->numtriggers : 0);
	tgoids = palloc0((whens.n ? whens.n : 1) * sizeof(Oid));
	for (int i = 0; i < whens.n; i++)
	{
		tgoids[i] = td->triggers[i].tgoid;
		if (td->triggers[i].tgqual != NULL)
			exprs_set(&whens, i, td->triggers[i].tgqual, when_tree(td->triggers[i].tgqual), false);
	}
	MemoryContextSwitchTo(old);

	MemoryContextSetParent(cxt, kept_parent);
	if (e->cxt != NULL)
		MemoryContextSetParent(e->cxt, kept_retired);
	e->cxt = cxt;
	e->checks = checks;
	e->whens = whens;
	e->tgoids = tgoids;
}

/* The kept entry of rel, parsed from its constraints and triggers td as they are now. */
static kept_table *
kept_entry(Relation rel, const TriggerDesc *td)
{
	Oid			relid = RelationGetRelid(rel);
	kept_table *e;
	bool		found;

	if (kept_tables == NULL)
	{
		HASHCTL		ctl;

		kept_parent = AllocSetContextCreate(CacheMemoryContext,
											"train_data kept expressions",
											ALLOCSET_SMALL_SIZES);
		kept_retired = AllocSetContextCreate(kept_parent,
											 "train_data replaced expressions",
											 ALLOCSET_SMALL_SIZES);
		RegisterXactCallback(free_retired, NULL);
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(kept_table);
		ctl.hcxt = kept_parent;
		kept_tables = hash_create("train_data kept expressions", 32, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(kept_tables, &relid, HASH_ENTER, &found);
	if (!found)
		e->cxt = NULL;
	if (e->cxt == NULL || !checks_match(e, rel->rd_att->constr) || !whens_match(e, td))
		kept_parse(e, rel, td);
	return e;
}

/* Kept expression i compiled for a statement (planned first unless kept planned). */
static ExprState *
exprs_compile(const kept_exprs *x, int i, bool qual, EState *estate)
{
	if (x->planned[i])
		return qual ? ExecInitQual((List *) x->trees[i], NULL) : ExecInitExpr((Expr *) x->trees[i], NULL);
	return qual ? ExecPrepareQual((List *) copyObject(x->trees[i]), estate)
		: ExecPrepareExpr((Expr *) copyObject(x->trees[i]), estate);
}

/*
 * What ExecRelCheck does on its first row, done from the kept trees: every
 * constraint compiled in the query's memory, in order.  The array is set
 * only when complete (ExecRelCheck builds it on a NULL one).
 */
static void
fill_constraint_exprs(ResultRelInfo *rri, const kept_table *e, EState *estate)
{
	ExprState **exprs = palloc(e->checks.n * sizeof(ExprState *));

	for (int i = 0; i < e->checks.n; i++)
		exprs[i] = exprs_compile(&e->checks, i, false, estate);
	rri->ri_ConstraintExprs = exprs;
}

/* Whether TriggerEnabled goes on to a trigger's WHEN clause under the session's replication role. */
static bool
fires_in_session(const Trigger *trigger)
{
	if (trigger->tgenabled == TRIGGER_DISABLED)
		return false;
	if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		return trigger->tgenabled != TRIGGER_FIRES_ON_ORIGIN;
	return trigger->tgenabled != TRIGGER_FIRES_ON_REPLICA;
}

/*
 * What TriggerEnabled does the first time it meets a WHEN clause, done from
 * the kept parse trees (planned and compiled for the statement, as it
 * would) for the triggers the statement fires: those of its command that
 * fire in the session, and UPDATE triggers for an INSERT with ON CONFLICT
 * DO UPDATE (ri_onConflict).  An UPDATE OF trigger, which fires only when
 * its columns change, and any other are left to TriggerEnabled.  The
 * statement's trigger descriptor is a copy of the relation's, made with it.
 */
static void
fill_when_exprs(ResultRelInfo *rri, const kept_table *e, CmdType operation, EState *estate)
{
	const TriggerDesc *td = rri->ri_TrigDesc;

	for (int i = 0; i < td->numtriggers; i++)
	{
		const Trigger *trigger = &td->triggers[i];
		int16		type = trigger->tgtype;

		if (rri->ri_TrigWhenExprs[i] != NULL || e->whens.texts[i] == NULL ||
			trigger->tgnattr > 0 || !fires_in_session(trigger))
			continue;
		if (operation == CMD_INSERT ? !(TRIGGER_FOR_INSERT(type) || (rri->ri_onConflict && TRIGGER_FOR_UPDATE(type)))
			: !TRIGGER_FOR_UPDATE(type))
			continue;
		rri->ri_TrigWhenExprs[i] = exprs_compile(&e->whens, i, true, estate);
	}
}

/*
 * Whether rri is a table of ours (in schema nsp[0] or nsp[1]: train_data,
 * train_data_internal) whose constraints or WHEN clauses are still to
 * prepare.
 */
static bool
wants_kept(const ResultRelInfo *rri, const Oid nsp[2], bool *checks, bool *whens)
{
	Relation	rel = rri->ri_RelationDesc;
	const TriggerDesc *td = rri->ri_TrigDesc;

	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		(rel->rd_rel->relnamespace != nsp[0] && rel->rd_rel->relnamespace != nsp[1]))
		return false;
	*checks = rri->ri_ConstraintExprs == NULL && rel->rd_att->constr != NULL &&
		rel->rd_att->constr->num_check > 0;
	*whens = false;
	if (td != NULL && rri->ri_TrigWhenExprs != NULL)
	{
		for (int i = 0; i < td->numtriggers && !*whens; i++)
			*whens = td->triggers[i].tgqual != NULL;
	}
	return *checks || *whens;
}

/*
 * ExecutorStart hook: the executor as usual, then the CHECK constraints and
 * trigger WHEN clauses of an INSERT's or UPDATE's train_data tables from
 * the kept trees.
 */
static void
td_executor_start(QueryDesc *query, int eflags)
{
	ListCell   *lc;
	Oid			nsp[2] = {InvalidOid, InvalidOid};

	if (prev_executor_start)
		prev_executor_start(query, eflags);
	else
		standard_ExecutorStart(query, eflags);

	/* one INSERT or UPDATE: a data-modifying WITH may write with another command */
	if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0 ||
		(query->operation != CMD_INSERT && query->operation != CMD_UPDATE) ||
		query->plannedstmt->hasModifyingCTE)
		return;
	foreach(lc, query->estate->es_opened_result_relations)
	{
		ResultRelInfo *rri = (ResultRelInfo *) lfirst(lc);
		bool		checks,
					whens;
		kept_table *e;
		MemoryContext old;

		/* (the internal schema's tables too: a claim writes two of them) */
		if (!OidIsValid(nsp[0]))
		{
			nsp[0] = get_namespace_oid("train_data", true);
			nsp[1] = get_namespace_oid("train_data_internal", true);
		}
		if (!OidIsValid(nsp[0]) || !wants_kept(rri, nsp, &checks, &whens))
			continue;
		e = kept_entry(rri->ri_RelationDesc, rri->ri_TrigDesc);
		old = MemoryContextSwitchTo(query->estate->es_query_cxt);
		if (checks)
			fill_constraint_exprs(rri, e, query->estate);
		if (whens)
			fill_when_exprs(rri, e, query->operation, query->estate);
		MemoryContextSwitchTo(old);
	}
}

/* Install the hook (from _PG_init). */
void
td_install_check_cache(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = td_executor_start;
}

/* See train_data.h. */
void
td_keep_checks_for(ResultRelInfo *rri, EState *estate)
{
	Relation	rel = rri->ri_RelationDesc;
	kept_table *e;
	MemoryContext old;

	if (rri->ri_ConstraintExprs != NULL || rel->rd_att->constr == NULL || rel->rd_att->constr->num_check == 0)
		return;
	e = kept_entry(rel, rri->ri_TrigDesc);
	old = MemoryContextSwitchTo(estate->es_query_cxt);
	fill_constraint_exprs(rri, e, estate);
	MemoryContextSwitchTo(old);
}

#else							/* !TD_KEEP_CHECKS */

/* Nothing to install: this PostgreSQL prepares checks differently. */
void
td_install_check_cache(void)
{
}

/* Nothing kept: ExecRelCheck prepares the checks. */
void
td_keep_checks_for(struct ResultRelInfo *rri, struct EState *estate)
{
}

#endif							/* TD_KEEP_CHECKS */
