/*
 * engine_cache.c — per-session copies of what the engine reads for every
 * item but its users change rarely: the effective AI configuration of each
 * job owner (read by every claim: a statement calling a PL/pgSQL function,
 * about 6 % of a claim's instructions) and the price row of each model
 * (read by every completion: two nested PL/pgSQL calls and two statements,
 * about 4 % of a completion's).
 *
 * How a copy is kept current.  Each cache depends on one table:
 * ai_configurations or model_prices.  A row trigger on each, and a
 * statement trigger for TRUNCATE (engine_cache_invalidate, ENABLE ALWAYS
 * so that they fire under any session_replication_role, row triggers as
 * logical replication's apply worker fires no statement trigger but
 * TRUNCATE's) queue a relcache invalidation of the table;
 * PostgreSQL sends it to every backend when the writing transaction
 * commits (nothing when it aborts), and a backend reads it at the start of
 * its next transaction, or sooner when it takes a lock.  This module's
 * relcache callback then empties the table's cache.  Its syscache callback
 * on pg_proc empties both when one of train_data's functions is created,
 * replaced or dropped: the values also depend on get_effective_ai_config(),
 * default_ai_config() and model_price(), which an extension update
 * replaces.  Another function's change does not: before, any role, one
 * without grants too, emptied every worker's copies by creating a
 * function in pg_temp (a review of 1.2).  A reset of every cache (the
 * invalidation queue overflowed) empties both too.
 *
 * A value read while an invalidation arrived may be older than it: the
 * read's snapshot can predate a commit whose invalidation the read then
 * processed when it took a lock.  So a caller takes the generation (the
 * count of invalidations) before its read, reads with a snapshot taken
 * after that, and the value is kept only if no invalidation came in
 * between; otherwise it serves that one call.  A value read under a
 * transaction snapshot (REPEATABLE READ, SERIALIZABLE) is never kept: that
 * snapshot may predate a commit whose invalidation this transaction
 * processed before the generation was taken.  So a change is seen by
 * every claim and completion whose transaction starts after the change's
 * commit has finished.
 *
 * A value the transaction read of its own uncommitted change (in the
 * statement that made it, before the statement's trigger queued the
 * invalidation) would outlive a rollback, which sends no invalidation:
 * so a transaction or subtransaction that kept a value and rolls back
 * empties the caches (xact_end, subxact_end).
 *
 * Bounds: keys of at most KEY_MAX bytes (a longer pair of model names is
 * read every time), values of at most MAX_BYTES / 16 (a larger one is read
 * every time), and at most MAX_ENTRIES entries or MAX_BYTES of values per
 * cache (when full, the cache is emptied and refilled as it is used), so a
 * worker sending made-up model names cannot grow a backend.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "engine_cache.h"
#include "train_data.h"

PG_FUNCTION_INFO_V1(train_data_engine_cache_invalidate);

#define KEY_MAX 124
#define MAX_ENTRIES 1024
#define MAX_BYTES (4 * 1024 * 1024)

/* A key: its length and bytes, zero-padded (hashed and compared whole). */
typedef struct cache_key
{
	int32		len;
	char		data[KEY_MAX];
} cache_key;

typedef struct cache_entry
{
	cache_key	key;
	Datum		value;			/* in the cache's memory context */
	bool		isnull;
	bool		typbyval;
	int16		typlen;
} cache_entry;

typedef struct cache_state
{
	const char *table;			/* the train_data table whose changes empty it */
	Oid			relid;			/* that table, once an entry is kept */
	MemoryContext cxt;			/* the entries and their values; NULL when empty */
	HTAB	   *entries;
} cache_state;

static cache_state caches[TD_CACHE_N] = {
	[TD_CACHE_CONFIG] = {.table = "ai_configurations"},
	[TD_CACHE_PRICE] = {.table = "model_prices"},
};

/* Invalidations processed so far in this session. */
static uint64 generation;

/*
 * The syscache hash values of train_data's functions (pg_proc by oid), so
 * that function_changed tells their changes from others'; read when a
 * value is kept, forgotten when one of them may have changed.
 */
