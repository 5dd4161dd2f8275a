/*
 * vocabulary_test.c — the kept hash-count table (td_hcount.c) and the
 * scorer's vocabulary (quality_vocabulary.c): counts across growth, resets
 * and trims; the vocabulary counted alongside the detectors' words equals
 * the vocabulary counted alone, on texts where the two word readings
 * differ (punctuation, apostrophes, non-ASCII letters, tabs, long words).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quality.h"
#include "quality_defects.h"
#include "quality_vocabulary.h"
#include "td_hcount.h"
#include "unit.h"

/* Counts of 10,000 keys added 1..3 times, across several growths. */
static void
test_hcount(void)
{
	static td_hcount t;
	bool		right = true;

	td_hcount_reset(&t, 0);
	for (uint64_t k = 1; k <= 10000; k++)
		for (uint64_t c = 0; c <= k % 3; c++)
			(void) td_hcount_add(&t, k * 0x9e3779b97f4a7c15ULL);
	for (uint64_t k = 1; k <= 10000; k++)
		right = right && td_hcount_get(&t, k * 0x9e3779b97f4a7c15ULL) == k % 3 + 1;
	ok(right, "every key counted through the growths");
	ok(t.used == 10000 && t.cap >= 2 * 10000, "half full at most");
	ok(td_hcount_get(&t, 12345) == 0, "an absent key counts 0");

	td_hcount_reset(&t, 10);
	ok(t.cap == 64 && t.allocated > t.cap, "a reset uses a small part of the memory kept");
	ok(td_hcount_get(&t, 0x9e3779b97f4a7c15ULL) == 0, "a reset forgets every key");
	ok(td_hcount_add(&t, 7) == 1 && td_hcount_add(&t, 7) == 2, "counting again after a reset");

	for (int i = 0; i < 70000; i++)	/* many generations in a row */
		td_hcount_reset(&t, 1);
	ok(td_hcount_get(&t, 7) == 0 && td_hcount_add(&t, 0) == 1, "many resets: still empty, key 0 counted");

	t.cur = UINT32_MAX;			/* the generation wraps: everything cleared */
	(void) td_hcount_add(&t, 5);
	td_hcount_reset(&t, 1);
	ok(t.cur == 1 && td_hcount_get(&t, 5) == 0, "a wrapped generation clears the slots");

	td_hcount_trim(&t, 1 << 20);
	ok(t.slot != NULL, "a small table is kept");
	td_hcount_trim(&t, 16);
	ok(t.slot == NULL && t.cap == 0 && td_hcount_add(&t, 3) == 1, "a large one is released, then grows again");
	td_hcount_free(&t);
}

typedef struct fused
{
	td_vocabulary v;
} fused;

/* td_turn_words_fn: into the vocabulary. */
static void
into_vocabulary(void *arg, const char *text, size_t len, const td_turn_words *words)
{
	td_vocabulary_turn(&((fused *) arg)->v, text, len, words);
}

/* The vocabulary of turns counted alone and alongside the detectors: the same. */
static bool
same_both_ways(const char *const *texts, long n, td_vocabulary *alone)
{
	td_qturn	turns[16];
	fused		f;
	long		signal = 0;
	td_defect_report *r;

	for (long i = 0; i < n; i++)
		turns[i] = (td_qturn) {.role = i % 2 ? "assistant" : "user", .role_len = i % 2 ? 9 : 4, .content = texts[i],
			.len = strlen(texts[i])};
	td_vocabulary_count(turns, n, alone);
	td_vocabulary_begin(&f.v, 0);
	r = td_defect_report_make_with(turns, n, true, NULL, false, &signal, into_vocabulary, &f);
	td_vocabulary_end(&f.v);
	td_defect_report_free(r);
	return f.v.total_long == alone->total_long && f.v.distinct_long == alone->distinct_long &&
		f.v.repeated_ngrams == alone->repeated_ngrams;
}

