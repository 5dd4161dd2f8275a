/*
 * owner_end.c — the items their owner ended (cancelled by an UPDATE, or
 * deleted before they ended) in the statement that is running, summed per
 * job, and the job's counters and state brought up to date once per
 * statement.
 *
 * The row trigger batch_items_owner_count adds each such item here; the
 * statement trigger batch_items_owner_finish then takes the sums, adds
 * them to each job's counters in one step and ends each job whose items
 * have all ended (owner_close_job).  Counting from the row trigger wrote
 * the same counter row once per item, each write walking the row's
 * versions of the transaction before it: 20,000 items took 2.9 s, 100,000
 * took 58 s.  Both triggers are C functions without a WHEN clause: every
 * WHEN clause of batch_items is planned for every UPDATE statement, the
 * engine's too (71,000 more instructions a worker's cycle for this in
 * plpgsql with WHEN clauses).
 *
 * The sums live in TopTransactionContext, only between a statement's row
 * triggers and its statement trigger, per job and subtransaction: a
 * subtransaction that aborts (the statement failed, or a function its
 * expressions call caught an error in an exception block) drops what was
 * noted in it, one that commits hands its entries to its parent, and a
 * statement trigger takes those of its own subtransaction (a statement run
 * inside another's expressions, in a subtransaction of its own, leaves the
 * outer statement's to it).  The statements the statement trigger runs run
 * as the statement's user, under her row-level security: she writes only
 * her own counter shards.
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
#include "utils/rel.h"
#include "utils/uuid.h"

#include "train_data.h"

PG_FUNCTION_INFO_V1(train_data_batch_items_owner_count);
PG_FUNCTION_INFO_V1(train_data_batch_items_owner_finish);

/*
 * A job's items ended by its owner, noted in one subtransaction (the
 * current one when noted; a subtransaction that commits hands its entries
 * to its parent, one that aborts drops them and its children's).
 */
typedef struct ended_key
{
	pg_uuid_t	job;
	SubTransactionId sub;
} ended_key;

typedef struct ended
{
	ended_key	key;
	int64		items;
	int64		in_flight;		/* of them, those that were in flight */
} ended;

static HTAB *sums;				/* NULL when there is none */
static bool callbacks_registered = false;

/* The transaction ended: its memory, and the sums with it, is gone. */
static void
xact_end(XactEvent event, void *arg)
{
	sums = NULL;
}

/* Add n items (in_flight of them in flight) to the job's entry of sub. */
static void
add(const pg_uuid_t *job, SubTransactionId sub, int64 n, int64 in_flight)
{
	ended_key	key;
	ended	   *e;
	bool		found;

	memset(&key, 0, sizeof(key));
	key.job = *job;
	key.sub = sub;
	e = hash_search(sums, &key, HASH_ENTER, &found);
	if (!found)
		e->items = e->in_flight = 0;
	e->items += n;
	e->in_flight += in_flight;
}

/*
 * The entries of sub and of the subtransactions after it, copied out and
 * removed (at the end of sub, every later subtransaction is one of its
 * children, ended already); *n set to their number.
 */
static ended *
take_from(SubTransactionId sub, int *n)
{
	HASH_SEQ_STATUS seq;
	ended	   *e,
			   *list = palloc(Max(hash_get_num_entries(sums), 1) * sizeof(ended));

	*n = 0;
	hash_seq_init(&seq, sums);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (e->key.sub >= sub)
			list[(*n)++] = *e;
	for (int i = 0; i < *n; i++)
		(void) hash_search(sums, &list[i].key, HASH_REMOVE, NULL);
	return list;
}

/*
 * A subtransaction ended: an aborted one's entries (a failed statement's, or
 * those made in an exception block that caught an error) are dropped; a
 * committed one's go to its parent, so that the parent's abort drops them.
 * Other entries, an enclosing statement's, stay.
 */
static void
subxact_end(SubXactEvent event, SubTransactionId sub, SubTransactionId parent, void *arg)
{
	ended	   *list;
	int			n;

	if (sums == NULL || (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB))
		return;
	list = take_from(sub, &n);
	if (event == SUBXACT_EVENT_COMMIT_SUB)
		for (int i = 0; i < n; i++)
			add(&list[i].key.job, parent, list[i].items, list[i].in_flight);
	pfree(list);
}

