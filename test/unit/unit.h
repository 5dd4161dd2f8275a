/*
 * unit.h — a minimal TAP producer for the unit tests of the pure C cores.
 *
 * Each test program includes this header, calls ok() per assertion and ends
 * with return unit_done(); the exit status is non-zero if any check failed.
 */
#ifndef TD_UNIT_H
#define TD_UNIT_H

#include <stdio.h>

static int	unit_run = 0;
static int	unit_failed = 0;

/* Record one assertion with its description. */
#define ok(cond, desc) \
	do { \
		unit_run++; \
		if (cond) \
			printf("ok %d - %s\n", unit_run, (desc)); \
		else \
		{ \
			unit_failed++; \
			printf("not ok %d - %s (%s:%d)\n", unit_run, (desc), __FILE__, __LINE__); \
		} \
	} while (0)

/* Print the plan and return the exit status. */
static inline int
unit_done(void)
{
	printf("1..%d\n", unit_run);
	if (unit_failed)
		printf("# %d of %d checks failed\n", unit_failed, unit_run);
	return unit_failed ? 1 : 0;
}

#endif							/* TD_UNIT_H */
