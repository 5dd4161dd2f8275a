/*
 * owner_end.c — the items their owner ended (cancelled by an UPDATE, or
 * deleted before they ended) in the statement that is running, summed per
 * job.
 *
 * The row triggers batch_items_owner_cancel and batch_items_owner_delete
 * add each such item here (owner_end_note); the statement trigger
 * batch_items_owner_finish, below, then takes the sums, adds them to each
 * job's counters in one step and ends each job whose items have all ended
 * (owner_close_job).  Counting from the row trigger wrote the same counter
 * row once per item, each write walking the row's versions of the
 * transaction before it: 20,000 items took 2.9 s, 100,000 took 58 s.
 *
 * The sums live in TopTransactionContext, only between a statement's row
 * triggers and its statement trigger; they are forgotten at the end of the
 * transaction and when any subtransaction aborts.  Nothing runs a
 * subtransaction between the two (no AFTER ROW trigger of batch_items
 * catches an error), so an abort there is the statement's own failure;
 * a trigger added later that caught errors would lose the sums of its
 * statement.  They live in the caller's session only and are applied
 * under her row-level security (bump_counters writes only her own shards),
 * so calling owner_end_note by hand changes nothing she could not write
 * herself: it is executable by PUBLIC, like the other helpers the owner's
 * statements run as her.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

PG_FUNCTION_INFO_V1(train_data_owner_end_note);
PG_FUNCTION_INFO_V1(train_data_batch_items_owner_finish);

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

/* Run one statement of train_data's with its arguments, as the caller. */
static void
run(const char *sql, int nargs, Oid *types, Datum *values)
{
	if (SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0) < 0)
		elog(ERROR, "train_data: SPI_execute_with_args failed for the items ended by their owner");
}

/*
 * The statement trigger batch_items_owner_finish (AFTER UPDATE OR DELETE,
 * FOR EACH STATEMENT, no WHEN clause: a WHEN clause is planned for every
 * statement, the engine's too, and this returns at once when the statement
 * noted nothing).  For each job the statement's row triggers noted: its
 * items added to the caller's shard of its counters as cancelled (those in
 * flight taken off in_flight), then the job ended if nothing of it is left
 * to do (owner_close_job).  Runs as the statement's user.  A sum past an
 * integer is refused (a job holds fewer items than that).
 */
Datum
train_data_batch_items_owner_finish(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS seq;
	ended	   *e;
	HTAB	   *taken = sums;
	int			n = 0,
				i;
	ended	   *list;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("batch_items_owner_finish was not called as a trigger")));
	if (taken == NULL)
		return PointerGetDatum(NULL);
	sums = NULL;
	/* (copied out first: the statements below may fire the row triggers again) */
	list = palloc(Max(hash_get_num_entries(taken), 1) * sizeof(ended));
	hash_seq_init(&seq, taken);
	while ((e = hash_seq_search(&seq)) != NULL)
		list[n++] = *e;
	hash_destroy(taken);
	SPI_connect();
	for (i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (list[i].items > PG_INT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("one statement ended %lld items of a batch job; the limit is %d",
							(long long) list[i].items, PG_INT32_MAX)));
		{
			Oid			types[3] = {UUIDOID, INT4OID, INT4OID};
			Datum		values[3] = {UUIDPGetDatum(&list[i].job), Int32GetDatum((int32) list[i].items),
			Int32GetDatum(-(int32) list[i].in_flight)};

			run("SELECT train_data.bump_counters($1, 0, 0, $2, $3)", 3, types, values);
			run("SELECT train_data.owner_close_job($1)", 1, types, values);
		}
	}
	SPI_finish();
	return PointerGetDatum(NULL);
}
