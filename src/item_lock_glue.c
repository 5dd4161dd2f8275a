/*
 * item_lock_glue.c — lock_item_in_flight(), native: the batch item a worker
 * function (heartbeat, release, fail, complete) acts on, locked, with its
 * job's owner, error handling and completion events; or the error that
 * says why it cannot be finished now (unknown, claimed again since the
 * caller's attempt, cancelled, not in flight, lease expired).  And
 * note_lock_timeout(), with which complete_batch_items notes the users
 * whose held rows made one of its entries wait out lock_timeout.  And the
 * refusal of the worker functions in a transaction that reads from one
 * snapshot (td_require_read_committed).
 *
 * One SELECT kept prepared (kept_plan.c), and a NOWAIT probe before it
 * for an item of a user noted in this transaction.  As a
 * PL/pgSQL function with its own search_path it cost every completion a
 * nested interpreter call and two recomputations of the search path
 * (docs/performance.md).  Internal (EXECUTE revoked from PUBLIC; but
 * note_lock_timeout, a step complete_batch_items runs as its caller): it runs
 * as its caller, the worker functions' definer; every name and operator
 * in the statements is schema-qualified.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "compat.h"
#include "kept_plan.h"
#include "train_data.h"

PG_FUNCTION_INFO_V1(train_data_lock_item_in_flight);
PG_FUNCTION_INFO_V1(train_data_note_lock_timeout);

/* The item row another transaction holds is refused at once (55P03), not waited for. */
static const char probe_sql[] =
	"SELECT FROM train_data.batch_items i WHERE i.id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE NOWAIT";

/* The item and its job in one statement (the job row is read, not locked). */
static const char lock_sql[] =
	"SELECT i, j.created_by, j.error_handling, j.completion_events,"
	"       i.attempts OPERATOR(pg_catalog.+) i.released, i.status::pg_catalog.text, i.lease_expires_at,"
	"       i.lease_expires_at OPERATOR(pg_catalog.<=) pg_catalog.now()"
	" FROM train_data.batch_items i JOIN train_data.batch_jobs j ON j.id OPERATOR(pg_catalog.=) i.batch_job_id"
	" WHERE i.id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE OF i";

/* The item's owner, read without a lock. */
static const char owner_sql[] =
	"SELECT i.created_by FROM train_data.batch_items i WHERE i.id OPERATOR(pg_catalog.=) $1";

static const Oid item_id_type[] = {UUIDOID};

static SPIPlanPtr probe_plan;
static SPIPlanPtr lock_plan;
static SPIPlanPtr owner_plan;

/*
 * The users noted by note_lock_timeout() in the current transaction
 * (noted_in, its local id): their later entries give up on a held row at
 * once.  At most NOTED_MAX; the next one noted sets noted_all, every
 * user, so that a call waits out lock_timeout three times at most.  Kept
 * here, where no caller can read them: in a setting, any role learned
 * the owner of any item it named (a review of 1.2).
 */
#define NOTED_MAX 2
static LocalTransactionId noted_in = InvalidLocalTransactionId;
static pg_uuid_t noted[NOTED_MAX];
static int	n_noted;
static bool noted_all;

/*
 * The subtransaction complete_batch_items was called in (its first
 * note_lock_timeout(NULL)): if it rolls back, the call ended in an error
 * that escaped it (a cancel) and its notes are forgotten, so that they
 * do not outlive it into the rest of the transaction (a review of 1.2).
 * The call's own subtransactions roll back without touching them.
 */
static SubTransactionId noted_for = InvalidSubTransactionId;
static bool subxact_callback_registered;

/* The columns of lock_sql's row, 1-based. */
enum
{
	COL_ITEM = 1, COL_OWNER, COL_ERROR_HANDLING, COL_COMPLETION_EVENTS, COL_TOKEN, COL_STATUS, COL_LEASE,
	COL_EXPIRED
};

/* Run kept statement *slot for the item id (may be NULL); the SPI result code. */
static int
run_for_item(SPIPlanPtr *slot, const char *sql, Datum item_id, bool item_id_null)
{
	char		nulls[1] = {item_id_null ? 'n' : ' '};

	/* a generic plan from the first call: no planning per call */
	return SPI_execute_plan(td_kept_plan(slot, sql, 1, item_id_type, CURSOR_OPT_GENERIC_PLAN), &item_id, nulls,
							false, 0);
}

