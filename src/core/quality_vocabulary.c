/*
 * quality_vocabulary.c — the scorer's word counts (see quality_vocabulary.h).
 * One pass over each turn, eight bytes at a time: a word's hash is taken
 * over its lower-cased bytes as they are found, its characters counted
 * from the UTF-8 continuation bytes; a table of word hashes counts the
 * distinct words and a table of 4-gram hashes the repeated runs.
 */
#include "quality_vocabulary.h"

#include "td_hcount.h"
#include "td_swar.h"
#include "td_text.h"
#include "td_words.h"

#define NGRAM 4					/* words per n-gram of the repetition signal (count_word is written for 4) */
#define KEEP_SLOTS 8192			/* a session keeps tables up to 128 KiB each */
#define MULT 0x9e3779b97f4a7c15ULL
#define MULT2 (MULT * MULT)		/* (mod 2^64) */
#define MULT3 (MULT2 * MULT)

/* The high bit of each byte of x that is ASCII white space (space, \t..\r); exact. */
static inline uint64_t
space_bytes(uint64_t x)
{
	return (td_bytes_zero(x ^ (0x20 * TD_ONES)) | td_bytes_in(x & ~TD_HIGHS, '\t', '\r')) & ~x & TD_HIGHS;
}

/*
 * The word of s[0..len) that starts at or after *p (white space skipped):
 * its hash and whether it has more than 3 characters; *p moves past it.
 * False when only white space is left.  Whole blocks of eight bytes while
 * they last, then the tail a byte at a time (the same hash either way:
 * blocks are counted from the word's first byte).
 */
static bool
next_word(const char *s, size_t len, size_t *p, uint64_t *hash, bool *long_word)
{
	size_t		q = *p,
				b,
				cont = 0;
	uint64_t	h = TD_WORD_HASH_SEED,
				block = 0;
	unsigned	nbytes = 0;

	while (q < len && td_is_space(s[q]))
	{
		TD_CHECK_FOR_INTERRUPTS();
		q++;
	}
	if (q == len)
	{
		*p = q;
		return false;
	}
	for (b = q; q + 8 <= len;)
	{
		uint64_t	x = td_load_le(s + q, 8),
					stop = space_bytes(x);

		if (stop)
		{
			unsigned	k = td_ctz64(stop) / 8;

			block = td_lower8(x & ((UINT64_C(1) << (8 * k)) - 1));	/* k < 8 */
			nbytes = k;
			q += k;
			goto done;
		}
		h = td_word_hash_block(h, td_lower8(x));
		cont += td_continuation_bytes(x);
		q += 8;
		if (((q - b) & 4095) == 0)
			TD_CHECK_FOR_INTERRUPTS();
	}
	for (; q < len && !td_is_space(s[q]); q++)
		block |= (uint64_t) (unsigned char) s[q] << (8 * nbytes++);
	block = td_lower8(block);
done:
	cont += td_continuation_bytes(block);
	*p = q;
	*hash = td_word_hash_end(h, block, q - b);
	*long_word = q - b >= 16 || (q - b) - cont > 3;	/* 16 bytes: 4 characters at least (as before for invalid UTF-8) */
	return true;
}

/*
 * The next white-space word at or after *p when the detectors' words do
 * not give it outright: white space skipped, then the detectors' word
 * (*j moves to the first at or after it) if it spans exactly that word,
 * else the bytes read.  False at the end of the text.
 */
static bool
slow_word(const char *text, size_t len, const td_turn_words *tw, size_t *p, size_t *j, uint64_t *hash,
		  bool *long_word)
{
	size_t		q = *p,
				i = *j;

	for (size_t gap = q; q < len && td_is_space(text[q]);)
		if ((++q - gap) % 4096 == 0)
			TD_CHECK_FOR_INTERRUPTS();	/* a long run of white space */
	*p = q;
	if (q == len)
		return false;
	while (tw && i < tw->n && tw->words[i].begin < q)
		i++;
	*j = i;
	if (tw && i < tw->n && tw->words[i].begin == q &&
		tw->cprefix[i + 1] - tw->cprefix[i] == tw->words[i].end - q &&
		(tw->words[i].end == len || td_is_space(text[tw->words[i].end])))
	{
		*hash = tw->words[i].hash;
		*long_word = tw->words[i].end - q > 3;
		*p = tw->words[i].end;
		*j = i + 1;
		return true;
	}
	return next_word(text, len, p, hash, long_word);
}

static td_hcount words,			/* kept across calls: no allocation, no clearing */
			grams;

/*
 * Where a turn's count stands: the words before the next one, and what
 * was seen last.  Both counts are of distinct keys (words; n-grams seen
 * twice), which the order of the adds does not change: a long word equal
 * to the one before needs no add (it is not new), and a run of equal
 * n-grams is added at once when it ends (its count crosses 2 once either
 * way).  A turn that repeats one word then costs no lookup per word: the
 * adds of one slot would wait on each other's stores.
 */
typedef struct turn_count
{
	uint64_t	last[NGRAM - 1];	/* the words before, oldest first */
	size_t		k;				/* words so far */
	uint64_t	long_hash;		/* the last long word (when had_long) */
	bool		had_long;
	uint64_t	run_gram;		/* the n-gram repeated run_n times at the end (run_n 0: none) */
	uint32_t	run_n;
} turn_count;

