/*
 * td_hcount.h — occurrences of 64-bit keys (hashes of words, n-grams,
 * lines): an open-addressing table that grows at half load and is emptied
 * by a generation counter, so that a table reused across texts costs
 * nothing to clear.  Its memory is kept across calls (td_keep_realloc):
 * a caller keeps its tables in static variables, resets them for each
 * text and trims them after a large one.  Shared by the scorer's vocabulary (quality_vocabulary.c)
 * and the defect detectors (quality_defects.c).
 */
#ifndef TD_HCOUNT_H
#define TD_HCOUNT_H

#include <stddef.h>
#include <stdint.h>

/* One slot: a key, its count, and the generation that wrote it. */
typedef struct td_hcount_slot
{
	uint64_t	key;
	uint32_t	count;
	uint32_t	gen;
} td_hcount_slot;

/* The table; all zero is an empty table with no memory. */
typedef struct td_hcount
{
	td_hcount_slot *slot;
	size_t		cap;			/* slots in use: a power of 2, or 0 */
	size_t		allocated;		/* slots allocated, cap or more */
	size_t		used;			/* keys of the current generation */
	uint32_t	cur;			/* the current generation */
} td_hcount;

/* Empty the table, with room for n keys before it grows. */
extern void td_hcount_reset(td_hcount *t, size_t n);

/* Count one more occurrence of key; returns its count now. */
extern uint32_t td_hcount_add(td_hcount *t, uint64_t key);

/* The count of key (0 when absent). */
extern uint32_t td_hcount_get(const td_hcount *t, uint64_t key);

/* Release the table's memory when it has grown past max_slots. */
extern void td_hcount_trim(td_hcount *t, size_t max_slots);

/* Release the table's memory (it is then empty, as all zero). */
extern void td_hcount_free(td_hcount *t);

#endif							/* TD_HCOUNT_H */
