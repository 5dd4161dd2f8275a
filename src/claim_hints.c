/*
 * claim_hints.c — what a session remembers of jobs between its claims.
 *
 * While any session keeps an old snapshot (a transaction left open, a
 * long pg_dump), the index entries of the items claimed since cannot be
 * cleaned up, and a scan of a job's queued items from its first position
 * reads past every one of them; so does a count of its items in flight.
 * Two hints let a claim start past them:
 *
 *   - A floor per job: the lowest position at which one of its items may
 *     be queued, found by the claim's scan for the job's first queued item
 *     (which locks nothing, so it sees the items other claims are taking)
 *     and used as the start of the next one.  Items become queued only
 *     when inserted, retried or released, and each of those rewrites the
 *     job's claimable_jobs row (claimable_job_add); a floor is kept under
 *     the xmin of that row, so once an item is queued again the floor no
 *     longer applies.  A floor found by a transaction that has written
 *     nothing yet is kept for the session; one found after the transaction
 *     wrote (claims in one transaction: what the scan saw includes items
 *     the transaction took) only until the transaction or a subtransaction
 *     of it rolls back, or the transaction ends; an entry the transaction
 *     wrote itself has none (a second write in one transaction leaves the
 *     row's xmin as it is: claim_glue.c).  The claim also scans from
 *     the first position once before it decides a job has nothing queued,
 *     so a floor never hides an item for good.
 *   - That a job's items in flight all hold slots.  Items in flight without
 *     a slot come only from a restore (which makes the slots anew and
 *     empty, and the job's row anew) or from 1.1; once a session has
 *     counted none for a job, it counts again at most every ALL_HELD_MS,
 *     and at once when the job's row is another version (a restore, a job
 *     made again with the same id, any change of the job).  Slots emptied
 *     by hand while their items are in flight may therefore let a session
 *     that counted just before put one more item in flight per slot, for
 *     ALL_HELD_MS at most.
 *
 * Per session (the extension needs no preloading); each table holds at
 * most HINTS_MAX entries (about 0.5 MB) and is emptied when full.
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "claim_hints.h"

#define HINTS_MAX 16384
#define ALL_HELD_MS 10000

typedef struct floor_hint
{
	td_claim_entry key;
	int32		position;
} floor_hint;

typedef struct held_hint
{
	pg_uuid_t	job;
	TransactionId xmin;			/* of the job's row when counted */
	TimestampTz until;
} held_hint;

static HTAB *floors;			/* the session's */
static HTAB *xact_floors;		/* the current transaction's */
static HTAB *all_held;
static bool registered;

/* A rollback (of the transaction or a subtransaction) or the end: forget the transaction's floors. */
static void
forget_xact_floors(void)
{
	if (xact_floors != NULL)
		hash_destroy(xact_floors);
	xact_floors = NULL;
}

/* XactCallback: the transaction ended. */
static void
xact_end(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
		forget_xact_floors();
}

/* SubXactCallback: a subtransaction rolled back. */
static void
subxact_end(SubXactEvent event, SubTransactionId sub, SubTransactionId parent, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		forget_xact_floors();
}

/* A table of entries (keysize bytes of key first), made empty when full or new. */
static HTAB *
hints_table(HTAB *table, const char *name, Size keysize, Size entrysize)
{
	HASHCTL		ctl;

	if (table != NULL && hash_get_num_entries(table) < HINTS_MAX)
		return table;
	if (table != NULL)
		hash_destroy(table);
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = TopMemoryContext;
	return hash_create(name, 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* See claim_hints.h. */
td_claim_entry
td_claim_entry_of(Datum job, TransactionId xmin)
{
	td_claim_entry e;

	memset(&e, 0, sizeof(e));
	e.job = *DatumGetUUIDP(job);
	e.xmin = xmin;
	return e;
}

/* The floor of e in table, 1 when none. */
static int32
floor_in(HTAB *table, const td_claim_entry *e)
{
	floor_hint *h = table != NULL ? hash_search(table, e, HASH_FIND, NULL) : NULL;

	return h != NULL ? h->position : 1;
}

/* See claim_hints.h. */
int32
td_claim_floor(const td_claim_entry *e)
{
	return Max(floor_in(floors, e), floor_in(xact_floors, e));
}

/* See claim_hints.h. */
void
td_claim_floor_set(const td_claim_entry *e, int32 position, bool for_session)
{
	floor_hint *h;

	if (!registered)
	{
		RegisterXactCallback(xact_end, NULL);
		RegisterSubXactCallback(subxact_end, NULL);
		registered = true;
	}
	if (for_session)
	{
		floors = hints_table(floors, "train_data claim floors", sizeof(td_claim_entry), sizeof(floor_hint));
		h = hash_search(floors, e, HASH_ENTER, NULL);
	}
	else
	{
		xact_floors = hints_table(xact_floors, "train_data claim floors of a transaction",
								  sizeof(td_claim_entry), sizeof(floor_hint));
		h = hash_search(xact_floors, e, HASH_ENTER, NULL);
	}
	h->position = position;
}

/* See claim_hints.h. */
TransactionId
td_claim_all_held(Datum job, TimestampTz now)
{
	held_hint  *h;

	if (all_held == NULL)
		return InvalidTransactionId;
	h = hash_search(all_held, DatumGetUUIDP(job), HASH_FIND, NULL);
	return h != NULL && h->until > now ? h->xmin : InvalidTransactionId;
}

/* See claim_hints.h. */
void
td_claim_note_held(Datum job, TransactionId xmin, TimestampTz now, bool held)
{
	held_hint  *h;

	if (!held)
	{
		if (all_held != NULL)
			(void) hash_search(all_held, DatumGetUUIDP(job), HASH_REMOVE, NULL);
		return;
	}
	all_held = hints_table(all_held, "train_data claim all held", sizeof(pg_uuid_t), sizeof(held_hint));
	h = hash_search(all_held, DatumGetUUIDP(job), HASH_ENTER, NULL);
	h->xmin = xmin;
	h->until = TimestampTzPlusMilliseconds(now, ALL_HELD_MS);
}
