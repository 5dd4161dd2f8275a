/*
 * minhash.c — MinHash signatures by one-permutation hashing with optimal
 * densification, and LSH band keys (see minhash.h).
 */
#include "minhash.h"

#include <string.h>

#include "td_mem.h"
#include "td_words.h"

#define ROLL_BASE 0x100000001b3ULL	/* multiplier of the rolling shingle hash (odd) */
#define SHINGLE_SEED 0x5bd1e9955bd1e995ULL
#define WALK_SEED 0x2545f4914f6cdd1dULL
#define BAND_SEED 0x9e3779b97f4a7c15ULL
#define SLOT_BITS 7				/* log2(TD_MINHASH_SLOTS) */
#define MAX_WALK 4096			/* densification steps before a linear scan */

/* See minhash.h. */
void
td_minhash_init(td_minhash *m)
{
	m->words = 0;
	m->roll = 0;
	m->base_k = 1;
	for (int i = 0; i < TD_MINHASH_SHINGLE; i++)
		m->base_k *= ROLL_BASE;
	memset(m->filled, 0, sizeof(m->filled));
	for (int i = 0; i < TD_MINHASH_SLOTS; i++)
		m->slot[i] = TD_MINHASH_EMPTY;
	m->collect = NULL;
	m->compact_at = 0;
}

static void compact(td_minhash *m);

/* Give a shingle (its rolling hash over k words) its slot. */
static void
put_shingle(td_minhash *m, uint64_t roll, uint64_t k)
{
	uint64_t	h = td_mix64(roll ^ (SHINGLE_SEED + k));
	uint32_t	slot = (uint32_t) (h >> (64 - SLOT_BITS)),
				value = (uint32_t) h;

	if (m->collect != NULL)
	{
		td_buf_append(m->collect, (const char *) &h, sizeof(h));
		if (m->collect->len >= m->compact_at)
			compact(m);
		return;
	}
	if (!m->filled[slot] || value < m->slot[slot])
		m->slot[slot] = value;
	m->filled[slot] = 1;
}

/* See minhash.h. */
void
td_minhash_add(td_minhash *m, const char *s, size_t len)
{
	td_word_iter it;
	td_word		batch[TD_WORD_BATCH];
	size_t		got;

	td_words_init_shingles(&it, s, len);
	while ((got = td_words_fill(&it, batch, TD_WORD_BATCH)) > 0)
	{
		for (size_t b = 0; b < got; b++)
		{
			uint64_t	slot = m->words % TD_MINHASH_SHINGLE;

			/* roll: polynomial hash of the last TD_MINHASH_SHINGLE words */
			m->roll = m->roll * ROLL_BASE + batch[b].hash -
				(m->words >= TD_MINHASH_SHINGLE ? m->window[slot] * m->base_k : 0);
			m->window[slot] = batch[b].hash;
			m->words++;
			if (m->words >= TD_MINHASH_SHINGLE)
				put_shingle(m, m->roll, TD_MINHASH_SHINGLE);
		}
	}
}

/*
 * The shingles of a text end: one of all its words when it has fewer than
 * TD_MINHASH_SHINGLE (a short text is not empty), else none more.
 */
static void
finish_shingles(td_minhash *m)
{
	if (m->words > 0 && m->words < TD_MINHASH_SHINGLE)
		put_shingle(m, m->roll, m->words);
}

/* See minhash.h. */
void
td_minhash_finish(td_minhash *m, uint32_t sig[TD_MINHASH_SLOTS])
{
	bool		any = false;

	finish_shingles(m);
	for (int i = 0; i < TD_MINHASH_SLOTS; i++)
		any = any || m->filled[i];
	for (int i = 0; i < TD_MINHASH_SLOTS; i++)
	{
		uint64_t	step;

		sig[i] = m->slot[i];
		if (m->filled[i] || !any)
			continue;
		for (step = 0; step < MAX_WALK; step++)
		{
			uint32_t	j = (uint32_t) (td_mix64(WALK_SEED + (uint64_t) i * 0x10000 + step) >> (64 - SLOT_BITS));

			TD_CHECK_FOR_INTERRUPTS();
			if (m->filled[j])
			{
				sig[i] = m->slot[j];
				break;
			}
		}
		for (int j = (i + 1) % TD_MINHASH_SLOTS; step == MAX_WALK; j = (j + 1) % TD_MINHASH_SLOTS)
			if (m->filled[j])	/* never reached in practice: some slot is filled */
			{
				sig[i] = m->slot[j];
				break;
			}
	}
}

