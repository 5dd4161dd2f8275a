/*
 * quality_vocabulary.h — the white-space separated words of a
 * conversation's turns, counted for the scorer: the uniqueness score
 * (distinct / total words of more than 3 characters) and the
 * repeatedNgrams signal (distinct runs of 4 words, within one turn, that
 * occur more than once).
 *
 * A word is a maximal run of bytes that are not ASCII white space; two
 * words are the same when their bytes are, ASCII letters' case ignored.
 * Words are compared by a 64-bit hash of those bytes, and n-grams by a
 * hash of their words': two texts that were not made for it match falsely
 * with probability 2^-64 per pair.  The hash is not keyed: a writer can
 * make two words of her own text collide, which changes only the counts of
 * that conversation (hers).
 *
 * The count goes turn by turn, alongside the defect detectors' reading of
 * the same turn (td_defect_report_make_with): where a white-space word is
 * exactly one of their words, ASCII letters and digits only, its hash is
 * theirs (the same function, td_words.h) and its bytes are not read again.
 */
#ifndef TD_QUALITY_VOCABULARY_H
#define TD_QUALITY_VOCABULARY_H

#include <stddef.h>

#include "quality.h"
#include "quality_defects.h"

/* What the scorer needs of the words. */
typedef struct td_vocabulary
{
	size_t		total_long;		/* words of more than 3 characters */
	size_t		distinct_long;	/* distinct ones among them */
	long		repeated_ngrams;
} td_vocabulary;

/* Start a count (bytes: of all the turns, to size the tables). */
extern void td_vocabulary_begin(td_vocabulary *v, size_t bytes);

/* Count the next turn's words (its detectors' words, NULL: none read). */
extern void td_vocabulary_turn(td_vocabulary *v, const char *text, size_t len, const td_turn_words *words);

/* End a count (the tables kept for the next one). */
extern void td_vocabulary_end(td_vocabulary *v);

/* Release the tables kept across counts if they grew past what a session keeps (never during a count). */
extern void td_vocabulary_kept_trim(void);

/* A whole count of n turns into *v, without the detectors. */
extern void td_vocabulary_count(const td_qturn *turns, long n, td_vocabulary *v);

#endif							/* TD_QUALITY_VOCABULARY_H */
