/*
 * minhash_test.c — unit tests of the word normaliser (src/core/td_words.c)
 * and the MinHash signatures (src/core/minhash.c), and the near-duplicate
 * evaluation: planted near copies (about 1 word in 100 replaced), exact
 * copies and distinct texts, against the exact Jaccard similarity of the
 * 5-word shingle sets.  Prints recall of the band candidates, false pairs
 * and the error of the estimate; fails when an exact copy is missed, when
 * fewer than 90 % of the pairs at Jaccard >= 0.8 are candidates, or when
 * distinct texts make more than 0.1 % false pairs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minhash.h"
#include "td_mem.h"
#include "td_words.h"
#include "unit.h"

#define TEXTS 300
#define VOCABULARY 3000
#define MAX_WORDS 700

static uint64_t rng_state = 7;
static unsigned
rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned) (rng_state >> 33) % n;
}

/* The hash of the only word of a text. */
static uint64_t
word_hash(const char *s)
{
	td_word_iter it;
	td_word		w;

	td_words_init(&it, s, strlen(s));
	return td_words_next(&it, &w) ? w.hash : 0;
}

/* Number of words of a text. */
static int
count_words(const char *s)
{
	td_word_iter it;
	td_word		w;
	int			n = 0;

	td_words_init(&it, s, strlen(s));
	while (td_words_next(&it, &w))
		n++;
	return n;
}

/* Do batches of 1, 3 and 64 words give exactly the words one at a time give? */
static int
fill_matches_next(const char *s)
{
	static const size_t sizes[] = {1, 3, 64};

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
	{
		td_word_iter one,
					batch;
		td_word		w,
					got[64];
		size_t		n;

		td_words_init(&one, s, strlen(s));
		td_words_init(&batch, s, strlen(s));
		while ((n = td_words_fill(&batch, got, sizes[k])) > 0)
			for (size_t i = 0; i < n; i++)
				if (!td_words_next(&one, &w) || w.hash != got[i].hash || w.begin != got[i].begin ||
					w.end != got[i].end || w.chars != got[i].chars)
					return 0;
		if (td_words_next(&one, &w))
			return 0;
	}
	return 1;
}

/*
 * Texts of random pieces (ASCII words of every length around the 16-byte
 * steps of the fast path, apostrophes, accented, Cyrillic and Han letters,
 * invalid and cut UTF-8, separators): do batches give the words one at a
 * time gives?  How many of 20,000 do not.
 */
static int
fill_differs_on_random_texts(void)
{
	static const char *const pieces[] = {
		"a", "Z", "9", "hello", "WORLD", "x1y2", "0123456789abcdef0123456789ABCDEF", "abcdefghijklmnop",
		"abcdefghijklmnopq", "abcdefghijklmno", " ", "  ", "\t", "\n", ",", ".", "'", "`", "\u2019", "\u00e9",
		"\u00c9", "\u0434\u0435\u043d\u044c\u0433\u0438", "\u6211", "\xff", "\xc3", "-", "can't", "\u02bc", "\u00d7",
		"{{name}}", "Hello!", "e\u0301", "\u00a0", "_",
		/* words of 63, 64, 65 and 130 bytes: at and past the tokenizer's 64-byte chunks */
		"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZa",
		"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZab",
		"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabc",
		"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef",
		"                                                                 "
	};
	static char text[16384];	/* 120 pieces of up to 130 bytes */
	uint64_t	saved = rng_state;	/* the evaluation below draws its own corpus as before */
	int			bad = 0;

	for (int i = 0; i < 20000; i++)
	{
		size_t		p = 0;
		int			n = (int) rnd(120);

		for (int k = 0; k < n; k++)
		{
			const char *piece = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
			size_t		l = strlen(piece);

			memcpy(text + p, piece, l);
			p += l;
		}
		text[p] = '\0';
		bad += !fill_matches_next(text);
	}
	rng_state = saved;
	return bad;
}

/*
 * Cancel checks while a 1 MiB run of c (a word of 'a's, or separators),
 * after one byte so that it does not start a 16-byte block, is read in a
 * batch: ticks of the check counter, one per 4 KiB at least (about 256).
 */
