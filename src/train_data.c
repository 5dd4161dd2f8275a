/*
 * train_data.c — module entry point: magic block and settings.
 *
 * Settings live under the reserved "train_data." prefix.  train_data.user_id
 * is an ordinary user-settable string: applications set it per transaction
 * (SET LOCAL or set_config(..., true)) to say which user the row-level
 * security policies act for.  Its value is validated where it is read
 * (identity.c), so that a malformed id is reported with the setting's name.
 *
 * Misspelt settings.  Until the library is loaded (at the first train_data
 * call of a session, unless session_preload_libraries loads it at start),
 * PostgreSQL accepts any train_data.* name as a placeholder: from SET, from
 * ALTER ROLE / ALTER DATABASE ... SET, PGOPTIONS or postgresql.conf.
 * Defining train_data.user_id turns a placeholder of that name into the
 * real setting; reserving the prefix then removes every other one with a
 * WARNING, and the value is gone.  A misspelt user id would thus leave the
 * session acting for no user, and every query would quietly return nothing.
 * So _PG_init notes the names it is about to see removed that hold a value
 * (a bounded list), and the identity lookup refuses to run without a user
 * id while any is noted (identity.c).  A name given only for the
 * transaction that loads the library (SET LOCAL over no earlier value) is
 * noted until that transaction ends, and one its SET gave until it aborts:
 * behind a pooler, one request's SET LOCAL must not fail the next user's
 * requests.  A committed RESET ALL (DISCARD ALL runs one: a session
 * pooler's reset between clients) forgets every noted name it resets, but
 * not one whose value it brings back (a role's, a database's, the
 * configuration's or the connection's).
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/memutils.h"

#include "compat.h"
#include "engine_cache.h"
#include "json_glue.h"
#include "train_data.h"

PG_MODULE_MAGIC;

/* The reserved prefix of our settings, without its separator. */
#define TD_GUC_PREFIX "train_data"

char	   *td_user_id_setting = NULL;

/*
 * train_data.engine_signs_turns: on while the completion (as the extension
 * owner) inserts turns whose signature it writes itself; the signature
 * trigger, which also asks engine_context(), then skips that statement.
 * Only superusers may set it; read in SQL, never here.
 */
static bool td_engine_signs_turns = false;

/* See train_data.h. */
bool		td_durable_claims = false;

/* See train_data.h. */
bool		td_events = true;

/*
 * A bounded list of misspelt setting names: the first TD_MAX_MISSPELT
 * (clipped, in TopMemoryContext), how many of those there are, and how many
 * names in all.
 */
typedef struct misspelt_list
{
	const char *names[TD_MAX_MISSPELT];
	int			listed;
	int			count;
} misspelt_list;

/*
 * The misspelt settings noted at load, by how long the value meant would
 * have lasted: the session; the loading transaction unless it aborts (a
 * SET made in it over no earlier value); the loading transaction only (SET
 * LOCAL or set_config(..., true) over no earlier value); and for good,
 * RESET ALL included: a value RESET brings back (the role's, the
 * database's, the server's configuration or the client's connection
 * options), which RESET ALL and DISCARD ALL restore rather than forget.
 */
static misspelt_list for_session,
			unless_abort,
			for_xact,
			for_good;
void		_PG_init(void);

/* Is this GUC variable a placeholder that reserving our prefix removes? */
static bool
is_our_placeholder(const struct config_generic *var)
{
	size_t		len = strlen(TD_GUC_PREFIX);

	/* the same test as MarkGUCPrefixReserved's (case-sensitive) */
	return (var->flags & GUC_CUSTOM_PLACEHOLDER) != 0 &&
		strncmp(var->name, TD_GUC_PREFIX, len) == 0 &&
		var->name[len] == '.';
}

/* Is a setting's value one that was meant (set and not empty)? */
static bool
meant(const char *value)
{
	return value != NULL && value[0] != '\0';
}

/* Add a name to a list (clipped, when it is listed). */
static void
list_add(misspelt_list *l, const char *name)
{
	if (l->listed < TD_MAX_MISSPELT)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		l->names[l->listed++] = td_clip_for_message(name);
		MemoryContextSwitchTo(old);
	}
	l->count++;
}