/* Value of column col of the fetched row (*isnull set). */
static Datum
col(int colno, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, colno, isnull);
}

/* Text of a uuid. */
static char *
uuid_text(Datum id)
{
	return DatumGetCString(DirectFunctionCall1(uuid_out, id));
}

/* Forget the users noted. */
static void
forget_noted(void)
{
	n_noted = 0;
	noted_all = false;
	noted_for = InvalidSubTransactionId;
}

/* SubXactCallback: the subtransaction the call began in rolled back. */
static void
noted_subxact_end(SubXactEvent event, SubTransactionId sub, SubTransactionId parent, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && sub == noted_for)
		forget_noted();
}

/* Forget the users noted in an earlier transaction. */
static void
noted_current(void)
{
	if (noted_in != td_local_xact_id())
	{
		noted_in = td_local_xact_id();
		forget_noted();
	}
}

/* Whether owner is noted (noted_current() called). */
static bool
is_noted(const pg_uuid_t *owner)
{
	if (noted_all)
		return true;
	for (int i = 0; i < n_noted; i++)
		if (memcmp(noted[i].data, owner->data, UUID_LEN) == 0)
			return true;
	return false;
}

/*
 * The owner of the item (read without a lock) into *owner; false when
 * there is no such item.  Within SPI.
 */
static bool
read_owner(Datum item_id, pg_uuid_t *owner)
{
	bool		isnull;
	int			rc;

	if ((rc = run_for_item(&owner_plan, owner_sql, item_id, false)) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return false;
	*owner = *DatumGetUUIDP(col(1, &isnull));
	return true;
}

/*
 * Whether the item row is probed with NOWAIT before it is locked: when
 * every user is noted, or its owner is (read first, only while someone
 * is).  Within SPI.
 */
static bool
probe_first(Datum item_id)
{
	pg_uuid_t	owner;

	noted_current();
	if (noted_all)
		return true;
	return n_noted > 0 && read_owner(item_id, &owner) && is_noted(&owner);
}

/*
 * The item found (the row in SPI_tuptable) may be finished now by a caller
 * that gives attempt (or none): else the error that says why.
 */
static void
check_in_flight(Datum item_id, bool has_attempt, int32 attempt)
{
	bool		isnull;
	int32		token = DatumGetInt32(col(COL_TOKEN, &isnull));	/* attempts + released */
	char	   *status = TextDatumGetCString(col(COL_STATUS, &isnull));
	bool		expired;

	if (has_attempt && attempt >= 1 && attempt < token)	/* (below 1: never handed out) */
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("batch item %s was claimed again: attempt %d is not the current attempt %d",
						uuid_text(item_id), attempt, token),
				 errhint("The lease of this worker ran out and another worker has the item now; discard the result.")));
	/*
	 * An attempt past the current one: no claim on record handed it out
	 * (one forgotten in a crash, train_data.durable_claims off; or a number
	 * no claim gave), so the item was not claimed again (the message said
	 * so before: a review of the errors, thirty-fifth session).
	 */
	if (has_attempt && attempt != token)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("batch item %s has had no attempt %d: its current attempt is %d",
						uuid_text(item_id), attempt, token),
				 errdetail("No claim on record handed that attempt out: a claim a crash forgot (train_data.durable_claims off), or a number no claim returned."),
				 errhint("Discard the result; the item is claimed again as it was.")));
	if (strcmp(status, "cancelled") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("batch item %s was cancelled", uuid_text(item_id)),
				 errhint("Its owner cancelled it or its batch; discard the result.")));
	if (strcmp(status, "processing") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("batch item %s is %s, not processing", uuid_text(item_id), status)));
	/*
	 * A lease run out is no refusal to the caller holding the current
	 * attempt: no other worker has claimed the item since (a claim would
	 * have counted an attempt), and its answer was paid for (a completion
	 * delayed past its lease was discarded and the item generated again: a
	 * review of 1.2).  Without the attempt the caller cannot be told apart
	 * from a stale one.
	 */
	expired = DatumGetBool(col(COL_EXPIRED, &isnull));
	if (!isnull && expired && !has_attempt)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("lease of batch item %s has expired", uuid_text(item_id)),
				 errdetail("The lease ended at %s.",
						   DatumGetCString(DirectFunctionCall1(timestamptz_out, col(COL_LEASE, &isnull)))),
				 errhint("Heartbeat long calls; the item is given to the next worker that claims.")));
}