static void
test_vocabulary(void)
{
	static const char *const plain[] = {"Hello there, how are you doing today my friend",
	"Hello there how are you doing today my friend"};
	static const char *const mixed[] = {
		"Don't say don't; DONT say dont. The résumé Résumé RÉSUMÉ café, naïve\tword",
		"   \t  ",
		"averyveryverylongwordthatspansmanyblocks averyveryverylongwordthatspansmanyblocks x",
		"Деньги деньги ДЕНЬГИ бюджет; 漢字かな交じり文 emoji 🙂🙂 ok",
		"it's its it`s ITS it’s 'quoted' \"dq\" a-b a_b a.b 1,000 1000",
		"same four words here same four words here same four words here",
		"",
		"\xe2\x80\x8b zero\xe2\x80\x8bwidth space word"};
	td_vocabulary v;

	ok(same_both_ways(plain, 2, &v), "plain turns: the same counts both ways");
	ok(v.total_long == 10 && v.distinct_long == 6, "plain: 10 long words, 6 distinct (\"there,\" is not \"there\")");
	ok(v.repeated_ngrams == 4, "plain: the 4 runs of 4 words both turns have (each within one turn)");
	ok(same_both_ways(mixed, 8, &v), "punctuation, apostrophes, accents, Cyrillic, ideographs, invisible spaces: the same both ways");
	ok(v.repeated_ngrams == 4, "the four 4-grams of \"same four words here\" repeated in one turn");

	{
		/* invalid UTF-8 (the core's input is not checked): 16 bytes or more are a long word, as in 1.1 */
		static const char *const invalid[] = {"aaaa aaaa \x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80 "
		"\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf\xbf"};

		ok(same_both_ways(invalid, 1, &v) && v.total_long == 3 && v.distinct_long == 2,
		   "16 continuation bytes are a long word, 15 are not");
	}
}

/* The next state of a xorshift64 generator. */
static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* A white-space word of a turn, for the naive count. */
typedef struct nword
{
	const char *s;
	size_t		len;
} nword;

/* Two words equal, ASCII letters' case ignored. */
static bool
nword_eq(nword a, nword b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
	{
		unsigned char x = (unsigned char) a.s[i],
					y = (unsigned char) b.s[i];

		if ((x >= 'A' && x <= 'Z' ? x + 32 : x) != (y >= 'A' && y <= 'Z' ? y + 32 : y))
			return false;
	}
	return true;
}

/*
 * The counts by their definitions, every pair compared (no hash): long
 * words (more than 3 characters, or 16 bytes) and the distinct ones, and
 * the distinct runs of 4 words within a turn that occur twice or more.
 * Equal to v's?
 */
static bool
same_as_naive(const char *const *texts, long n, const td_vocabulary *v)
{
	static nword w[2048];
	static long turn_of[2048];
	size_t		nw = 0,
				total_long = 0,
				distinct_long = 0;
	long		repeated = 0;

	for (long t = 0; t < n; t++)
		for (const char *p = texts[t]; *p;)
		{
			const char *b;

			while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
				p++;
			if (!*p)
				break;
			for (b = p; *p && !(*p == ' ' || (*p >= '\t' && *p <= '\r')); p++)
				;
			w[nw] = (nword) {b, (size_t) (p - b)};
			turn_of[nw++] = t;
		}
	for (size_t i = 0; i < nw; i++)
	{
		size_t		chars = 0;
		bool		seen = false;

		for (size_t k = 0; k < w[i].len; k++)
			chars += ((unsigned char) w[i].s[k] & 0xC0) != 0x80;
		if (!(chars > 3 || w[i].len >= 16))
			continue;
		total_long++;
		for (size_t j = 0; j < i && !seen; j++)
		{
			size_t		cj = 0;

			for (size_t k = 0; k < w[j].len; k++)
				cj += ((unsigned char) w[j].s[k] & 0xC0) != 0x80;
			seen = (cj > 3 || w[j].len >= 16) && nword_eq(w[i], w[j]);
		}
		distinct_long += !seen;
	}
	for (size_t i = 3; i < nw; i++)	/* the 4-gram ending at word i, when its words are of one turn */
	{
		long		count = 0;
		bool		earlier = false;

		if (turn_of[i - 3] != turn_of[i])
			continue;
		for (size_t j = 3; j < nw; j++)
		{
			bool		eq = turn_of[j - 3] == turn_of[j];

			for (int k = 0; k < 4 && eq; k++)
				eq = nword_eq(w[i - k], w[j - k]);
			count += eq;
			earlier = earlier || (eq && j < i);
		}
		repeated += count >= 2 && !earlier;	/* each distinct 4-gram once: at its first place */
	}
	return v->total_long == total_long && v->distinct_long == distinct_long && v->repeated_ngrams == repeated;
}

