/*
 * kept_plan.c — statements prepared once per session (see kept_plan.h).
 */
#include "kept_plan.h"

/* See kept_plan.h. */
SPIPlanPtr
td_kept_plan(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes, int cursor_options)
{
	SPIPlanPtr	plan;

	if (*slot != NULL)
		return *slot;
	plan = SPI_prepare_cursor(sql, nargs, (Oid *) argtypes, cursor_options);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	*slot = plan;
	return plan;
}