static unsigned
ticks_in_a_long_run(char c)
{
	size_t		len = 1 + (1 << 20) + 17;
	char	   *text = malloc(len);
	td_word_iter it;
	td_word		w[4];
	unsigned	before = td_interrupt_ticks;

	memset(text, ' ', len);
	memset(text + 1, c, 1 << 20);
	if (c != 'a')
		text[0] = 'x';			/* a word first: the run is scanned from byte 1 */
	td_words_init(&it, text, len);
	while (td_words_fill(&it, w, 4) > 0)
		;
	free(text);
	return td_interrupt_ticks - before;
}

static void
test_words(void)
{
	ok(word_hash("Can’t") == word_hash("CANT") && word_hash("can't") == word_hash("cant"),
	   "apostrophes dropped, case folded");
	ok(word_hash("ÉTÉ") == word_hash("été") && word_hash("ΑΘΉΝΑ") == word_hash("αθήνα") &&
	   word_hash("МОСКВА") == word_hash("москва"), "Latin-1, Greek and Cyrillic lower-cased");
	ok(word_hash("money") != word_hash("monet"), "different words differ");
	ok(count_words("Hello, world!  (again)…") == 3, "punctuation separates words");
	ok(count_words("我很好。你呢？") == 5, "each ideograph is a word");
	ok(count_words("a\u00a0b\u2003c\u200bd") == 4, "Unicode spaces separate words");
	ok(count_words("\xff\xfe bad") == 1, "invalid bytes separate words");
	ok(count_words("") == 0 && count_words(" \t\n") == 0, "no words");
	ok(fill_matches_next("Hello, world! Can’t stop: naïve Übersicht, деньги × 3÷4 ʼtwas 我很好 \xff end") &&
	   fill_matches_next("") && fill_matches_next("one two three four five six seven eight nine ten"),
	   "words in batches are the words one at a time");
	ok(fill_differs_on_random_texts() == 0, "words in batches are the words one at a time on 20,000 random texts");
	ok(ticks_in_a_long_run('a') >= 250, "a cancel is checked for every 4 KiB of a long word");
	ok(ticks_in_a_long_run(',') >= 250, "and for every 4 KiB of separators");
	ok(word_hash("ÀÉÎÕÜĀŒŸ") == word_hash("àéîõüāœÿ") && word_hash("ΆΈΌΏ") == word_hash("άέόώ") &&
	   word_hash("ЀЯ") == word_hash("ѐя") && count_words("a×b÷c") == 3 && word_hash("aʼb") == word_hash("ab"),
	   "two-byte letters lower-cased, × and ÷ separate, ʼ is dropped");
}

static void
test_signatures(void)
{
	uint32_t	a[TD_MINHASH_SLOTS],
				b[TD_MINHASH_SLOTS];
	int64_t		ka[TD_MINHASH_BANDS],
				kb[TD_MINHASH_BANDS];
	td_minhash	m;
	bool		all_empty = true;
	int			equal = 0;

	td_minhash_text("The quick brown fox jumps over the lazy dog.", 44, a);
	td_minhash_text("the QUICK, brown fox -- jumps over the lazy dog!", 48, b);
	ok(memcmp(a, b, sizeof(a)) == 0, "case and punctuation do not change a signature");
	td_minhash_init(&m);
	td_minhash_add(&m, "The quick brown fox", 19);
	td_minhash_add(&m, "jumps over the lazy dog.", 24);
	td_minhash_finish(&m, b);
	ok(memcmp(a, b, sizeof(a)) == 0, "words run on across pieces");
	td_minhash_bands(a, ka);
	td_minhash_bands(b, kb);
	ok(memcmp(ka, kb, sizeof(ka)) == 0, "equal signatures, equal band keys");
	ok(ka[0] != ka[1], "the band number is mixed into the key");
	td_minhash_text("", 0, a);
	for (int i = 0; i < TD_MINHASH_SLOTS; i++)
		all_empty = all_empty && a[i] == TD_MINHASH_EMPTY;
	ok(all_empty, "no words: every slot empty");
	td_minhash_text("hi there", 8, a);
	td_minhash_text("hi there friend", 15, b);
	for (int i = 0; i < TD_MINHASH_SLOTS; i++)
		equal += a[i] == b[i];
	ok(a[0] != TD_MINHASH_EMPTY && equal < TD_MINHASH_SLOTS, "short texts have a signature of their own");
	ok(td_minhash_similarity(a, a, TD_MINHASH_SLOTS) == 1.0 && td_minhash_similarity(a, b, 0) == 1.0,
	   "similarity of equal signatures is 1");
}

/* --- near-duplicate evaluation ------------------------------------------- */