/*
 * Random turns from pieces where the two readings agree and differ (words
 * of letters and digits, punctuation on either side, apostrophes, accents,
 * Cyrillic, one or more spaces, tabs, line breaks, white space at either
 * end): 20,000 conversations, the same counts both ways.
 */
static void
test_vocabulary_random(void)
{
	static const char *const pieces[] = {
		"alpha", "Alpha", "ALPHA", "beta", "gamma42", "x", "a1", "delta", "epsilon", "omega",
		"alpha.", "(beta", "gamma42,", "don't", "dont", "it's", "café", "cafe", "Деньги", "деньги",
		"a-b", "1,000", "...", "\xe2\x80\x99", " ", " ", " ", " ", "  ", "\t", "\n", "\n\n", "\r\n", "!",
		"loop loop loop loop loop loop", "Loop LOOP loop loop loop", "ab ab ab ab ab ab ab"};
	static char texts[4][800];
	const char *ptr[4];
	uint64_t	rng = 0x243f6a8885a308d3ULL;
	td_vocabulary v;
	long		bad = 0,
				runs = 0,
				naive_bad = 0;

	for (int c = 0; c < 20000; c++)
	{
		long		n = 1 + c % 4;

		for (long i = 0; i < n; i++)
		{
			size_t		len = 0;
			int			npieces = (int) (xorshift(&rng) % 40);

			for (int k = 0; k < npieces; k++)
			{
				const char *piece;

				(void) xorshift(&rng);
				/* half the time a word then one space: the usual shape */
				piece = rng % 2 ? pieces[(rng >> 8) % 10] : pieces[(rng >> 8) % (sizeof(pieces) / sizeof(pieces[0]))];
				if (len + strlen(piece) + 1 >= sizeof(texts[i]) / 2)
					break;
				memcpy(texts[i] + len, piece, strlen(piece));
				len += strlen(piece);
				if (rng % 2 && (rng >> 20) % 4 != 0)
					texts[i][len++] = ' ';
			}
			if (c % 3 == 0 && 2 * len + 1 < sizeof(texts[i]))	/* a turn that says it twice */
			{
				texts[i][len] = ' ';
				memcpy(texts[i] + len + 1, texts[i], len);
				len = 2 * len + 1;
			}
			texts[i][len] = '\0';
			ptr[i] = texts[i];
		}
		bad += !same_both_ways(ptr, n, &v);
		runs += v.repeated_ngrams > 0;
		if (c % 10 == 0)
			naive_bad += !same_as_naive(ptr, n, &v);
	}
	printf("# %ld of 20,000 differ; %ld have repeated 4-grams; %ld of 2,000 differ from the naive count\n", bad, runs,
		   naive_bad);
	ok(bad == 0, "20,000 random conversations: the same counts both ways");
	ok(runs > 1000, "and more than 1,000 of them have repeated 4-grams");
	ok(naive_bad == 0, "2,000 of them: the counts of a naive count (every pair of words and 4-grams compared)");
}

int
main(void)
{
	test_hcount();
	test_vocabulary();
	test_vocabulary_random();
	return unit_done();
}
