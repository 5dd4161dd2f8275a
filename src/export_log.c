/*
 * export_log.c — the export_logs row of an export made by
 * export_conversations().  The row is inserted as the caller when the
 * export starts ('processing'); as the last record is returned it
 * is completed with the conversation count, the size, a 24-hour expiry and,
 * from 1.2, the manifest: what export_manifest() says of the conversations
 * written (their templates with versions, the models that answered), the
 * arguments, and the md5 of the records joined by one newline (lines_md5.h)
 * — for a JSONL export the checksum dataset_report() gives for the same
 * filters and options.  The ids and the distinct templates are those
 * written, collected as the records are built, so the manifest describes
 * the file even if the table changed meanwhile, and finding the templates
 * reads no conversation again.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "export_log.h"

/*
 * Start the log of an export: insert its row as the caller and keep what the
 * manifest needs, in cxt.  Needs SPI connected.
 */
void
export_log_start(export_log *log, MemoryContext cxt, bool manifest, text *format, text *scope,
				 Datum given_ids, Jsonb *filters, Jsonb *options)
{
	Oid			types[2] = {TEXTOID, JSONBOID};
	Datum		values[2] = {PointerGetDatum(format), JsonbPGetDatum(options)};
	MemoryContext old;
	bool		isnull;

	memset(log, 0, sizeof(*log));
	if (SPI_execute_with_args("INSERT INTO train_data.export_logs (format, config, conversation_count, status)"
							  " VALUES ($1, $2, 0, 'processing') RETURNING id",
							  2, types, values, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not log the export");
	old = MemoryContextSwitchTo(cxt);
	log->id = datumCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), false, UUID_LEN);
	log->cxt = cxt;
	log->manifest = manifest;
	if (manifest)
	{
		log->format = DatumGetTextPCopy(PointerGetDatum(format));
		log->scope = DatumGetTextPCopy(PointerGetDatum(scope));
		log->given_ids = given_ids == (Datum) 0 ? (Datum) 0 : datumCopy(given_ids, false, -1);
		log->filters = filters == NULL ? NULL : DatumGetJsonbPCopy(JsonbPGetDatum(filters));
		log->options = DatumGetJsonbPCopy(JsonbPGetDatum(options));
		td_lines_md5_start(&log->md5);
	}
	MemoryContextSwitchTo(old);
}