/* Move the names of from to the end of to (those it listed, listed while room is left). */
static void
list_move(misspelt_list *to, misspelt_list *from)
{
	for (int i = 0; i < from->listed && to->listed < TD_MAX_MISSPELT; i++)
		to->names[to->listed++] = from->names[i];
	to->count += from->count;
	memset(from, 0, sizeof(*from));
}

/*
 * For how long the value of a placeholder set before the library loaded
 * was meant to last, or NULL when it holds none now and none its GUC stack
 * can bring back (a SET LOCAL rolled back, or a RESET, leaves one behind
 * empty).  The stack holds the changes made in the current transaction,
 * the newest first: each entry's prior value is the one it replaced, and a
 * GUC_SET_LOCAL entry's masked value the SET it hides until the transaction
 * ends.  A value from before the transaction was meant for the session; one
 * a SET in it gave, for the session unless it aborts; one only SET LOCAL
 * (or a function's SET clause) gave, for the transaction.  Any value the
 * stack can bring back counts, so that a misspelt id is never ignored while
 * it could be in force (the review of the first form found an empty SET
 * LOCAL over a session value ignored); a value a savepoint's rollback undid
 * stays noted to the end of the span: the error errs on the side of the
 * caller.
 */
static misspelt_list *
placeholder_span(const struct config_generic *var)
{
	const GucStack *st = var->stack;
	bool		any = meant(*((const struct config_string *) var)->variable);
	bool		set_in_xact = false;

	if (st == NULL || !IsTransactionState())
		return any ? &for_session : NULL;
	for (;; st = st->prev)
	{
		set_in_xact |= st->state == GUC_SET || st->state == GUC_SET_LOCAL;
		any |= meant(st->prior.val.stringval) ||
			(st->state == GUC_SET_LOCAL && meant(st->masked.val.stringval));
		if (st->prev == NULL)
			break;
	}
	if (meant(st->prior.val.stringval))
		return &for_session;	/* a session value from before the transaction */
	if (!any)
		return NULL;
	return set_in_xact ? &unless_abort : &for_xact;
}

/*
 * A RESET ALL (DISCARD ALL runs one) resets every setting of the session,
 * the misspelt ones' values included had they been kept: once it commits,
 * every noted name it resets is forgotten (not those of for_good, whose
 * values it brings back).  A session pooler resets each server
 * connection so before handing it to another client, whose requests one
 * client's typo must not fail (noted as left by the thirty-fifth session).
 * reset_level is the (sub)transaction nesting level of the RESET ALL not
 * yet committed, 0 when there is none: a savepoint's rollback undoes it,
 * and its release hands it to the level above.
 */
static int	reset_level = 0;
static ProcessUtility_hook_type prev_process_utility = NULL;

/* Is this statement one that resets every setting (RESET ALL, DISCARD ALL)? */
static bool
resets_all_settings(const Node *stmt)
{
	if (IsA(stmt, DiscardStmt))
		return ((const DiscardStmt *) stmt)->target == DISCARD_ALL;
	if (IsA(stmt, VariableSetStmt))
		return ((const VariableSetStmt *) stmt)->kind == VAR_RESET_ALL;
	return false;
}

/* The utility hook, while names are noted: note a RESET ALL once it has run. */
static void
note_reset_all(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
			   ProcessUtilityContext context, ParamListInfo params,
			   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	bool		resets = resets_all_settings(pstmt->utilityStmt);

	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	if (resets && reset_level == 0)
		reset_level = GetCurrentTransactionNestLevel();
}

/* A savepoint's end: its rollback undoes a RESET ALL made in it, its release keeps it. */
static void
follow_reset_all(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (reset_level == 0 || reset_level < level)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
		reset_level = 0;
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		reset_level = level - 1;
}

/* Forget every noted name a RESET ALL resets (a RESET ALL committed); not those it restores (for_good). */
static void
forget_all_misspelt(void)
{
	memset(&for_session, 0, sizeof(for_session));
	memset(&unless_abort, 0, sizeof(unless_abort));
	memset(&for_xact, 0, sizeof(for_xact));
}

