/*
 * kept_plan.h — statements the native functions prepare once per session:
 * an SPI plan prepared on first use and kept (SPI_keepplan), so that later
 * calls neither parse nor plan it.  PostgreSQL revalidates a kept plan
 * itself when what it reads changes (a table altered, an extension update).
 */
#ifndef TD_KEPT_PLAN_H
#define TD_KEPT_PLAN_H

#include "postgres.h"

#include "executor/spi.h"

/*
 * The plan kept in *slot, prepared from sql (nargs parameters of the given
 * types, cursor_options as SPI_prepare_cursor takes them) when *slot is
 * still NULL.  Call it connected to SPI; an error leaves *slot NULL.
 */
extern SPIPlanPtr td_kept_plan(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes,
							   int cursor_options);

#endif							/* TD_KEPT_PLAN_H */