/*
 * See train_data.h.  The queue decides from what other transactions have
 * committed by the time it holds a lock: whether a job is done (a job's
 * finishers take turns on a row, so the last sees the others' commits),
 * whether a job's closing check still has work to wait for, whether a job
 * has anything queued.  A transaction that reads from a snapshot taken
 * before it waited sees none of that: a worker in REPEATABLE READ that
 * finished a job's last item while another worker finished the one before
 * left the job open for good, every item done, and a claim in one took a
 * job's owed closing check and dropped it (an adversarial review of 1.2).
 * Such a worker also failed with 40001 whenever another took an item
 * first; refused at its first call instead, with what to change.
 */
void
td_require_read_committed(void)
{
	if (!IsolationUsesXactSnapshot())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("train_data's worker functions cannot run in a %s transaction",
					IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
			 errdetail("The queue decides whether a job is done, and what a claim may take, from what other transactions have committed, which a transaction reading from one snapshot does not see."),
			 errhint("Call the worker functions in READ COMMITTED transactions, PostgreSQL's default; for a worker role set otherwise: ALTER ROLE ... SET default_transaction_isolation = 'read committed'.")));
}

/*
 * lock_item_in_flight(item_id uuid, attempt integer, OUT item batch_items,
 * OUT owner uuid, OUT error_handling text, OUT completion_events boolean,
 * OUT nowait boolean) — the item locked (FOR NO KEY UPDATE), with its
 * job's owner, error handling and completion events (false while
 * train_data.events is off), and whether its owner is noted in this
 * transaction (note_lock_timeout: the item row was then probed with
 * NOWAIT first, and the caller waits for no other lock); 42704 when there
 * is no such item, 55000 when it cannot be finished now.
 */
Datum
train_data_lock_item_in_flight(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;	/* SPI_finish returns to it */
	Datum		item_id = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
	bool		nowait;
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	int			rc;

	td_require_read_committed();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("batch item id must not be null")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE || desc->natts != 5)
		elog(ERROR, "lock_item_in_flight: unexpected result type");
	desc = BlessTupleDesc(desc);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nowait = probe_first(item_id);
	if (nowait && (rc = run_for_item(&probe_plan, probe_sql, item_id, PG_ARGISNULL(0))) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	if ((rc = run_for_item(&lock_plan, lock_sql, item_id, PG_ARGISNULL(0))) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("batch item %s does not exist", uuid_text(item_id))));
	check_in_flight(item_id, !PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1));

	/* the row's values copied out of SPI's memory, into the caller's */
	for (int i = 0; i < 4; i++)
	{
		Datum		v = col(COL_ITEM + i, &nulls[i]);
		Form_pg_attribute att = TupleDescAttr(desc, i);
		MemoryContext spi = MemoryContextSwitchTo(caller);

		values[i] = nulls[i] ? (Datum) 0 : datumCopy(v, att->attbyval, att->attlen);
		MemoryContextSwitchTo(spi);
	}
	if (!td_events)
		values[COL_COMPLETION_EVENTS - 1] = BoolGetDatum(false);	/* events off: no item event either */
	values[4] = BoolGetDatum(nowait);
	SPI_finish();
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * note_lock_timeout(item_id uuid) returns void — a lock wait ran out in
 * complete_batch_items' entry of the item: note its owner for the rest of
 * the transaction (NULL: forget those noted, as a call begins or ends;
 * they are forgotten too if the subtransaction it began in rolls back).
 * An item not found, or a user past NOTED_MAX, notes every user.
 * SECURITY DEFINER, to read the owner; it shows the caller nothing and
 * changes only what this session's own completions wait for.
 */
Datum
train_data_note_lock_timeout(PG_FUNCTION_ARGS)
{
	pg_uuid_t	owner;

	noted_current();
	if (PG_ARGISNULL(0))
	{
		forget_noted();
		if (!subxact_callback_registered)
		{
			RegisterSubXactCallback(noted_subxact_end, NULL);
			subxact_callback_registered = true;
		}
		noted_for = GetCurrentSubTransactionId();
		PG_RETURN_VOID();
	}
	if (noted_all)
		PG_RETURN_VOID();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!read_owner(PG_GETARG_DATUM(0), &owner))
		noted_all = true;
	else if (!is_noted(&owner))
	{
		if (n_noted == NOTED_MAX)
			noted_all = true;
		else
			noted[n_noted++] = owner;
	}
	SPI_finish();
	PG_RETURN_VOID();
}
