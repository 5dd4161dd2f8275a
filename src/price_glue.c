/*
 * price_glue.c — train_data.engine_model_price(model): model_price(model)
 * as the engine reads it for each completion, from the session's copy
 * (engine_cache.c) when it has one.  The lookup itself (exact id, else the
 * Claude family) stays in model_price(), the one place it is written.
 *
 * Internal (EXECUTE revoked from PUBLIC): the copy is read as the extension
 * owner, for whom model_prices' policy does not apply, so it is served
 * only to the engine's own functions, which run as that owner.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "engine_cache.h"
#include "kept_plan.h"

PG_FUNCTION_INFO_V1(train_data_engine_model_price);

static SPIPlanPtr price_plan;

/*
 * model_price(model) read now: its row (a composite datum of type rowtype,
 * this function's result type, in the caller's memory) or NULL.
 */
static Datum
read_price(Datum model, Oid rowtype, bool *isnull)
{
	Oid			argtype = TEXTOID;
	Datum		row;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	td_kept_plan(&price_plan, "SELECT train_data.model_price($1)", 1, &argtype, 0);
	/* not read-only: a snapshot of its own, taken after the caller's generation */
	if (SPI_execute_plan(price_plan, &model, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "model_price() returned no row");
	if (SPI_gettypeid(SPI_tuptable->tupdesc, 1) != rowtype)	/* replaced by another type */
		elog(ERROR, "model_price() returns type %s, not %s",
			 format_type_be(SPI_gettypeid(SPI_tuptable->tupdesc, 1)), format_type_be(rowtype));
	row = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
	if (!*isnull)
		row = SPI_datumTransfer(row, false, -1);
	SPI_finish();
	return row;
}

/*
 * engine_model_price(model text) returns train_data.model_prices: the
 * price row of the model (its exact id, else its family), NULL when none.
 */
Datum
train_data_engine_model_price(PG_FUNCTION_ARGS)
{
	text	   *model = PG_GETARG_TEXT_PP(0);
	Datum		row;
	bool		isnull;
	uint64		since;

	if (td_engine_cache_get(TD_CACHE_PRICE, VARDATA_ANY(model), VARSIZE_ANY_EXHDR(model), &row, &isnull))
	{
		if (isnull)
			PG_RETURN_NULL();
		PG_RETURN_DATUM(row);
	}
	since = td_engine_cache_generation();
	row = read_price(PG_GETARG_DATUM(0), get_fn_expr_rettype(fcinfo->flinfo), &isnull);
	td_engine_cache_put(TD_CACHE_PRICE, VARDATA_ANY(model), VARSIZE_ANY_EXHDR(model), row, isnull, -1, false,
						since);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(row);
}