/* See minhash.h. */
void
td_minhash_text(const char *s, size_t len, uint32_t sig[TD_MINHASH_SLOTS])
{
	td_minhash	m;

	td_minhash_init(&m);
	td_minhash_add(&m, s, len);
	td_minhash_finish(&m, sig);
}

/* See minhash.h. */
void
td_minhash_bands(const uint32_t sig[TD_MINHASH_SLOTS], int64_t keys[TD_MINHASH_BANDS])
{
	for (int b = 0; b < TD_MINHASH_BANDS; b++)
	{
		uint64_t	h = td_mix64(BAND_SEED + (uint64_t) b);

		for (int r = 0; r < TD_MINHASH_ROWS; r++)
			h = td_hash_combine(h, sig[b * TD_MINHASH_ROWS + r]);
		keys[b] = (int64_t) h;
	}
}

/* See minhash.h. */
double
td_minhash_similarity(const uint32_t *a, const uint32_t *b, size_t n)
{
	size_t		equal = 0;

	if (n == 0)
		return 1.0;
	for (size_t i = 0; i < n; i++)
	{
		TD_CHECK_FOR_INTERRUPTS();
		equal += a[i] == b[i];
	}
	return (double) equal / (double) n;
}

#define COMPACT_MIN (((size_t) 1 << 20) * sizeof(uint64_t))	/* 1 M hashes */

/*
 * The hashes collected made a set: sorted, each once; the next compaction
 * when they pass twice its size (or 1 M hashes), so a text of few
 * distinct shingles never holds a hash per word.
 */
static void
compact(td_minhash *m)
{
	uint64_t   *h = (uint64_t *) m->collect->data;
	size_t		n = m->collect->len / sizeof(uint64_t),
				d = 0;

	if (n > 1)
		td_sort(h, n, sizeof(uint64_t), td_u64_cmp);
	for (size_t i = 0; i < n && TD_CHECK_FOR_INTERRUPTS_EXPR(); i++)
		if (i == 0 || h[i] != h[i - 1])
			h[d++] = h[i];
	m->collect->len = d * sizeof(uint64_t);
	m->compact_at = 2 * m->collect->len > COMPACT_MIN ? 2 * m->collect->len : COMPACT_MIN;
}

/* See minhash.h. */
size_t
td_shingle_set(const char *s, size_t len, td_buf *buf)
{
	td_minhash	m;

	td_buf_init(buf);
	td_minhash_init(&m);
	m.collect = buf;
	m.compact_at = COMPACT_MIN;
	td_minhash_add(&m, s, len);
	finish_shingles(&m);
	compact(&m);
	return buf->len / sizeof(uint64_t);
}

/* See minhash.h. */
double
td_shingle_set_jaccard(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
	size_t		i = 0,
				j = 0,
				both = 0;

	while (i < na && j < nb && TD_CHECK_FOR_INTERRUPTS_EXPR())
	{
		if (a[i] == b[j])
			both++, i++, j++;
		else if (a[i] < b[j])
			i++;
		else
			j++;
	}
	return na + nb > both ? (double) both / (double) (na + nb - both) : 1.0;
}

/* See minhash.h. */
double
td_shingle_jaccard(const char *a, size_t alen, const char *b, size_t blen)
{
	td_buf		ba,
				bb;
	size_t		na = td_shingle_set(a, alen, &ba),
				nb = td_shingle_set(b, blen, &bb);
	double		j = td_shingle_set_jaccard((const uint64_t *) ba.data, na, (const uint64_t *) bb.data, nb);

	td_buf_free(&ba);
	td_buf_free(&bb);
	return j;
}
