/*
 * owner_end.c — the items their owner ended (cancelled by an UPDATE, or
 * deleted before they ended) in the statement that is running, summed per
 * job.
 *
 * The row triggers batch_items_owner_cancel and batch_items_owner_delete
 * add each such item here; the statement trigger batch_items_owner_finish
 * then takes the sums, adds them to each job's counters in one step and
 * closes each job whose items have all ended (owner_close_job).  Counting
 * from the row trigger wrote the same counter row once per item, each
 * write walking the row's versions of the transaction before it: 20,000
 * items took 2.9 s, 100,000 took 58 s.
 *
 * The sums live in TopTransactionContext, only between a statement's row
 * triggers and its statement trigger; they are forgotten at the end of the
 * transaction and when any subtransaction aborts.  Nothing runs a
 * subtransaction between the two (no AFTER ROW trigger of batch_items
 * catches an error), so an abort there is the statement's own failure;
 * a trigger added later that caught errors would lose the sums of its
 * statement.  They live in the caller's session only and are applied
 * under her row-level security (bump_counters writes only her own shards),
 * so calling the two functions by hand changes nothing she could not
 * write herself: they are executable by PUBLIC, like the other helpers the
 * owner's statements run as her.
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

PG_FUNCTION_INFO_V1(train_data_owner_end_note);
PG_FUNCTION_INFO_V1(train_data_owner_end_take);

/* A job's items ended by its owner in the statement. */
typedef struct ended
{
	pg_uuid_t	job;			/* the key */
	int64		items;
	int64		in_flight;		/* of them, those that were in flight */
} ended;

static HTAB *sums;				/* NULL when there is none */
static bool callbacks_registered = false;

/* The transaction ended, or a subtransaction aborted: forget the sums. */
static void
xact_end(XactEvent event, void *arg)
{
	sums = NULL;				/* (its memory goes with TopTransactionContext) */
}

static void
subxact_end(SubXactEvent event, SubTransactionId sub, SubTransactionId parent, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && sums)
	{
		hash_destroy(sums);
		sums = NULL;
	}
}

/* The table of sums, made in TopTransactionContext on first use. */
static HTAB *
sums_table(void)
{
	HASHCTL		ctl;

	if (sums)
		return sums;
	if (!callbacks_registered)
	{
		RegisterXactCallback(xact_end, NULL);
		RegisterSubXactCallback(subxact_end, NULL);
		callbacks_registered = true;
	}
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(pg_uuid_t);
	ctl.entrysize = sizeof(ended);
	ctl.hcxt = TopTransactionContext;
	sums = hash_create("train_data items ended by their owner", 16, &ctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	return sums;
}

/* owner_end_note(job_id uuid, in_flight boolean): one more item of the job. */
Datum
train_data_owner_end_note(PG_FUNCTION_ARGS)
{
	ended	   *e;
	bool		found;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_VOID();
	e = hash_search(sums_table(), PG_GETARG_UUID_P(0), HASH_ENTER, &found);
	if (!found)
		e->items = e->in_flight = 0;
	e->items++;
	e->in_flight += PG_GETARG_BOOL(1) ? 1 : 0;
	PG_RETURN_VOID();
}

/*
 * owner_end_take() RETURNS TABLE (job_id uuid, items integer, in_flight
 * integer): the sums (in no particular order), forgotten.  A sum past an
 * integer is refused: a statement cannot end that many items of one job
 * (a job holds at most what create_batch makes).
 */
Datum
train_data_owner_end_take(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS seq;
	ended	   *e;
	HTAB	   *taken = sums;

	InitMaterializedSRF(fcinfo, 0);
	sums = NULL;
	if (taken == NULL)
		return (Datum) 0;
	/* (no cancel check: a row per job the statement itself counted) */
	hash_seq_init(&seq, taken);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		if (e->items > PG_INT32_MAX)
		{
			hash_seq_term(&seq);
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("one statement ended %lld items of a batch job; the limit is %d",
							(long long) e->items, PG_INT32_MAX)));
		}
		values[0] = UUIDPGetDatum(&e->job);
		values[1] = Int32GetDatum((int32) e->items);
		values[2] = Int32GetDatum((int32) e->in_flight);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	hash_destroy(taken);
	return (Datum) 0;
}