static uint32 *own_functions;
static int	n_own_functions;
static bool own_functions_known;

/*
 * The latest subtransaction of the current transaction in which a value
 * was kept (InvalidSubTransactionId: none).  A value read in the statement
 * that changed its row, before the statement's trigger queued the
 * invalidation, is the transaction's own uncommitted change: when that
 * (sub)transaction rolls back, no invalidation ever comes, so the caches
 * are emptied then (xact_end, subxact_end).
 */
static SubTransactionId kept_in;

/* Forget every entry of a cache. */
static void
empty(cache_state *c)
{
	if (c->cxt != NULL)
		MemoryContextDelete(c->cxt);
	c->cxt = NULL;
	c->entries = NULL;
	c->relid = InvalidOid;
}

/* Relcache callback: a table changed (InvalidOid: every table may have). */
static void
relation_changed(Datum arg, Oid relid)
{
	generation++;
	for (int i = 0; i < TD_CACHE_N; i++)
		if (!OidIsValid(relid) || caches[i].relid == relid)
			empty(&caches[i]);
}

/*
 * XactCallback and SubXactCallback: a (sub)transaction that kept a value
 * and rolls back (or is prepared, and may be rolled back elsewhere)
 * empties the caches; one that commits passes its values on.  Subtransaction
 * ids only grow within a transaction, so a value kept in subtransaction
 * sub or in any of its children has an id of sub or more.
 */
static void
xact_end(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
	{
		if (kept_in != InvalidSubTransactionId)
			for (int i = 0; i < TD_CACHE_N; i++)
				empty(&caches[i]);
		kept_in = InvalidSubTransactionId;
	}
	else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
		kept_in = InvalidSubTransactionId;
}

static void
subxact_end(SubXactEvent event, SubTransactionId sub, SubTransactionId parent, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && kept_in != InvalidSubTransactionId && kept_in >= sub)
		for (int i = 0; i < TD_CACHE_N; i++)
			empty(&caches[i]);
}

/* Whether hashvalue is one of train_data's functions' (own_functions_known). */
static bool
is_own_function(uint32 hashvalue)
{
	for (int i = 0; i < n_own_functions; i++)
		if (own_functions[i] == hashvalue)
			return true;
	return false;
}

/*
 * Read the hash values of train_data's functions, unless known: one scan
 * of pg_proc, kept only if no invalidation came during it.  (A catalog
 * read: it may process invalidations.)
 */
static void
know_own_functions(void)
{
	Oid			nsp;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	uint64		since = generation;
	int			cap = 256,
				n = 0;
	uint32	   *h;

	if (own_functions_known || !OidIsValid(nsp = get_namespace_oid("train_data", true)))
		return;
	h = MemoryContextAlloc(TopMemoryContext, cap * sizeof(uint32));
	rel = table_open(ProcedureRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tup);

		if (proc->pronamespace != nsp)
			continue;
		if (n == cap)
			h = repalloc(h, (cap *= 2) * sizeof(uint32));
		h[n++] = GetSysCacheHashValue1(PROCOID, ObjectIdGetDatum(proc->oid));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (own_functions != NULL)
		pfree(own_functions);
	own_functions = h;
	n_own_functions = n;
	own_functions_known = generation == since;
}

/*
 * Syscache callback on pg_proc: a function was created, replaced or
 * dropped (hashvalue 0: any may have been).
 */
static void
function_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	if (hashvalue != 0 && own_functions_known && !is_own_function(hashvalue))
		return;
	own_functions_known = false;
	generation++;
	for (int i = 0; i < TD_CACHE_N; i++)
		empty(&caches[i]);
}

/* The hash key of key; false when it is too long to keep. */
static bool
make_key(const void *key, int keylen, cache_key *k)
{
	if (keylen < 0 || keylen > KEY_MAX)
		return false;
	memset(k, 0, sizeof(*k));
	k->len = keylen;
	memcpy(k->data, key, keylen);
	return true;
}

