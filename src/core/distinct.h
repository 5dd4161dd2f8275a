/*
 * distinct.h — counting distinct 64-bit hashes in bounded memory: exactly
 * while there are at most TD_DISTINCT_EXACT_MAX of them (an open-addressing
 * set), then estimated by HyperLogLog (2^14 one-byte registers, standard
 * error 1.04 / sqrt(2^14) = 0.81 %), into which the set is poured.  Memory is
 * at most the set's 2 × TD_DISTINCT_EXACT_MAX slots of 8 bytes (1 MiB)
 * before the switch and 16 KiB after it.
 *
 * And the vocabulary diversity of a corpus built on it: words (td_words.h),
 * distinct words, consecutive word pairs within a text, distinct pairs.
 */
#ifndef TD_DISTINCT_H
#define TD_DISTINCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TD_DISTINCT_EXACT_MAX 65536
#define TD_DISTINCT_HLL_BITS 14
#define TD_DISTINCT_HLL_REGISTERS (1 << TD_DISTINCT_HLL_BITS)

/* Memory the counter asks for, and gives back (palloc/pfree or malloc/free). */
typedef void *(*td_alloc_fn) (size_t size);
typedef void (*td_free_fn) (void *p);

typedef struct td_distinct
{
	uint64_t   *slots;			/* the exact set (0 marks an empty slot), or NULL */
	size_t		capacity;		/* slots: a power of 2 */
	size_t		used;
	bool		has_zero;		/* the hash 0, which cannot be stored in a slot */
	uint8_t    *registers;		/* HyperLogLog, once the set is full; else NULL */
	td_alloc_fn alloc;
	td_free_fn	release;
} td_distinct;

/* An empty counter (allocates nothing yet). */
extern void td_distinct_init(td_distinct *d, td_alloc_fn alloc, td_free_fn release);

/* Count hash h. */
extern void td_distinct_add(td_distinct *d, uint64_t h);

/* How many distinct hashes were added: exact, or the estimate. */
extern double td_distinct_count(const td_distinct *d);

/* Whether the count is an estimate. */
extern bool td_distinct_estimated(const td_distinct *d);

/* Release the counter's memory. */
extern void td_distinct_free(td_distinct *d);

/* Vocabulary diversity of the texts added. */
typedef struct td_diversity
{
	uint64_t	words;
	uint64_t	pairs;			/* consecutive words of one text */
	td_distinct distinct_words;
	td_distinct distinct_pairs;
	void		(*tick) (void);	/* called every 65,536 words (interrupt checks), or NULL */
	uint64_t	since_tick;
} td_diversity;

extern void td_diversity_init(td_diversity *v, td_alloc_fn alloc, td_free_fn release, void (*tick) (void));

/* Add the words of one text s[0..len). */
extern void td_diversity_add_text(td_diversity *v, const char *s, size_t len);

extern void td_diversity_free(td_diversity *v);

#endif							/* TD_DISTINCT_H */
