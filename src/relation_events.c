/*
 * relation_events.c — one relcache invalidation callback for the library.
 *
 * PostgreSQL 15 has room for ten relcache callbacks in a backend, for the
 * server and every library it loads together (inval.c, MAX_RELCACHE_
 * CALLBACKS); a backend whose library finds them taken ends with FATAL.
 * The caches that follow a relation's changes (the engine's copies of
 * configurations and prices, the compiled row policies, the progress
 * functions' layout) therefore share one: each registers its function
 * here, and the one callback calls them all, in the order they registered
 * (found by a review of 1.2: the library took three).
 */
#include "postgres.h"

#include "utils/inval.h"

#include "train_data.h"

/* The functions called on a relation's invalidation: few, all static. */
#define TD_RELATION_HOOKS 4

static struct
{
	td_relation_hook fn;
	Datum		arg;
}			hooks[TD_RELATION_HOOKS];
static int	n_hooks = 0;

/* The library's relcache callback: every registered function, in order. */
static void
relation_changed(Datum arg, Oid relid)
{
	for (int i = 0; i < n_hooks; i++)
		hooks[i].fn(hooks[i].arg, relid);
}

/* See train_data.h. */
void
td_on_relation_change(td_relation_hook fn, Datum arg)
{
	if (n_hooks == TD_RELATION_HOOKS)
		elog(ERROR, "too many train_data relation hooks");
	if (n_hooks == 0)
		CacheRegisterRelcacheCallback(relation_changed, (Datum) 0);
	hooks[n_hooks].fn = fn;
	hooks[n_hooks].arg = arg;
	n_hooks++;
}
