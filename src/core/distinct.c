/*
 * distinct.c — distinct counts in bounded memory (exact set, then
 * HyperLogLog) and the vocabulary diversity of a corpus.  See distinct.h.
 * Pure C: memory comes from the caller's functions.
 */
#include "distinct.h"

#include <math.h>
#include <string.h>

#include "td_words.h"

#define TICK_WORDS 65536

/* See distinct.h. */
void
td_distinct_init(td_distinct *d, td_alloc_fn alloc, td_free_fn release)
{
	memset(d, 0, sizeof(*d));
	d->alloc = alloc;
	d->release = release;
}

/* Register index and rank of h in HyperLogLog: the low bits pick the register. */
static void
hll_add(uint8_t *registers, uint64_t h)
{
	uint64_t	x = td_mix64(h);
	uint32_t	index = (uint32_t) (x & (TD_DISTINCT_HLL_REGISTERS - 1));
	uint64_t	rest = x >> TD_DISTINCT_HLL_BITS;
	uint8_t		rank = 1;

	while (rank <= 64 - TD_DISTINCT_HLL_BITS && (rest & 1) == 0)
	{
		rank++;
		rest >>= 1;
	}
	if (registers[index] < rank)
		registers[index] = rank;
}

/* Insert h into the exact set (which has room); true when it was new. */
static bool
set_insert(td_distinct *d, uint64_t h)
{
	size_t		mask = d->capacity - 1;
	size_t		i = (size_t) td_mix64(h) & mask;

	while (d->slots[i] != 0)
	{
		if (d->slots[i] == h)
			return false;
		i = (i + 1) & mask;
	}
	d->slots[i] = h;
	d->used++;
	return true;
}

/* Whether the exact set holds h. */
static bool
set_contains(const td_distinct *d, uint64_t h)
{
	size_t		mask = d->capacity - 1;
	size_t		i;

	if (d->capacity == 0)
		return false;
	for (i = (size_t) td_mix64(h) & mask; d->slots[i] != 0; i = (i + 1) & mask)
		if (d->slots[i] == h)
			return true;
	return false;
}

/* Grow the exact set to twice its capacity (or its first 1,024 slots). */
static void
set_grow(td_distinct *d)
{
	uint64_t   *old = d->slots;
	size_t		old_capacity = d->capacity;

	d->capacity = old_capacity == 0 ? 1024 : old_capacity * 2;
	d->slots = d->alloc(d->capacity * sizeof(uint64_t));
	memset(d->slots, 0, d->capacity * sizeof(uint64_t));
	d->used = 0;
	for (size_t i = 0; i < old_capacity; i++)
		if (old[i] != 0)
			set_insert(d, old[i]);
	if (old != NULL)
		d->release(old);
}

/* Pour the exact set into HyperLogLog registers and free it. */
static void
switch_to_hll(td_distinct *d)
{
	d->registers = d->alloc(TD_DISTINCT_HLL_REGISTERS);
	memset(d->registers, 0, TD_DISTINCT_HLL_REGISTERS);
	for (size_t i = 0; i < d->capacity; i++)
		if (d->slots[i] != 0)
			hll_add(d->registers, d->slots[i]);
	if (d->has_zero)
		hll_add(d->registers, 0);
	d->release(d->slots);
	d->slots = NULL;
	d->capacity = d->used = 0;
}

/* See distinct.h. */
void
td_distinct_add(td_distinct *d, uint64_t h)
{
	if (d->registers != NULL)
	{
		hll_add(d->registers, h);
		return;
	}
	if (h == 0)
	{
		d->has_zero = true;
		return;
	}
	if (2 * (d->used + 1) > d->capacity)
	{
		if (set_contains(d, h))
			return;
		if (d->used >= TD_DISTINCT_EXACT_MAX)
		{
			switch_to_hll(d);
			hll_add(d->registers, h);
			return;
		}
		set_grow(d);
	}
	set_insert(d, h);
}

/* See distinct.h. */
double
td_distinct_count(const td_distinct *d)
{
	double		m = TD_DISTINCT_HLL_REGISTERS;
	double		sum = 0;
	int			zeros = 0;
	double		estimate;

	if (d->registers == NULL)
		return (double) d->used + (d->has_zero ? 1 : 0);
	for (int i = 0; i < TD_DISTINCT_HLL_REGISTERS; i++)
	{
		sum += ldexp(1.0, -d->registers[i]);
		zeros += d->registers[i] == 0;
	}
	estimate = (0.7213 / (1 + 1.079 / m)) * m * m / sum;
	if (estimate <= 2.5 * m && zeros > 0)
		estimate = m * log(m / zeros);	/* linear counting for small counts */
	return estimate;
}

/* See distinct.h. */
bool
td_distinct_estimated(const td_distinct *d)
{
	return d->registers != NULL;
}

/* See distinct.h. */
void
td_distinct_free(td_distinct *d)
{
	if (d->slots != NULL)
		d->release(d->slots);
	if (d->registers != NULL)
		d->release(d->registers);
	d->slots = NULL;
	d->registers = NULL;
}

/* See distinct.h. */
void
td_diversity_init(td_diversity *v, td_alloc_fn alloc, td_free_fn release, void (*tick) (void))
{
	memset(v, 0, sizeof(*v));
	td_distinct_init(&v->distinct_words, alloc, release);
	td_distinct_init(&v->distinct_pairs, alloc, release);
	v->tick = tick;
}

/* See distinct.h. */
void
td_diversity_add_text(td_diversity *v, const char *s, size_t len)
{
	td_word_iter it;
	td_word		w;
	bool		have_previous = false;
	uint64_t	previous = 0;

	td_words_init(&it, s, len);
	while (td_words_next(&it, &w))
	{
		if (v->tick != NULL && ++v->since_tick == TICK_WORDS)
		{
			v->since_tick = 0;
			v->tick();
		}
		v->words++;
		td_distinct_add(&v->distinct_words, w.hash);
		if (have_previous)
		{
			v->pairs++;
			td_distinct_add(&v->distinct_pairs, td_hash_combine(previous, w.hash));
		}
		previous = w.hash;
		have_previous = true;
	}
}

/* See distinct.h. */
void
td_diversity_free(td_diversity *v)
{
	td_distinct_free(&v->distinct_words);
	td_distinct_free(&v->distinct_pairs);
}