/* The table of sums, made in TopTransactionContext on first use. */
static void
sums_ready(void)
{
	HASHCTL		ctl;

	if (sums)
		return;
	if (!callbacks_registered)
	{
		RegisterXactCallback(xact_end, NULL);
		RegisterSubXactCallback(subxact_end, NULL);
		callbacks_registered = true;
	}
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(ended_key);
	ctl.entrysize = sizeof(ended);
	ctl.hcxt = TopTransactionContext;
	sums = hash_create("train_data items ended by their owner", 16, &ctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* One more item of the job ended by its owner, in the current subtransaction. */
static void
note(const pg_uuid_t *job, bool in_flight)
{
	sums_ready();
	add(job, GetCurrentSubTransactionId(), 1, in_flight ? 1 : 0);
}

/*
 * Where batch_items keeps an item's status and job, and the values of its
 * status that matter here: looked up the first time, and again when the
 * table is another (the extension made again).
 */
typedef struct item_columns
{
	Oid			relid;			/* InvalidOid: not looked up yet */
	AttrNumber	status;
	AttrNumber	job;
	Oid			queued;
	Oid			processing;
	Oid			cancelled;
} item_columns;

static item_columns cols;

/* The value of an enum label of type. */
static Oid
enum_value(Oid type, const char *label)
{
	return DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum(label), ObjectIdGetDatum(type)));
}

/* cols for rel (batch_items). */
static void
columns_of(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	item_columns c;
	Oid			type;

	if (cols.relid == RelationGetRelid(rel))
		return;
	c.status = SPI_fnumber(desc, "status");
	c.job = SPI_fnumber(desc, "batch_job_id");
	if (c.status <= 0 || c.job <= 0)
		elog(ERROR, "train_data: table \"%s\" has no status or batch_job_id column", RelationGetRelationName(rel));
	type = TupleDescAttr(desc, c.status - 1)->atttypid;
	c.queued = enum_value(type, "queued");
	c.processing = enum_value(type, "processing");
	c.cancelled = enum_value(type, "cancelled");
	c.relid = RelationGetRelid(rel);
	cols = c;					/* (complete, or not at all) */
}

/* The status of an item row (InvalidOid for NULL). */
static Oid
status_of(HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, cols.status, desc, &isnull);

	return isnull ? InvalidOid : DatumGetObjectId(d);
}

/*
 * The row trigger batch_items_owner_count (BEFORE UPDATE OR DELETE, FOR
 * EACH ROW, no WHEN clause: a WHEN clause is planned for every statement
 * of the table, the engine's too, where this costs a function call per
 * row): an item its owner cancels or deletes while it is queued or in
 * flight is added to its job's sums.  Not the engine's changes (nor a
 * deleted job's items: the cascade runs as the table's owner); a user's
 * cancel_batch is counted here (its job already ended), a superuser's
 * counts itself.  BEFORE, so that it sees the role of
 * the statement that changes the row; its name puts it after the guard
 * (which refuses a change it does not allow) and no trigger after it
 * skips the row; a statement that fails forgets the sums.
 */
Datum
train_data_batch_items_owner_count(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	result;
	Oid			before;
	bool		isnull;
	Datum		job;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		TRIGGER_FIRED_BY_INSERT(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("batch_items_owner_count must be a BEFORE UPDATE or DELETE trigger for each row")));
	desc = RelationGetDescr(td->tg_relation);
	result = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	columns_of(td->tg_relation);
	before = status_of(td->tg_trigtuple, desc);
	if (before != cols.queued && before != cols.processing)
		return PointerGetDatum(result);
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event) && status_of(td->tg_newtuple, desc) != cols.cancelled)
		return PointerGetDatum(result);
	if (td_engine_context())
		return PointerGetDatum(result);
	job = heap_getattr(td->tg_trigtuple, cols.job, desc, &isnull);
	if (!isnull)
		note(DatumGetUUIDP(job), before == cols.processing);
	return PointerGetDatum(result);
}

