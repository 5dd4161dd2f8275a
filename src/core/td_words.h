/*
 * td_words.h — normalised words of a text, shared by the defect detectors
 * (quality_defects.c) and the near-duplicate signatures (minhash.c).
 *
 * A word is a maximal run of word characters: ASCII letters and digits and
 * every non-ASCII code point that is not white space, punctuation or a
 * symbol of the ranges listed in td_words.c.  Apostrophes (' ’ ‘ ʼ `) inside
 * a word are dropped ("can’t" and "CANT" are the same word); every other
 * character separates words.  Letters are lower-cased: ASCII, Latin-1,
 * Latin Extended-A, Greek and Cyrillic (enough for the languages the tests
 * use; other scripts keep their case), and folded first (td_fold.h): a
 * letter with an accent is its base letter, a combining mark is left out,
 * a fullwidth letter is ASCII.  Han and kana characters are each a word
 * (and, in a walk for shingles, Thai, Lao, Myanmar and Khmer ones).
 * Invalid UTF-8 bytes separate words.
 *
 * Each word comes with a 64-bit hash of its normalised form: two words are
 * taken as equal when their hashes are (a false match between texts not
 * made for it has probability 2^-64 per pair, far below any threshold the
 * callers apply; the hash is not keyed, so a writer can make two words of
 * her own text collide, which changes only what is computed about it).
 */
#ifndef TD_WORDS_H
#define TD_WORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One word of a text. */
typedef struct td_word
{
	uint64_t	hash;			/* of the normalised form */
	size_t		begin;			/* byte span in the text */
	size_t		end;
	uint32_t	chars;			/* code points of the normalised form */
} td_word;

/* A walk over the words of s[0..len). */
typedef struct td_word_iter
{
	const char *s;
	size_t		len;
	size_t		pos;
	bool		shingles;		/* a walk for shingles: Thai, Lao, Myanmar, Khmer a word per character */
} td_word_iter;

/* Start a walk over s[0..len). */
extern void td_words_init(td_word_iter *it, const char *s, size_t len);

/*
 * Start a walk over s[0..len) for shingles (minhash.c): Thai, Lao, Myanmar
 * and Khmer characters are words of their own as well (see td_words.c).
 */
extern void td_words_init_shingles(td_word_iter *it, const char *s, size_t len);

/* The next word into *w; false at the end of the text. */
extern bool td_words_next(td_word_iter *it, td_word *w);

/*
 * Up to max next words into out[]; returns how many (0 at the end of the
 * text): td_words_next in a loop, without a call per word, and one check
 * for a cancel per call (a walk in batches of TD_WORD_BATCH is cancellable
 * however short its words).
 */
extern size_t td_words_fill(td_word_iter *it, td_word *out, size_t max);

/* The batch size of td_words_fill's callers. */
#define TD_WORD_BATCH 64

/* The code point at s[0..len) into *cp; returns its bytes (1 for an invalid byte, *cp = 0xFFFD). */
extern size_t td_utf8_decode(const char *s, size_t len, uint32_t *cp);

/* White space or an invisible format character (zero-width space, BOM, ...). */
extern bool td_is_unicode_space(uint32_t cp);

/* Lower case of a code point (the scripts listed above; others unchanged). */
extern uint32_t td_lower_cp(uint32_t cp);

/* A 64-bit mixing function (the splitmix64 finaliser): a bijection. */
static inline uint64_t
td_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Combine a running hash with the next element (order matters). */
static inline uint64_t
td_hash_combine(uint64_t h, uint64_t next)
{
	return td_mix64(h * 0x9e3779b97f4a7c15ULL + next + 0x632be59bd9b4e019ULL);
}

/*
 * The hash of a word's normalised UTF-8 bytes, shared with the scorer's
 * vocabulary (quality_vocabulary.c), so that a word both read the same
 * gets the same hash: whole blocks of eight bytes (little endian) absorbed
 * one after the other from the word's first byte, then the last partial
 * block (0 to 7 bytes) and the length.
 */
#define TD_WORD_HASH_SEED UINT64_C(0xcbf29ce484222325)
#define TD_WORD_HASH_MULT UINT64_C(0x9e3779b97f4a7c15)

/* Absorb one whole block of eight bytes. */
static inline uint64_t
td_word_hash_block(uint64_t h, uint64_t block)
{
	uint64_t	x = (h ^ block) * TD_WORD_HASH_MULT;

	return (x << 29) | (x >> 35);
}

/* The finished hash: the last partial block (missing bytes zero) and the length in bytes. */
static inline uint64_t
td_word_hash_end(uint64_t h, uint64_t partial, uint64_t total)
{
	return td_mix64((h ^ partial) * TD_WORD_HASH_MULT + total);
}

#endif							/* TD_WORDS_H */