bool
td_engine_cache_get(td_engine_cache cache, const void *key, int keylen, Datum *value, bool *isnull)
{
	cache_state *c = &caches[cache];
	cache_key	k;
	cache_entry *e;

	if (c->entries == NULL || !make_key(key, keylen, &k))
		return false;
	e = hash_search(c->entries, &k, HASH_FIND, NULL);
	if (e == NULL)
		return false;
	*isnull = e->isnull;
	*value = e->isnull ? (Datum) 0 : datumCopy(e->value, e->typbyval, e->typlen);
	return true;
}

uint64
td_engine_cache_generation(void)
{
	return generation;
}

/* The table a cache depends on, or InvalidOid (may process invalidations). */
static Oid
table_of(const cache_state *c)
{
	Oid			nsp = get_namespace_oid("train_data", true);

	return OidIsValid(nsp) ? get_relname_relid(c->table, nsp) : InvalidOid;
}

/* A cache's table and memory, made when it has none. */
static void
make_cache(cache_state *c, Oid relid)
{
	HASHCTL		ctl;

	c->cxt = AllocSetContextCreate(TopMemoryContext, "train_data engine cache", ALLOCSET_SMALL_SIZES);
	ctl.keysize = sizeof(cache_key);
	ctl.entrysize = sizeof(cache_entry);
	ctl.hcxt = c->cxt;
	c->entries = hash_create("train_data engine cache entries", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	c->relid = relid;
}

void
td_engine_cache_put(td_engine_cache cache, const void *key, int keylen, Datum value, bool isnull,
					int16 typlen, bool typbyval, uint64 since)
{
	cache_state *c = &caches[cache];
	cache_key	k;
	Oid			relid;
	cache_entry *e;
	bool		found;
	MemoryContext old;

	/* read with the transaction's snapshot: maybe older than the generation */
	if (IsolationUsesXactSnapshot() || !make_key(key, keylen, &k))
		return;
	/*
	 * Kept whole, never a pointer to a toasted row: detoasted here, in the
	 * caller's memory, before the generation is checked (fetching a value
	 * stored out of line takes a lock, which can process invalidations and
	 * empty the cache being written).
	 */
	if (!isnull && typlen == -1)
		value = PointerGetDatum(pg_detoast_datum((struct varlena *) DatumGetPointer(value)));
	/* looked up first: a catalog read can process invalidations */
	know_own_functions();
	relid = c->relid;
	if (!OidIsValid(relid))
		relid = table_of(c);
	if (!OidIsValid(relid) || generation != since)
		return;
	if (!isnull && typlen == -1 && VARSIZE_ANY(DatumGetPointer(value)) > MAX_BYTES / 16)
		return;					/* one value alone would fill a sixteenth */
	if (c->entries != NULL &&
		(hash_get_num_entries(c->entries) >= MAX_ENTRIES || MemoryContextMemAllocated(c->cxt, true) >= MAX_BYTES))
		empty(c);
	if (c->entries == NULL)
		make_cache(c, relid);
	old = MemoryContextSwitchTo(c->cxt);
	if (!isnull)
		value = datumCopy(value, typbyval, typlen);
	MemoryContextSwitchTo(old);
	e = hash_search(c->entries, &k, HASH_ENTER, &found);
	if (found && !e->isnull && !e->typbyval)
		pfree(DatumGetPointer(e->value));
	e->value = isnull ? (Datum) 0 : value;
	e->isnull = isnull;
	e->typlen = typlen;
	e->typbyval = typbyval;
	kept_in = Max(kept_in, GetCurrentSubTransactionId());
}

/*
 * engine_cache_invalidate() — trigger (AFTER each row inserted, updated or
 * deleted, and AFTER TRUNCATE) of the tables the caches depend on: every
 * backend empties its copies of the table when the transaction commits.
 */
Datum
train_data_engine_cache_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("engine_cache_invalidate() must be called as a trigger")));
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}

void
td_install_engine_cache(void)
{
	td_on_relation_change(relation_changed, (Datum) 0);
	CacheRegisterSyscacheCallback(PROCOID, function_changed, (Datum) 0);
	RegisterXactCallback(xact_end, NULL);
	RegisterSubXactCallback(subxact_end, NULL);
}