static char vocab[VOCABULARY][12];
static char texts[3 * TEXTS][MAX_WORDS * 12];

/* A text of n words drawn from the vocabulary. */
static void
random_text(char *out, int n)
{
	size_t		p = 0;

	for (int k = 0; k < n; k++)
		p += (size_t) sprintf(out + p, "%s%s%s", k ? " " : "", vocab[rnd(VOCABULARY)], rnd(12) == 0 ? "." : "");
}

/* A copy with about one word in 100 replaced (at least one). */
static void
near_copy(char *out, const char *in)
{
	size_t		p = 0;
	const char *s = in;
	int			k = 0,
				changed = 0;

	while (*s)
	{
		const char *e = strchr(s, ' ');
		size_t		len = e ? (size_t) (e - s) : strlen(s);

		if (rnd(100) == 0 || (!e && changed == 0))
		{
			p += (size_t) sprintf(out + p, "%s%s", k ? " " : "", vocab[rnd(VOCABULARY)]);
			changed++;
		}
		else
			p += (size_t) sprintf(out + p, "%s%.*s", k ? " " : "", (int) len, s);
		k++;
		s = e ? e + 1 : s + len;
	}
}

/* The sorted distinct 5-word shingle hashes of a text; returns their count. */
static int
shingles(const char *s, uint64_t *out)
{
	td_word_iter it;
	td_word		w;
	uint64_t	words[MAX_WORDS];
	int			n = 0,
				m = 0,
				d = 0;

	td_words_init(&it, s, strlen(s));
	while (n < MAX_WORDS && td_words_next(&it, &w))
		words[n++] = w.hash;
	for (int i = 0; i + TD_MINHASH_SHINGLE <= n; i++)
	{
		uint64_t	h = 0;

		for (int k = 0; k < TD_MINHASH_SHINGLE; k++)
			h = td_hash_combine(h, words[i + k]);
		out[m++] = h;
	}
	for (int i = 0; i < m; i++)	/* insertion sort: small sets */
		for (int j = i; j > 0 && out[j] < out[j - 1]; j--)
		{
			uint64_t	t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	for (int i = 0; i < m; i++)
		if (i == 0 || out[i] != out[i - 1])
			out[d++] = out[i];
	return d;
}

/* Exact Jaccard similarity of two texts' shingle sets. */
static double
jaccard(const char *a, const char *b)
{
	static uint64_t sa[MAX_WORDS],
				sb[MAX_WORDS];
	int			na = shingles(a, sa),
				nb = shingles(b, sb),
				i = 0,
				j = 0,
				both = 0;

	while (i < na && j < nb)
		if (sa[i] == sb[j])
			both++, i++, j++;
		else if (sa[i] < sb[j])
			i++;
		else
			j++;
	return na + nb - both ? (double) both / (na + nb - both) : 1.0;
}

/* Do two texts share a band key? */
static bool
candidates(const int64_t *a, const int64_t *b)
{
	for (int k = 0; k < TD_MINHASH_BANDS; k++)
		if (a[k] == b[k])
			return true;
	return false;
}

static void
evaluate(void)
{
	static uint32_t sig[3 * TEXTS][TD_MINHASH_SLOTS];
	static int64_t keys[3 * TEXTS][TD_MINHASH_BANDS];
	int			exact_found = 0,
				near_high = 0,
				near_high_found = 0,
				near_found = 0,
				false_pairs = 0,
				shingle_jaccard_equal = 0;
	long		distinct_pairs = 0;
	double		error = 0,
				min_j = 1;

	for (int v = 0; v < VOCABULARY; v++)	/* pseudo-words of 2 to 9 letters */
	{
		int			len = 2 + (int) rnd(8);

		for (int k = 0; k < len; k++)
			vocab[v][k] = (char) ('a' + rnd(26));
		vocab[v][len] = '\0';
	}
	for (int i = 0; i < TEXTS; i++)
	{
		random_text(texts[i], 100 + (int) rnd(500));	/* base */
		near_copy(texts[TEXTS + i], texts[i]);	/* near copy */
		strcpy(texts[2 * TEXTS + i], texts[i]);	/* exact copy */
	}
	for (int i = 0; i < 3 * TEXTS; i++)
	{
		td_minhash_text(texts[i], strlen(texts[i]), sig[i]);
		td_minhash_bands(sig[i], keys[i]);
	}
	for (int i = 0; i < TEXTS; i++)
	{
		double		j = jaccard(texts[i], texts[TEXTS + i]),
					est = td_minhash_similarity(sig[i], sig[TEXTS + i], TD_MINHASH_SLOTS);
		bool		found = candidates(keys[i], keys[TEXTS + i]);

		shingle_jaccard_equal += fabs(td_shingle_jaccard(texts[i], strlen(texts[i]), texts[TEXTS + i],
														 strlen(texts[TEXTS + i])) - j) < 1e-12;
		exact_found += candidates(keys[i], keys[2 * TEXTS + i]) &&
			td_minhash_similarity(sig[i], sig[2 * TEXTS + i], TD_MINHASH_SLOTS) == 1.0;
		near_found += found;
		error += fabs(est - j);
		min_j = j < min_j ? j : min_j;
		if (j >= 0.8)
		{
			near_high++;
			near_high_found += found;
		}
	}
	for (int i = 0; i < TEXTS; i++)
		for (int k = i + 1; k < TEXTS; k++)
		{
			distinct_pairs++;
			false_pairs += candidates(keys[i], keys[k]);
		}
	printf("# exact copies found: %d of %d\n", exact_found, TEXTS);
	printf("# near copies (1 word in 100 changed, Jaccard %.2f..1): %d of %d candidates; "
		   "at Jaccard >= 0.8: %d of %d (%.1f %%)\n", min_j, near_found, TEXTS, near_high_found, near_high,
		   100.0 * near_high_found / (near_high ? near_high : 1));
	printf("# mean |estimate - exact Jaccard| of near copies: %.3f\n", error / TEXTS);
	printf("# false pairs among %ld pairs of distinct texts: %d\n", distinct_pairs, false_pairs);
	ok(shingle_jaccard_equal == TEXTS, "td_shingle_jaccard is the exact Jaccard of every near copy");
	ok(exact_found == TEXTS, "every exact copy shares every band and has similarity 1");
	ok(near_high_found * 10 >= near_high * 9, "at least 90 % of near copies at Jaccard >= 0.8 are candidates");
	ok(error / TEXTS < 0.05, "the estimate is within 0.05 of the exact Jaccard on average");
	ok(false_pairs * 1000 <= distinct_pairs, "at most 0.1 % false pairs among distinct texts");
}

/* The exact Jaccard of the core on small texts, by hand. */
static void
test_shingle_jaccard(void)
{
	/* 6 words: 2 shingles each, 1 shared ("b c d e f") of 3 */
	ok(td_shingle_jaccard("a b c d e f", 11, "b c d e f g", 11) == 1.0 / 3.0, "one shared shingle of three");
	ok(td_shingle_jaccard("A, b. C d e!", 12, "a b c d e", 9) == 1.0, "normalised words: the same shingle");
	ok(td_shingle_jaccard("x y z", 5, "x y z", 5) == 1.0 && td_shingle_jaccard("x y", 3, "x y z", 5) == 0.0,
	   "a short text is one shingle of all its words");
	ok(td_shingle_jaccard("", 0, "...", 3) == 1.0 && td_shingle_jaccard("", 0, "a", 1) == 0.0,
	   "no words on either side: 1; on one side: 0");
	ok(td_shingle_jaccard("a b c d e a b c d e", 19, "a b c d e", 9) == 1.0 / 5.0,
	   "repeated shingles count once");
	{
		/* 3 M words of 6 shingles: made a set as they come, never 24 MB of hashes */
		size_t		len = 3000000 * 2;
		char	   *big = malloc(len);
		td_buf		set;
		size_t		n;
		bool		ascending = true;

		for (size_t i = 0; i < len; i += 2)
		{
			big[i] = (char) ('a' + (i / 2) % 6);
			big[i + 1] = ' ';
		}
		n = td_shingle_set(big, len, &set);
		for (size_t i = 1; i < n; i++)
			ascending = ascending && ((const uint64_t *) set.data)[i - 1] < ((const uint64_t *) set.data)[i];
		ok(n == 6 && ascending && set.cap <= 2 * (((size_t) 1 << 20) + 1) * sizeof(uint64_t),
		   "a long text of few shingles: its set, ascending, in bounded memory");
		td_buf_free(&set);
		free(big);
	}
}

int
main(void)
{
	test_shingle_jaccard();
	test_words();
	test_signatures();
	evaluate();
	return unit_done();
}
