/*
 * price_glue.c — train_data.engine_model_price(answered, asked):
 * model_price(answered, asked) as the engine reads it for each completion,
 * from the session's copy (engine_cache.c) when it has one.  The lookup
 * itself (exact rows, then Claude families) stays in model_price(), the one
 * place it is written.
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
 * model_price(answered, asked) read now: its row (a composite datum of type
 * rowtype, this function's result type, in the caller's memory) or NULL.
 * nulls marks a NULL name as SPI does ('n').
 */
static Datum
read_price(Datum names[2], const char nulls[2], Oid rowtype, bool *isnull)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		row;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	td_kept_plan(&price_plan, "SELECT train_data.model_price($1, $2)", 2, argtypes, 0);
	/* not read-only: a snapshot of its own, taken after the caller's generation */
	if (SPI_execute_plan(price_plan, names, nulls, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
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
 * The copy's key of a pair of names: a flag byte for each (0 none, 1 a
 * name), then the answered name, a NUL, the asked name (a name holds no NUL,
 * so two pairs never share a key), in palloc'd memory.
 */
static char *
price_key(text *answered, text *asked, size_t *len)
{
	size_t		a = answered ? VARSIZE_ANY_EXHDR(answered) : 0,
				b = asked ? VARSIZE_ANY_EXHDR(asked) : 0;
	char	   *key = palloc(a + b + 3);

	key[0] = (char) (answered != NULL);
	key[1] = (char) (asked != NULL);
	if (a)
		memcpy(key + 2, VARDATA_ANY(answered), a);
	key[2 + a] = '\0';
	if (b)
		memcpy(key + 3 + a, VARDATA_ANY(asked), b);
	*len = a + b + 3;
	return key;
}

/*
 * engine_model_price(answered text, asked text) returns
 * train_data.model_prices: the price row a call is billed at (exact rows of
 * the model that answered, then of the one asked for, then their
 * families), NULL when none; a NULL name is no model.
 */
Datum
train_data_engine_model_price(PG_FUNCTION_ARGS)
{
	text	   *answered = PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0);
	text	   *asked = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	Datum		names[2] = {answered ? PointerGetDatum(answered) : (Datum) 0, asked ? PointerGetDatum(asked) : (Datum) 0};
	char		nulls[2] = {answered ? ' ' : 'n', asked ? ' ' : 'n'};
	size_t		len;
	char	   *key = price_key(answered, asked, &len);
	Datum		row;
	bool		isnull;
	uint64		since;

	if (td_engine_cache_get(TD_CACHE_PRICE, key, (int) len, &row, &isnull))
	{
		if (isnull)
			PG_RETURN_NULL();
		PG_RETURN_DATUM(row);
	}
	since = td_engine_cache_generation();
	row = read_price(names, nulls, get_fn_expr_rettype(fcinfo->flinfo), &isnull);
	td_engine_cache_put(TD_CACHE_PRICE, key, (int) len, row, isnull, -1, false, since);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(row);
}
