/*
 * td_hcount.c — occurrences of 64-bit keys (see td_hcount.h).  Keys are
 * hashes already (or sums of them): a key's first slot is its low bits
 * folded with its high ones, probing linearly.  The slots in use are the
 * first cap of the allocated ones: a reset sizes the table to what the
 * next text needs, so that a small text probes a small, cached table even
 * after a large one made the allocation grow.
 */
#include "td_hcount.h"

#include <stdbool.h>
#include <string.h>

#include "td_mem.h"

#define MIN_CAP 64
#define LOAD TD_HCOUNT_LOAD		/* a quarter full: most probes end at once ... */
#define LARGE 65536				/* ... up to this many slots; half full past it (memory) */

/* Would one more key make the table too full? */
static inline bool
too_full(const td_hcount *t)
{
	return (t->cap <= LARGE ? LOAD : 2) * (t->used + 1) > t->cap;
}

/*
 * Allocate at least cap slots, all empty (generation 0 is never current).
 * td_keep_realloc may raise an error (out of memory, over the limit):
 * the table is then empty with no memory, as all zero, so that the next
 * call in the session starts it again.
 */
static void
allocate(td_hcount *t, size_t cap)
{
	if (cap > TD_MAX_ALLOC / sizeof(td_hcount_slot))
		cap = TD_MAX_ALLOC / sizeof(td_hcount_slot) + 1;	/* the limit handler reports it */
	td_hcount_free(t);
	t->slot = td_keep_realloc(NULL, cap * sizeof(td_hcount_slot));
	memset(t->slot, 0, cap * sizeof(td_hcount_slot));
	t->allocated = cap;
	t->cur = 1;
}

/* Put the keys of generation gen in old[0..n) into t (no allocation). */
static void
rehash(td_hcount *t, const td_hcount_slot *old, size_t n, uint32_t gen)
{
	for (size_t i = 0; i < n; i++)
		if (old[i].gen == gen)
		{
			td_hcount_slot *s = td_hcount_slot_of(t, old[i].key);

			*s = old[i];
			s->gen = t->cur;
		}
}

/*
 * Twice the room, the current keys moved over.  The one allocation that
 * may raise an error comes first, before the table changes: after an
 * error the table is as it was (no interrupt either: a cancel would
 * leave two arrays).
 */
static void
grow(td_hcount *t)
{
	size_t		old_cap = t->cap;
	uint32_t	old_gen = t->cur;
	td_hcount_slot *old,
			   *fresh;

	if (t->allocated >= 2 * old_cap)
	{
		/* room enough: the current keys set aside, then rehashed in place */
		old = td_keep_realloc(NULL, old_cap * sizeof(td_hcount_slot));
		memcpy(old, t->slot, old_cap * sizeof(td_hcount_slot));
		if (++t->cur == 0)
		{
			memset(t->slot, 0, t->allocated * sizeof(td_hcount_slot));
			t->cur = 1;
		}
		t->cap = 2 * old_cap;
		rehash(t, old, old_cap, old_gen);
		td_keep_free(old);
		return;
	}
	fresh = td_keep_realloc(NULL, 2 * old_cap * sizeof(td_hcount_slot));
	memset(fresh, 0, 2 * old_cap * sizeof(td_hcount_slot));
	old = t->slot;
	t->slot = fresh;
	t->allocated = t->cap = 2 * old_cap;
	t->cur = 1;
	rehash(t, old, old_cap, old_gen);
	td_keep_free(old);
}

/* See td_hcount.h. */
void
td_hcount_reset(td_hcount *t, size_t n)
{
	size_t		want = MIN_CAP;

	while (want < LOAD * n && want < LARGE)
		want *= 2;
	while (want < 2 * n)
		want *= 2;
	if (want > t->allocated)
		allocate(t, want);		/* may raise an error: then an empty table */
	else if (++t->cur == 0)		/* wrapped: forget every generation */
	{
		memset(t->slot, 0, t->allocated * sizeof(td_hcount_slot));
		t->cur = 1;
	}
	t->used = 0;
	t->cap = want;
}

/*
 * See td_hcount.h: the add of a key (n times) when the table is empty or would be
 * too full with one more key (the inline fast path's bound, a quarter
 * full, is stricter than too_full's past LARGE): the key may be there
 * already; a new one grows the table first when it must.
 */
uint32_t
td_hcount_add_new(td_hcount *t, uint64_t key, uint32_t n)
{
	td_hcount_slot *s;

	if (t->cap == 0)
		td_hcount_reset(t, 0);
	s = td_hcount_slot_of(t, key);
	if (s->gen != t->cur)
	{
		if (too_full(t))
		{
			grow(t);
			s = td_hcount_slot_of(t, key);
		}
		s->key = key;
		s->count = 0;
		s->gen = t->cur;
		t->used++;
	}
	return s->count += n;
}

/* See td_hcount.h. */
void
td_hcount_trim(td_hcount *t, size_t max_slots)
{
	if (t->allocated > max_slots)
		td_hcount_free(t);
}

/* See td_hcount.h. */
void
td_hcount_free(td_hcount *t)
{
	td_keep_free(t->slot);
	memset(t, 0, sizeof(*t));
}