/* Add the run of equal n-grams that ended. */
static inline void
flush_run(td_vocabulary *v, turn_count *tc)
{
	uint32_t	c;

	if (tc->run_n == 0)
		return;
	c = td_hcount_add_n(&grams, tc->run_gram, tc->run_n);
	v->repeated_ngrams += c >= 2 && c - tc->run_n < 2;
	tc->run_n = 0;
}

/* Count one word of the current turn. */
static inline void
count_word(td_vocabulary *v, uint64_t hash, bool long_word, turn_count *tc)
{
	uint64_t   *last = tc->last;

	if (long_word)				/* only words of 4 characters or more count */
	{
		v->total_long++;
		if (!tc->had_long || hash != tc->long_hash)
			v->distinct_long += td_hcount_add(&words, hash) == 1;
		tc->long_hash = hash;
		tc->had_long = true;
	}
	if (tc->k + 1 >= NGRAM)
	{
		/*
		 * The polynomial l0·M³ + l1·M² + l2·M + hash, its three products
		 * independent of each other; only compared for equality (the
		 * words' hashes are mixed already), so not mixed again.
		 */
		uint64_t	gram = last[0] * MULT3 + last[1] * MULT2 + last[2] * MULT + hash;

		if (tc->run_n > 0 && gram != tc->run_gram)
			flush_run(v, tc);
		tc->run_gram = gram;
		tc->run_n++;
	}
	for (int j = 0; j < NGRAM - 2; j++)
		last[j] = last[j + 1];
	last[NGRAM - 2] = hash;
	tc->k++;
}

/*
 * Count the run of the detectors' words from j that are whole (the usual
 * case: words of letters and digits one space apart), the turn's state in
 * a local (kept in registers: count_word is inlined and the copy's address
 * goes nowhere else): after the first, each whole word begins one space
 * after the whole word before it (td_turn_words), so no white-space word
 * lies between them and the text need not be read.  Returns the first
 * word not counted.
 */
static size_t
count_whole_run(td_vocabulary *v, const td_turn_words *tw, size_t j, turn_count *tc)
{
	turn_count	t = *tc;

	while (j < tw->n && tw->whole[j])
	{
		size_t		stop = tw->n - j > 1024 ? j + 1024 : tw->n;	/* a check for a cancel every 1,024 words */

		TD_CHECK_FOR_INTERRUPTS();
		for (; j < stop && tw->whole[j]; j++)
			count_word(v, tw->words[j].hash, tw->words[j].end - tw->words[j].begin > 3, &t);	/* whole: a byte a character */
	}
	*tc = t;
	return j;
}

/* See quality_vocabulary.h. */
void
td_vocabulary_begin(td_vocabulary *v, size_t bytes)
{
	/* about the distinct words and the 4-grams of prose, within what is kept: larger texts grow them */
	td_hcount_reset(&words, bytes / 8 < KEEP_SLOTS / 8 ? bytes / 8 : KEEP_SLOTS / 8);
	td_hcount_reset(&grams, bytes / 5 < KEEP_SLOTS / 4 ? bytes / 5 : KEEP_SLOTS / 4);
	v->total_long = v->distinct_long = 0;
	v->repeated_ngrams = 0;
}

/*
 * See quality_vocabulary.h.  A white-space word that starts where one of
 * the detectors' words does, ends where it ends, and has as many
 * characters as bytes (ASCII letters and digits: nothing dropped, nothing
 * decoded) takes that word's hash.  A detectors' word marked whole that
 * begins at the position reached or one white-space byte after it is
 * counted without reading the text at all (the usual case: words of
 * letters and digits one space apart).
 */
void
td_vocabulary_turn(td_vocabulary *v, const char *text, size_t len, const td_turn_words *tw)
{
	turn_count	tc = {{0}, 0, 0, false, 0, 0};
	size_t		p = 0,
				j = 0;

	if (text == NULL)
		return;
	for (;;)
	{
		uint64_t	hash;
		bool		long_word;

		if (tc.k % 1024 == 0)
			TD_CHECK_FOR_INTERRUPTS();	/* every 1,024 words (and in white space: slow_word) */
		if (tw && j < tw->n && tw->whole[j] && tw->words[j].begin - p <= 1)
		{
			j = count_whole_run(v, tw, j, &tc);
			p = tw->words[j - 1].end;
			continue;
		}
		if (!slow_word(text, len, tw, &p, &j, &hash, &long_word))
			break;
		count_word(v, hash, long_word, &tc);
	}
	flush_run(v, &tc);
}

/* See quality_vocabulary.h. */
void
td_vocabulary_kept_trim(void)
{
	td_hcount_trim(&words, KEEP_SLOTS);
	td_hcount_trim(&grams, KEEP_SLOTS);
}

/* See quality_vocabulary.h. */
void
td_vocabulary_end(td_vocabulary *v)
{
	(void) v;
	td_vocabulary_kept_trim();
}

/* See quality_vocabulary.h. */
void
td_vocabulary_count(const td_qturn *turns, long n, td_vocabulary *v)
{
	size_t		bytes = 0;

	for (long i = 0; i < n; i++)
		bytes += turns[i].len;
	td_vocabulary_begin(v, bytes);
	for (long i = 0; i < n; i++)
		td_vocabulary_turn(v, turns[i].content, turns[i].len, NULL);
	td_vocabulary_end(v);
}
