/*
 * timestamps.c — train_data.touch_timestamps(): the BEFORE UPDATE trigger that
 * keeps updated_at (and templates.last_modified) current.
 *
 * The trigger's arguments name the timestamptz columns to set; each is set to
 * the transaction's start time, as now() would.  It is written in C because it
 * fires on every update of the queue tables, where a PL/pgSQL call per row
 * would be a measurable share of a claim or a completion.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "train_data.h"

PG_FUNCTION_INFO_V1(train_data_touch_timestamps);

/* Fail unless called as a BEFORE ROW INSERT or UPDATE trigger. */
static void
check_trigger_context(FunctionCallInfo fcinfo)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"touch_timestamps\" was not called by trigger manager")));
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!(TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ||
		  TRIGGER_FIRED_BY_INSERT(trigdata->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"touch_timestamps\" must be fired BEFORE INSERT OR UPDATE FOR EACH ROW")));
	if (trigdata->tg_trigger->tgnargs < 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" must name at least one column",
						trigdata->tg_trigger->tgname)));
}

/* Attribute number of a timestamptz column named by a trigger argument. */
static int
timestamp_column(Relation rel, const char *name)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			attnum = SPI_fnumber(tupdesc, name);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						name, RelationGetRelationName(rel))));
	if (TupleDescAttr(tupdesc, attnum - 1)->atttypid != TIMESTAMPTZOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of relation \"%s\" is not of type timestamp with time zone",
						name, RelationGetRelationName(rel))));
	return attnum;
}

/*
 * touch_timestamps() returns trigger — sets each named column to now().
 */
Datum
train_data_touch_timestamps(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	HeapTuple	tuple;
	int			ncols;
	int		   *cols;
	Datum	   *values;
	bool	   *nulls;
	Datum		now;

	check_trigger_context(fcinfo);
	trigger = trigdata->tg_trigger;
	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;

	ncols = trigger->tgnargs;
	cols = (int *) palloc(ncols * sizeof(int));
	values = (Datum *) palloc(ncols * sizeof(Datum));
	nulls = (bool *) palloc0(ncols * sizeof(bool));
	now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());

	for (int i = 0; i < ncols; i++)
	{
		cols[i] = timestamp_column(trigdata->tg_relation, trigger->tgargs[i]);
		values[i] = now;
	}

	tuple = heap_modify_tuple_by_cols(tuple, RelationGetDescr(trigdata->tg_relation),
									  ncols, cols, values, nulls);
	return PointerGetDatum(tuple);
}
