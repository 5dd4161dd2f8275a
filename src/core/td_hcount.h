/*
 * td_hcount.h — occurrences of 64-bit keys (hashes of words, n-grams,
 * lines): an open-addressing table that grows once a quarter full (half
 * full past 65,536 slots) and is emptied by a generation counter, so that
 * a table reused across texts costs nothing to clear.  Its memory is kept
 * across calls (td_keep_realloc): a caller keeps its tables in static
 * variables, resets them for each text and trims them after a large one.
 * Shared by the scorer's vocabulary (quality_vocabulary.c) and the defect
 * detectors (quality_defects.c).
 */
#ifndef TD_HCOUNT_H
#define TD_HCOUNT_H

#include <stddef.h>
#include <stdint.h>

/* Slots per key below which an add needs no check (a quarter full). */
#define TD_HCOUNT_LOAD 4

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

/* n occurrences of a key, when the table may have to grow first (td_hcount_add_n's slow path). */
extern uint32_t td_hcount_add_new(td_hcount *t, uint64_t key, uint32_t n);

/* The slot of key: where it is, or the empty one where it goes (cap > 0). */
static inline td_hcount_slot *
td_hcount_slot_of(const td_hcount *t, uint64_t key)
{
	size_t		mask = t->cap - 1,
				i = (size_t) (key ^ (key >> 29)) & mask;

	while (t->slot[i].gen == t->cur && t->slot[i].key != key)
		i = (i + 1) & mask;
	return &t->slot[i];
}

/*
 * Count n more occurrences of key (n > 0); returns its count now.  Inline:
 * the detectors count several n-grams per word; a key already there, or a
 * new one with room left, takes no call.
 */
static inline uint32_t
td_hcount_add_n(td_hcount *t, uint64_t key, uint32_t n)
{
	td_hcount_slot *s;
	uint32_t	fresh,
				count;

	if (t->cap == 0 || TD_HCOUNT_LOAD * (t->used + 1) > t->cap)
		return td_hcount_add_new(t, key, n);	/* may grow: decided there */
	s = &t->slot[(size_t) (key ^ (key >> 29)) & (t->cap - 1)];
	if (s->gen == t->cur && s->key != key)
		s = td_hcount_slot_of(t, key);	/* another key in its first slot (rare): probe on */

	/*
	 * A new key and one seen before are told apart in the data, not by a
	 * branch: which one comes next is what a text decides, and a branch
	 * predicted wrong costs more than the stores.
	 */
	fresh = s->gen != t->cur;
	count = (fresh ? 0 : s->count) + n;
	s->key = key;
	s->count = count;
	s->gen = t->cur;
	t->used += fresh;
	return count;
}

/* Count one more occurrence of key; returns its count now. */
static inline uint32_t
td_hcount_add(td_hcount *t, uint64_t key)
{
	return td_hcount_add_n(t, key, 1);
}

/* The count of key (0 when absent). */
static inline uint32_t
td_hcount_get(const td_hcount *t, uint64_t key)
{
	const td_hcount_slot *s;

	if (t->cap == 0)
		return 0;
	s = td_hcount_slot_of(t, key);
	return s->gen == t->cur ? s->count : 0;
}

/* Release the table's memory when it has grown past max_slots. */
extern void td_hcount_trim(td_hcount *t, size_t max_slots);

/* Release the table's memory (it is then empty, as all zero). */
extern void td_hcount_free(td_hcount *t);

#endif							/* TD_HCOUNT_H */