/*
 * The end of a transaction: the misspelt settings its own SET LOCAL made
 * are forgotten, and those its SET made too if it aborts (they become the
 * session's if it commits).  A request behind a pooler sets its settings
 * per transaction, and one request's misspelt name must not fail every
 * later request on the connection (a review of 1.2 found one rolled-back
 * SET LOCAL failing every user's lookup for as long as the connection
 * lived).  Left registered once registered (a callback that unregisters
 * itself while PostgreSQL walks the list is not safe in every version).
 */
static void
forget_xact_misspelt(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			list_move(&for_session, &unless_abort);
			memset(&for_xact, 0, sizeof(for_xact));
			if (reset_level != 0)
				forget_all_misspelt();
			reset_level = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			memset(&unless_abort, 0, sizeof(unless_abort));
			memset(&for_xact, 0, sizeof(for_xact));
			reset_level = 0;
			break;
		default:
			break;
	}
}

/*
 * Note the train_data.* placeholders left after our settings are defined
 * that hold a value, each for as long as its value was meant to last.
 */
static void
note_misspelt_settings(void)
{
	int			count;
	struct config_generic **vars = td_guc_variables(&count);

	for (int i = 0; i < count; i++)
	{
		misspelt_list *span;

		if (!is_our_placeholder(vars[i]))
			continue;
		if (meant(((const struct config_string *) vars[i])->reset_val))
			list_add(&for_good, vars[i]->name);
		else if ((span = placeholder_span(vars[i])) != NULL)
			list_add(span, vars[i]->name);
	}
	if (for_session.count > 0 || unless_abort.count > 0 || for_xact.count > 0)
	{
		RegisterXactCallback(forget_xact_misspelt, NULL);
		RegisterSubXactCallback(follow_reset_all, NULL);
		prev_process_utility = ProcessUtility_hook;
		ProcessUtility_hook = note_reset_all;
	}
}

/* See train_data.h. */
int
td_misspelt_settings(const char *const **names, int *listed)
{
	static const char *shown[TD_MAX_MISSPELT];
	const misspelt_list *lists[4] = {&for_good, &for_session, &unless_abort, &for_xact};

	*listed = 0;
	for (int l = 0; l < 4; l++)
		for (int i = 0; i < lists[l]->listed && *listed < TD_MAX_MISSPELT; i++)
			shown[(*listed)++] = lists[l]->names[i];
	*names = shown;
	return for_good.count + for_session.count + unless_abort.count + for_xact.count;
}

/*
 * Define the settings, note misspelt ones, reserve the prefix, give the
 * cores palloc, keep our tables' CHECK constraints parsed, keep the
 * engine's copies of configurations and prices current.
 */
void
_PG_init(void)
{
	td_install_allocator();

	DefineCustomStringVariable(TD_USER_ID_SETTING,
							   "User id (a UUID) that train_data's row-level security policies act for.",
							   "When empty, the user id is taken from request.jwt.claim.sub, then from the sub claim of request.jwt.claims.",
							   &td_user_id_setting,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("train_data.engine_signs_turns",
							 "Internal: on while a completion inserts turns whose signature it writes itself.",
							 "The signature trigger of conversation_turns skips such a statement of the extension owner.",
							 &td_engine_signs_turns,
							 false,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("train_data.durable_claims",
							 "Claims wait for the WAL flush at commit even when their transaction wrote nothing else.",
							 "Off: a transaction that wrote nothing but claim_batch_items calls commits without waiting for the WAL flush; a crash may forget its claims, whose items are then queued as before.",
							 &td_durable_claims,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("train_data.events",
							 "Sends job events (NOTIFY on each job's channel, job_channel()).",
							 "Off: no event is sent, and no commit of a worker or batch function waits on PostgreSQL's notification queue, which any role that can connect can fill or hold.",
							 &td_events,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/* after every Define... (they adopt placeholders of their own names) */
	note_misspelt_settings();
	td_reserve_guc_prefix(TD_GUC_PREFIX);

	td_install_check_cache();
	td_install_engine_cache();
}
