/*
 * claim_hints.c — what a session remembers of jobs between its claims.
 *
 * While any session keeps an old snapshot (a transaction left open, a
 * long pg_dump), the index entries of the items claimed since cannot be
 * cleaned up, and a scan of a job's queued items from its first position
 * reads past every one of them; so does a count of its items in flight.
 * Two hints let a claim start past them, and a third lets it pass over
 * jobs it found with nothing to take:
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
 *   - Jobs passed over for a while: a visit that found nothing to take
 *     (queued items another transaction holds or that wait out a retry, a
 *     job row its owner holds) is not repeated for PASS_FIRST_MS, then
 *     twice as long each time it finds nothing again, up to PASS_MAX_MS.
 *     Without it, every claim visited every such job again: a user holding
 *     her items in 5,000 jobs made each claim of everyone take 150 to 500
 *     ms.  What is remembered is the job's entry in the claim order as it
 *     was: queueing an item of the job writes that row again, and the job
 *     is visited at the next claim.
 *
 * Per session (the extension needs no preloading); each table holds at
 * most HINTS_MAX entries (about 0.5 MB).  A table of floors or of "all
 * held" is emptied when full; when the passed-over table is full, the
 * jobs whose time has passed are forgotten, and while none has, a further
 * job is not remembered.
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
#define PASS_FIRST_MS 1000
#define PASS_MAX_MS 16000

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

typedef struct passed_job
{
	td_claim_entry key;
	TimestampTz until;
	int			period_ms;
} passed_job;

static HTAB *floors;			/* the session's */
static HTAB *xact_floors;		/* the current transaction's */
static HTAB *all_held;
static HTAB *passed_jobs;
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

/* A new, empty table of entries (keysize bytes of key first) for the session. */
static HTAB *
hints_new(const char *name, Size keysize, Size entrysize)
{
	HASHCTL		ctl;

	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = TopMemoryContext;
	return hash_create(name, 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * *table, made empty when full or new.  The pointer is cleared before the
 * old table is destroyed and set once the new one exists, so an error in
 * between (out of memory) leaves no pointer to freed memory.
 */
static void
hints_table(HTAB **table, const char *name, Size keysize, Size entrysize)
{
	HTAB	   *old = *table;

	if (old != NULL && hash_get_num_entries(old) < HINTS_MAX)
		return;
	*table = NULL;
	if (old != NULL)
		hash_destroy(old);
	*table = hints_new(name, keysize, entrysize);
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
		hints_table(&floors, "train_data claim floors", sizeof(td_claim_entry), sizeof(floor_hint));
		h = hash_search(floors, e, HASH_ENTER, NULL);
	}
	else
	{
		hints_table(&xact_floors, "train_data claim floors of a transaction", sizeof(td_claim_entry),
					sizeof(floor_hint));
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
	hints_table(&all_held, "train_data claim all held", sizeof(pg_uuid_t), sizeof(held_hint));
	h = hash_search(all_held, DatumGetUUIDP(job), HASH_ENTER, NULL);
	h->xmin = xmin;
	h->until = TimestampTzPlusMilliseconds(now, ALL_HELD_MS);
}

/* See claim_hints.h. */
bool
td_claim_passed_over(const td_claim_entry *e, TimestampTz now)
{
	passed_job *p;

	if (passed_jobs == NULL)
		return false;
	p = hash_search(passed_jobs, e, HASH_FIND, NULL);
	return p != NULL && p->until > now;
}

/* Forget the jobs whose time has passed; true if that made room. */
static bool
forget_expired(TimestampTz now)
{
	HASH_SEQ_STATUS scan;
	passed_job *p;

	hash_seq_init(&scan, passed_jobs);
	while ((p = hash_seq_search(&scan)) != NULL)
		if (p->until <= now)
			(void) hash_search(passed_jobs, &p->key, HASH_REMOVE, NULL);
	return hash_get_num_entries(passed_jobs) < HINTS_MAX;
}

/* See claim_hints.h. */
void
td_claim_pass_over(const td_claim_entry *e, TimestampTz now, bool found_nothing)
{
	passed_job *p;
	bool		found;

	if (!found_nothing)
	{
		if (passed_jobs != NULL)
			(void) hash_search(passed_jobs, e, HASH_REMOVE, NULL);
		return;
	}
	if (passed_jobs != NULL && hash_get_num_entries(passed_jobs) >= HINTS_MAX &&
		hash_search(passed_jobs, e, HASH_FIND, NULL) == NULL && !forget_expired(now))
		return;					/* full of jobs passed over now: this one is visited again */
	if (passed_jobs == NULL)
		passed_jobs = hints_new("train_data passed-over jobs", sizeof(td_claim_entry), sizeof(passed_job));
	p = hash_search(passed_jobs, e, HASH_ENTER, &found);
	p->period_ms = found ? Min(p->period_ms * 2, PASS_MAX_MS) : PASS_FIRST_MS;
	p->until = TimestampTzPlusMilliseconds(now, p->period_ms);
}
