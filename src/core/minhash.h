/*
 * minhash.h — MinHash signatures of texts and their LSH band keys (pure C
 * core of minhash_signature, minhash_bands, minhash_similarity and
 * conversation_text_signature), for near-duplicate detection.
 *
 * Shingles: runs of TD_MINHASH_SHINGLE = 5 consecutive normalised words
 * (td_words.h: lower case, punctuation and apostrophes ignored), as FineWeb
 * uses; a text of fewer words has one shingle, all of its words; a text
 * without words has none.  Words run on across the pieces given to
 * td_minhash_add (the turns of a conversation are one text).
 *
 * Signature: TD_MINHASH_SLOTS = 128 slots by one-permutation hashing with
 * optimal densification (Li, Owen & Zhang 2012; Shrivastava 2017): each
 * shingle is hashed once to 64 bits (a rolling polynomial of its words'
 * hashes, mixed); the top 7 bits choose a slot, the low
 * 32 bits are its value, each slot keeps the least value it was given; an
 * empty slot then copies the value of the first filled slot on a fixed
 * pseudo-random walk that depends only on the slot number.  As with 128
 * independent hash functions, the chance that two signatures agree in a
 * slot is the Jaccard similarity of the shingle sets, so the fraction of
 * equal slots estimates it (standard error ≈ sqrt(s(1-s)/128) ≤ 0.044);
 * the cost is one hash per shingle instead of 128.  A text without words
 * has every slot 0xFFFFFFFF.  Equal texts (after normalisation) have equal
 * signatures.
 *
 * LSH: TD_MINHASH_BANDS = 16 bands of TD_MINHASH_ROWS = 8 slots; a band key
 * is a 64-bit hash of the band number and its 8 values, so one index over
 * all keys serves every band.  Two texts of Jaccard similarity s share at
 * least one key with probability 1 - (1 - s^8)^16:
 *
 *     s      0.5     0.6     0.7     0.8     0.9     0.95    1.0
 *     P      0.061   0.234   0.613   0.947   0.9999  1.0000  1 (always)
 *
 * i.e. a threshold near (1/16)^(1/8) ≈ 0.71, between FineWeb's 14 × 8
 * (≈ 0.72) and a stricter 0.8: pairs at 0.8 are found 95 % of the time,
 * at 0.9 practically always, at 0.5 rarely.  Candidates are then checked by
 * their estimated similarity.  Exact duplicates share every key.
 */
#ifndef TD_MINHASH_H
#define TD_MINHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TD_MINHASH_SHINGLE 5
#define TD_MINHASH_SLOTS 128
#define TD_MINHASH_BANDS 16
#define TD_MINHASH_ROWS 8
#define TD_MINHASH_EMPTY 0xFFFFFFFFu	/* value of an empty slot */

/* A signature being built. */
typedef struct td_minhash
{
	uint64_t	window[TD_MINHASH_SHINGLE];	/* the last words' hashes */
	uint64_t	words;			/* words seen */
	uint64_t	roll;			/* sum of window[j] * ROLL_BASE^age, mod 2^64 */
	uint64_t	base_k;			/* ROLL_BASE^TD_MINHASH_SHINGLE */
	uint32_t	slot[TD_MINHASH_SLOTS];
	uint8_t		filled[TD_MINHASH_SLOTS];
	struct td_buf *collect;		/* not NULL: shingle hashes appended here, no slots */
	size_t		compact_at;		/* collect's length (bytes) at which it is made a set again */
} td_minhash;

/* Start an empty signature. */
extern void td_minhash_init(td_minhash *m);

/* Add the words of s[0..len) (UTF-8; invalid bytes separate words). */
extern void td_minhash_add(td_minhash *m, const char *s, size_t len);

/* Finish: the signature into sig (m is spent). */
extern void td_minhash_finish(td_minhash *m, uint32_t sig[TD_MINHASH_SLOTS]);

/* The signature of one text. */
extern void td_minhash_text(const char *s, size_t len, uint32_t sig[TD_MINHASH_SLOTS]);

/* The band keys of a signature, one per band (band number mixed in). */
extern void td_minhash_bands(const uint32_t sig[TD_MINHASH_SLOTS], int64_t keys[TD_MINHASH_BANDS]);

/* Fraction of equal slots of two signatures of n slots (1 when n is 0). */
extern double td_minhash_similarity(const uint32_t *a, const uint32_t *b, size_t n);

/*
 * A text's shingle set, which its signature is made from (the same words,
 * shingles and 64-bit shingle hashes): the distinct hashes, ascending, as
 * uint64_t in buf (initialized here; the caller frees it); returns their
 * number.  Memory: 8 bytes a distinct shingle, and at most 8 MB besides
 * (the hashes gathered are made a set again whenever they pass twice the
 * last set's size or 1 M hashes).
 */
extern size_t td_shingle_set(const char *s, size_t len, struct td_buf *buf);

/*
 * The Jaccard similarity of two shingle sets (td_shingle_set's: ascending,
 * distinct): |A ∩ B| / |A ∪ B|; 1 when both are empty.
 */
extern double td_shingle_set_jaccard(const uint64_t *a, size_t na, const uint64_t *b, size_t nb);

/*
 * The exact Jaccard similarity of two texts' shingle sets, which their
 * signatures estimate; 1 when neither text has a word.
 */
extern double td_shingle_jaccard(const char *a, size_t alen, const char *b, size_t blen);

#endif							/* TD_MINHASH_H */