/* A statement of train_data's with a job id (and two integers when nargs is 3), planned for this call. */
static SPIPlanPtr
prepare(const char *sql, int nargs)
{
	static Oid	types[3] = {UUIDOID, INT4OID, INT4OID};
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

	if (plan == NULL)
		elog(ERROR, "train_data: SPI_prepare failed for the items ended by their owner: %s",
			 SPI_result_code_string(SPI_result));
	return plan;
}

/*
 * For each of the n jobs, whether its row is gone (deleted by the statement
 * that ended its items, as a CTE's items and the main statement's job).
 * Read as the tables' owner, without row-level security: the statement's
 * user can change train_data.user_id within it (a RETURNING set_config),
 * and a job of hers that her new id does not see is not gone; its
 * counters are then written as before, and refused.  Needs an SPI
 * connection.
 */
static bool *
jobs_gone(Oid table_owner, const ended *list, int n)
{
	bool	   *gone = palloc(n * sizeof(bool));
	Oid			user;
	int			context;
	SPIPlanPtr	exists;

	GetUserIdAndSecContext(&user, &context);
	/* (an error on the way restores the user with the (sub)transaction's end) */
	SetUserIdAndSecContext(table_owner, context | SECURITY_LOCAL_USERID_CHANGE);
	exists = prepare("SELECT FROM train_data.batch_jobs j WHERE j.id OPERATOR(pg_catalog.=) $1", 1);
	for (int i = 0; i < n; i++)
	{
		Datum		job = UUIDPGetDatum(&list[i].key.job);

		CHECK_FOR_INTERRUPTS();
		if (SPI_execute_plan(exists, &job, NULL, false, 1) < 0)
			elog(ERROR, "train_data: SPI_execute_plan failed for the items ended by their owner");
		gone[i] = SPI_processed == 0;
	}
	SetUserIdAndSecContext(user, context);
	return gone;
}

/*
 * The statement trigger batch_items_owner_finish (AFTER UPDATE OR DELETE,
 * FOR EACH STATEMENT, no WHEN clause: a WHEN clause is planned for every
 * statement, the engine's too, and this returns at once when nothing is
 * noted).  For each job noted in the current subtransaction (an enclosing
 * statement's entries, in an outer one, are left to its own trigger): its
 * items added to the caller's shard of its counters as cancelled (those in
 * flight taken off in_flight), then the job ended if nothing of it is left
 * to do (owner_close_job); a job the statement deleted as well (a CTE
 * deleting its items, the main statement the job) is passed over, its
 * counters gone with it (jobs_gone).  Runs as the statement's user.  A sum
 * past an integer is refused (a job holds fewer items than that).
 */
Datum
train_data_batch_items_owner_finish(PG_FUNCTION_ARGS)
{
	ended	   *list;
	int			n;
	bool	   *gone;
	SPIPlanPtr	bump,
				close;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("batch_items_owner_finish was not called as a trigger")));
	if (sums == NULL || hash_get_num_entries(sums) == 0)
		return PointerGetDatum(NULL);
	/* (taken first: the statements below may note again) */
	list = take_from(GetCurrentSubTransactionId(), &n);
	if (n == 0)
		return PointerGetDatum(NULL);
	SPI_connect();
	gone = jobs_gone(RelationGetForm(((TriggerData *) fcinfo->context)->tg_relation)->relowner, list, n);
	bump = prepare("SELECT train_data.bump_counters($1, 0, 0, $2, $3)", 3);
	close = prepare("SELECT train_data.owner_close_job($1)", 1);
	for (int i = 0; i < n; i++)
	{
		Datum		values[3];

		CHECK_FOR_INTERRUPTS();
		if (gone[i])
			continue;
		if (list[i].items > PG_INT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("one statement ended %lld items of a batch job; the limit is %d",
							(long long) list[i].items, PG_INT32_MAX)));
		values[0] = UUIDPGetDatum(&list[i].key.job);
		values[1] = Int32GetDatum((int32) list[i].items);
		values[2] = Int32GetDatum(-(int32) list[i].in_flight);
		if (SPI_execute_plan(bump, values, NULL, false, 0) < 0 ||
			SPI_execute_plan(close, values, NULL, false, 0) < 0)
			elog(ERROR, "train_data: SPI_execute_plan failed for the items ended by their owner");
	}
	SPI_finish();
	return PointerGetDatum(NULL);
}
