/*
 * free_slot_glue.c — batch_items_free_slot(), native: the row trigger that
 * frees the claim slot (job_claim_slots) of an item that stops being
 * processed (completed, failed, released, retried, cancelled, deleted).
 *
 * It fires on every completion, so it is one UPDATE kept prepared
 * (kept_plan.c) rather than a PL/pgSQL trigger with a search_path of its
 * own, whose nested call cost a completion about 20,000 instructions: the
 * interpreter, the OLD row built as a record, and two recomputations of
 * the search path around it (docs/performance.md).  The function is
 * SECURITY DEFINER, as the PL/pgSQL one was (a user's cancel_batch frees
 * her items' slots, a table users cannot write); without a search_path
 * setting, which its one statement does not need: every name, type and
 * operator in it is schema-qualified and its parameters are typed by oid,
 * so no role's search_path changes what it does.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/rel.h"

#include "kept_plan.h"

PG_FUNCTION_INFO_V1(train_data_batch_items_free_slot);

static const char free_sql[] =
	"UPDATE train_data_internal.job_claim_slots s SET item_id = NULL"
	" WHERE s.batch_job_id OPERATOR(pg_catalog.=) $1 AND s.item_id OPERATOR(pg_catalog.=) $2";

static const Oid free_types[] = {UUIDOID, UUIDOID};

static SPIPlanPtr free_plan;

/* Column number of name in rel (an error when it has none: not batch_items). */
static int
column_of(Relation rel, const char *name)
{
	int			attno = SPI_fnumber(RelationGetDescr(rel), name);

	if (attno <= 0)
		elog(ERROR, "batch_items_free_slot: table \"%s\" has no column \"%s\"", RelationGetRelationName(rel), name);
	return attno;
}

/*
 * batch_items_free_slot() returns trigger — AFTER UPDATE or DELETE, FOR
 * EACH ROW (its WHEN clause: an item that was processing and is not any
 * more): empties the job's slot that holds the item (OLD).
 */
Datum
train_data_batch_items_free_slot(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	HeapTuple	old;
	Datum		args[2];
	char		nulls[2];
	bool		isnull;
	int			rc;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!(TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) || TRIGGER_FIRED_BY_DELETE(trigdata->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("batch_items_free_slot() must be fired AFTER UPDATE or DELETE FOR EACH ROW")));
	rel = trigdata->tg_relation;
	old = trigdata->tg_trigtuple;
	args[0] = heap_getattr(old, column_of(rel, "batch_job_id"), RelationGetDescr(rel), &isnull);
	nulls[0] = isnull ? 'n' : ' ';
	args[1] = heap_getattr(old, column_of(rel, "id"), RelationGetDescr(rel), &isnull);
	nulls[1] = isnull ? 'n' : ' ';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* a generic plan from the first call: no planning per call */
	rc = SPI_execute_plan(td_kept_plan(&free_plan, free_sql, 2, free_types, CURSOR_OPT_GENERIC_PLAN), args, nulls,
						  false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	SPI_finish();
	return PointerGetDatum(NULL);
}