/* Add a template to the distinct templates written. */
static void
add_template(export_log *log, const pg_uuid_t *template_id)
{
	if (log->templates == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(pg_uuid_t);
		ctl.entrysize = sizeof(pg_uuid_t);
		ctl.hcxt = log->cxt;
		log->templates = hash_create("train_data export templates", 64, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	(void) hash_search(log->templates, template_id, HASH_ENTER, NULL);
}

/* Note a conversation written by the export, and its template (NULL: none), for the manifest. */
void
export_log_conversation(export_log *log, const pg_uuid_t *id, const pg_uuid_t *template_id)
{
	if (log->id == (Datum) 0 || !log->manifest)
		return;
	if (log->n_ids == log->cap_ids)
	{
		log->cap_ids = log->cap_ids == 0 ? 256 : log->cap_ids * 2;
		if ((Size) log->cap_ids * sizeof(pg_uuid_t) > MaxAllocHugeSize)
			elog(ERROR, "too many conversations in one export");
		log->ids = log->ids == NULL
			? MemoryContextAllocHuge(log->cxt, log->cap_ids * sizeof(pg_uuid_t))
			: repalloc_huge(log->ids, log->cap_ids * sizeof(pg_uuid_t));
	}
	log->ids[log->n_ids++] = *id;
	if (template_id != NULL)
		add_template(log, template_id);
}

/* Add a record returned by the export to the checksum. */
void
export_log_record(export_log *log, const char *bytes, size_t len)
{
	if (log->id == (Datum) 0 || !log->manifest)
		return;
	td_lines_md5_add(&log->md5, bytes, len);
}

/* The ids written, as a uuid[] datum. */
static Datum
written_ids(const export_log *log)
{
	Datum	   *elems = palloc_extended(Max(log->n_ids, 1) * sizeof(Datum), MCXT_ALLOC_HUGE);

	for (int64 i = 0; i < log->n_ids; i++)
	{
		CHECK_FOR_INTERRUPTS();
		elems[i] = UUIDPGetDatum(&log->ids[i]);
	}
	return PointerGetDatum(construct_array(elems, (int) log->n_ids, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
}

/* The distinct templates written, as a uuid[] datum (empty: none). */
static Datum
written_templates(const export_log *log)
{
	long		n = log->templates == NULL ? 0 : hash_get_num_entries(log->templates);
	Datum	   *elems = palloc(Max(n, 1) * sizeof(Datum));
	long		i = 0;

	if (n > 0)
	{
		HASH_SEQ_STATUS seq;
		pg_uuid_t  *t;

		hash_seq_init(&seq, log->templates);
		while ((t = hash_seq_search(&seq)) != NULL)
		{
			CHECK_FOR_INTERRUPTS();
			elems[i++] = UUIDPGetDatum(t);
		}
	}
	return PointerGetDatum(construct_array(elems, (int) i, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
}

/*
 * The completing UPDATE (just run, as the caller) found the row: it runs
 * under the caller's policies, so a user id changed while a cursor was
 * being fetched, or the row deleted meanwhile, left the export
 * 'processing' for good (found by an adversarial review of 1.2).
 */
static void
check_completed(const export_log *log)
{
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not complete export log %s",
						DatumGetCString(DirectFunctionCall1(uuid_out, log->id))),
				 errdetail("The current user no longer sees the export's log row: the user id changed, or the row was deleted, while the export ran."),
				 errhint("Keep the same user id until the export's last record has been fetched.")));
}

/*
 * The end of the completing UPDATE: the row of the export, and (again) only
 * while it is 'processing' (export_log_finish_late: a completion written
 * before stands).
 */
#define FINISH_WHERE(again) ((again) ? " WHERE id OPERATOR(pg_catalog.=) $1 AND status OPERATOR(pg_catalog.=) 'processing'" \
							 : " WHERE id OPERATOR(pg_catalog.=) $1")

/* Complete the row of a 1.0/1.1 export: count, size, expiry. */
static void
finish_without_manifest(const export_log *log, int64 conversations, int64 bytes, bool again)
{
	Oid			types[3] = {UUIDOID, INT8OID, INT8OID};
	Datum		values[3] = {log->id, Int64GetDatum(conversations), Int64GetDatum(bytes)};
	char	   *sql = psprintf("UPDATE train_data.export_logs SET status = 'completed',"
							   " conversation_count = $2::integer, file_size = $3,"
							   " expires_at = pg_catalog.now() OPERATOR(pg_catalog.+) interval '24 hours'%s",
							   FINISH_WHERE(again));

	if (SPI_execute_with_args(sql, 3, types, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not complete the export log");
	if (!again)
		check_completed(log);
}

/* Complete the row of a 1.2 export: count, size, expiry and manifest. */
static void
finish_with_manifest(export_log *log, int64 conversations, int64 bytes, bool again)
{
	Oid			types[11] = {UUIDOID, INT8OID, INT8OID, TEXTOID, TEXTOID, JSONBOID, JSONBOID,
	UUIDARRAYOID, UUIDARRAYOID, TEXTOID, UUIDARRAYOID};
	Datum		values[11];
	char		nulls[12] = "           ";

	values[0] = log->id;
	values[1] = Int64GetDatum(conversations);
	values[2] = Int64GetDatum(bytes);
	values[3] = PointerGetDatum(log->format);
	values[4] = PointerGetDatum(log->scope);
	values[5] = log->filters == NULL ? (Datum) 0 : JsonbPGetDatum(log->filters);
	nulls[5] = log->filters == NULL ? 'n' : ' ';
	values[6] = JsonbPGetDatum(log->options);
	values[7] = log->given_ids;
	nulls[7] = log->given_ids == (Datum) 0 ? 'n' : ' ';
	values[8] = written_ids(log);
	values[9] = PointerGetDatum(td_lines_md5_hex(&log->md5));
	values[10] = written_templates(log);
	if (SPI_execute_with_args(psprintf("UPDATE train_data.export_logs SET status = 'completed',"
									   " conversation_count = $2::integer, file_size = $3,"
									   " expires_at = pg_catalog.now() OPERATOR(pg_catalog.+) interval '24 hours',"
									   " manifest = train_data.export_manifest($4, $5, $6, $7, $8, $9, $2, $10, $11)%s",
									   FINISH_WHERE(again)),
							  11, types, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not complete the export log");
	if (!again)
		check_completed(log);
}

/* The update of export_log_stopped, in the current (sub)transaction. */
static void
update_stopped(export_log *log, Datum id, const void *arg)
{
	int64		records = *(const int64 *) arg;
	Oid			types[2] = {UUIDOID, TEXTOID};
	Datum		values[2];

	values[0] = id;
	values[1] = CStringGetTextDatum(psprintf("the reader stopped after " INT64_FORMAT " %s, before the end",
											 records, records == 1 ? "record" : "records"));
	if (SPI_execute_with_args("UPDATE train_data.export_logs SET status = 'failed', error_message = $2"
							  " WHERE id OPERATOR(pg_catalog.=) $1 AND status OPERATOR(pg_catalog.=) 'processing'",
							  2, types, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not record the export's early end");
}

/* What export_log_finish_late completes the log with. */
typedef struct late_counts
{
	int64		conversations;
	int64		bytes;
} late_counts;

/* The update of export_log_finish_late, in the current (sub)transaction. */
static void
update_finished(export_log *log, Datum id, const void *arg)
{
	const late_counts *c = arg;

	log->id = id;				/* (cleared by best_effort, so that nothing writes it again) */
	if (log->manifest)
		finish_with_manifest(log, c->conversations, c->bytes, true);
	else
		finish_without_manifest(log, c->conversations, c->bytes, true);
	log->id = (Datum) 0;
}

/*
 * Run write on the log row, once, from the end of the scan that called the
 * export, best effort: in the caller's transaction, as the caller -- often
 * from a statement that is not the export's (CLOSE, COMMIT, PREPARE
 * TRANSACTION), which must not fail for it -- so in a subtransaction of its
 * own, and an error that stops it (the role or row security changed since,
 * a lock) leaves the row 'processing' with a warning (failure: what the
 * warning says was not written).  A transaction that cannot write at all
 * (read-only, a parallel worker's, a standby's) tries nothing and leaves
 * the row 'processing' without a word.  The review of the first form of
 * export_log_stopped, which let the update's error through, had a COMMIT
 * of a read-only transaction and a CLOSE under another role fail.  A cancel
 * still cancels.
 */
static void
best_effort(export_log *log, void (*write) (export_log *log, Datum id, const void *arg), const void *arg,
			const char *failure)
{
	Datum		id = log->id;
	MemoryContext cx = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	if (id == (Datum) 0)
		return;
	log->id = (Datum) 0;
	if (XactReadOnly || IsInParallelMode() || RecoveryInProgress())
		return;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cx);
	PG_TRY();
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		write(log, id, arg);
		SPI_finish();
		PopActiveSnapshot();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cx);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cx);
		e = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cx);
		CurrentResourceOwner = owner;
		log->id = (Datum) 0;
		if (e->sqlerrcode == ERRCODE_QUERY_CANCELED || e->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(e);
		ereport(WARNING,
				(errcode(e->sqlerrcode),
				 errmsg("%s; it stays \"processing\"", failure),
				 errdetail("The update failed: %s.", e->message)));
		FreeErrorData(e);
	}
	PG_END_TRY();
}

/*
 * Record that the reader stopped before the last record (a LIMIT, a cursor
 * closed early or dropped at COMMIT, a rescan): 'failed', saying after how
 * many records, so the row does not stay 'processing' for good (a review of
 * 1.2); the log is not written again.  Best effort (best_effort).
 */
void
export_log_stopped(export_log *log, int64 records)
{
	best_effort(log, update_stopped, &records, "the log of an export stopped early could not be written");
}

/*
 * At the end of the scan of an export whose last record was returned but
 * not its end, complete its log if it is still 'processing': the reader
 * stopped right after the last record (a LIMIT of exactly the number of
 * records, a FETCH of that many then CLOSE) and read the export whole.  A
 * row the caller no longer sees is left as it is (its insert undone by a
 * savepoint's rollback, say).  Best effort, as export_log_stopped.  (A
 * review of the thirty-sixth session found a first form, which completed
 * the log as it returned the last record, leave it 'processing' for good
 * when a savepoint rolled back after that record undid the completion.)
 */
void
export_log_finish_late(export_log *log, int64 conversations, int64 bytes)
{
	late_counts c = {conversations, bytes};

	best_effort(log, update_finished, &c, "the log of an export read to its last record could not be completed");
}

/* Complete the log after the last record. */
void
export_log_finish(export_log *log, int64 conversations, int64 bytes)
{
	if (log->id == (Datum) 0)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (log->manifest)
		finish_with_manifest(log, conversations, bytes, false);
	else
		finish_without_manifest(log, conversations, bytes, false);
	SPI_finish();
}
