/*
 * quality_test.c — unit tests of the quality scorer (src/core/quality.c):
 * the original's test vectors and worked example, and hand-computed cases.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "quality.h"
#include "unit.h"

/* Score a JSON text; the metrics object and the overall score. */
static const char *
metrics(const char *turns_json, double *overall)
{
	static char result[16384];
	td_arena	arena;
	td_json_error err;
	td_json    *turns;
	td_buf		out;

	td_arena_init(&arena);
	turns = td_json_parse(&arena, turns_json, strlen(turns_json), &err);
	td_buf_init(&out);
	td_quality_metrics(turns, &out, overall);
	snprintf(result, sizeof(result), "%s", out.data);
	td_buf_free(&out);
	td_arena_free(&arena);
	return result;
}

/* Calls of the interrupt handler (the checks a cancel can land in). */
static long interrupts = 0;

/* The counting interrupt handler. */
static void
count_interrupt(void)
{
	interrupts++;
}

/*
 * Interrupt checks while scoring 32 turns of 200 kB of the same letter,
 * each ended by a letter of its own; equal_length: all 200 kB long (every
 * pair compared to its end), else each a byte longer than the one before
 * (no pair compared past its length).
 */
static long
checks_scoring_long_turns(bool equal_length)
{
	const size_t len = 200 * 1024;
	td_arena	arena;
	td_json_error err;
	td_buf		json;
	td_json    *turns;

	td_buf_init(&json);
	td_buf_putc(&json, '[');
	for (int i = 0; i < 32; i++)
	{
		td_buf_puts(&json, i ? ",{\"role\":\"" : "{\"role\":\"");
		td_buf_puts(&json, i % 2 ? "assistant" : "user");
		td_buf_puts(&json, "\",\"content\":\"");
		for (size_t k = 0; k < len + (equal_length ? 0 : (size_t) i); k++)
			td_buf_putc(&json, 'a');
		td_buf_putc(&json, (char) (i < 26 ? 'A' + i : '0' + i - 26));
		td_buf_puts(&json, "\"}");
	}
	td_buf_putc(&json, ']');
	td_arena_init(&arena);
	turns = td_json_parse(&arena, json.data, json.len, &err);
	interrupts = 0;
	td_interrupt_handler = count_interrupt;
	(void) td_quality_score(turns);
	td_interrupt_handler = NULL;
	td_arena_free(&arena);
	td_buf_free(&json);
	return interrupts;
}

/* n alternating turns of len characters, with optional first/last words. */
static const char *
conversation(int n, int len, const char *first, const char *last)
{
	static char json[65536];
	size_t		p = 0;

	p += snprintf(json + p, sizeof(json) - p, "[");
	for (int i = 0; i < n; i++)
	{
		char		content[2048];
		int			c = snprintf(content, sizeof(content), "%s turn %d %s", i == 0 && first ? first : "Turn",
								 i, i == n - 1 && last ? last : "text");

		for (; c < len; c++)
			content[c] = (char) ('a' + (i + c) % 26);
		content[len] = '\0';
		p += snprintf(json + p, sizeof(json) - p, "%s{\"role\":\"%s\",\"content\":\"%s\"}",
					  i ? "," : "", i % 2 ? "assistant" : "user", content);
	}
	snprintf(json + p, sizeof(json) - p, "]");
	return json;
}

/* Does the text contain the fragment? */
static void
has(const char *got, const char *fragment, const char *desc)
{
	ok(strstr(got, fragment) != NULL, desc);
	if (strstr(got, fragment) == NULL)
		printf("#   wanted %s in %.400s\n", fragment, got);
}

int
main(void)
{
	static const struct
	{
		double		s[4];
		double		overall;
	}			vectors[] = {
		{{10, 10, 10, 10}, 10.0},
		{{4, 7, 10, 10}, 7.5},
		{{7, 7, 10, 10}, 8.4},
		{{2, 2, 0, 0}, 1.1},
		{{10, 10, 7, 8}, 8.8},
		{{7, 4, 5, 10}, 6.1},
	};
	double		o;
	const char *m;

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
	{
		td_quality_scores s = {vectors[i].s[0], vectors[i].s[1], vectors[i].s[2], vectors[i].s[3]};
		char		desc[512];

		snprintf(desc, sizeof(desc), "test vector (%g,%g,%g,%g) -> %.1f",
				 s.turn_count, s.response_length, s.structure, s.coherence, vectors[i].overall);
		ok(fabs(td_quality_overall(&s) - vectors[i].overall) < 1e-9, desc);
	}

	/* the worked example: 10 alternating turns of 200 characters, hello ... thanks */
	m = metrics(conversation(10, 200, "Hello", "thanks"), &o);
	ok(o == 10.0, "worked example scores 10.0");
	has(m, "\"confidence\":\"high\"", "worked example: confidence high");
	has(m, "\"trainingValue\":\"high\"", "worked example: training value high");
	has(m, "\"issues\":[]", "worked example: no issues");
	has(m, "\"accuracy\":10,\"coherence\":10,\"relevance\":10", "worked example: every component 10");
	has(m, "\"methodology\":10,\"naturalness\":10", "worked example: every component 10 (2)");

	/* 4 turns of 60 characters: turns 4 (issue), length 7, structure 10, coherence 10 */
	m = metrics(conversation(4, 60, "Hi", NULL), &o);
	ok(fabs(o - 7.5) < 1e-9, "4 turns of 60 characters: 1.2 + 1.75 + 3 + 1.5 = 7.45, rounds to 7.5");
	has(m, "Too few turns: 8 to 16 is optimal", "too few turns is an issue");

	/* wrong first role and a duplicate */
	m = metrics("[{\"role\":\"assistant\",\"content\":\"Hello there, how can I help you today?\"},"
				"{\"role\":\"assistant\",\"content\":\"Hello there, how can I help you today?\"}]", &o);
	has(m, "\"structure\":{\"score\":7", "wrong first role costs 3");
	has(m, "\"coherence\":{\"score\":9", "one duplicate costs 1");
	has(m, "Some turns repeat each other", "duplicate suggestion");
	has(m, "\"repeatedTurns\":1", "duplicate signal");

	/* empty input, not an array */
	m = metrics("[]", &o);
	/* turns 2 (0.6) + length 0 + structure 10 - 5 (1.5) + coherence 0 = 2.1 */
	ok(fabs(o - 2.1) < 1e-9, "no turns scores 2.1");
	m = metrics("{\"turns\":1}", &o);
	has(m, "Turns are not an array", "not an array is an issue");

	/* signals do not change the overall score */
	m = metrics("[{\"role\":\"user\",\"content\":\"Hello {{name}}, as an AI I cannot help\"},"
				"{\"role\":\"assistant\",\"content\":\"Sure thing and then we cut off mid\"}]", &o);
	has(m, "\"unresolvedPlaceholders\":1", "placeholder signal");
	has(m, "\"refusalTurns\":1", "refusal signal");
	has(m, "\"truncatedLastTurn\":true", "truncated last turn signal");

	/*
	 * Repeated 4-word n-grams, counted once each, case-insensitive, never
	 * across turns.  Turn 1 has "the cat sat on", "cat sat on the", "sat on
	 * the mat"; turn 2 has those three again and "on the mat today": 3.
	 */
	m = metrics("[{\"role\":\"user\",\"content\":\"the cat sat on the mat\"},"
				"{\"role\":\"assistant\",\"content\":\"The  Cat sat\\non the mat today\"}]", &o);
	has(m, "\"repeatedNgrams\":3", "three n-grams repeated across turns, counted once each");
	m = metrics("[{\"role\":\"user\",\"content\":\"the cat sat on the cat sat on the cat sat on\"}]", &o);
	/* grams: tcso csot sotc otcs tcso csot sotc otcs tcso: 4 distinct, all repeated */
	has(m, "\"repeatedNgrams\":4", "repetition inside one turn");
	/* joined, the turns would repeat "x a b c" and "a b c d" */
	m = metrics("[{\"role\":\"user\",\"content\":\"x a b\"},{\"role\":\"assistant\",\"content\":\"c d\"},"
				"{\"role\":\"user\",\"content\":\"x a b\"},{\"role\":\"assistant\",\"content\":\"c d\"}]", &o);
	has(m, "\"repeatedNgrams\":0", "n-grams never span two turns");
	m = metrics("[]", &o);
	has(m, "\"repeatedNgrams\":0", "no turns, no n-grams");

	/* characters, not bytes: 100 two-byte characters per turn is optimal length */
	{
		static char json[8192];
		char		c100[256];
		size_t		p = 0;

		for (int i = 0; i < 100; i++)
			memcpy(c100 + 2 * i, "\xc3\xa9", 2);
		c100[200] = '\0';
		p += snprintf(json + p, sizeof(json) - p, "[");
		for (int i = 0; i < 8; i++)
			p += snprintf(json + p, sizeof(json) - p, "%s{\"role\":\"%s\",\"content\":\"%d%s\"}", i ? "," : "",
						  i % 2 ? "assistant" : "user", i, c100);
		snprintf(json + p, sizeof(json) - p, "]");
		m = metrics(json, &o);
		has(m, "\"responseLength\":{\"score\":10", "length counts characters");
	}
	{
		/*
		 * A greeting at every offset from 0 to 47 (the search goes 16 bytes,
		 * then 8, at a time): found after white space or punctuation, not
		 * after a letter, digit or '_' that makes it part of a longer word.
		 */
		int			right = 0;

		for (int k = 0; k < 48; k++)
			for (int kind = 0; kind < 3; kind++)
			{
				char		json[512],
							lead[64];
				bool		missing;

				memset(lead, kind == 0 ? ' ' : kind == 1 ? 'x' : '_', (size_t) k);
				if (kind == 1 && k > 0)
					lead[0] = ',';	/* punctuation then letters: still part of the word "xx..hello" */
				lead[k] = '\0';
				snprintf(json, sizeof(json), "[{\"role\":\"user\",\"content\":\"%sHello there\"},"
						 "{\"role\":\"assistant\",\"content\":\"Hi\"}]", lead);
				missing = strstr(metrics(json, &o), "The first turn has no greeting") != NULL;
				right += missing == (kind != 0 && k > (kind == 1 ? 1 : 0));
			}
		ok(right == 48 * 3, "a greeting at offsets 0 to 47: found as a whole word only");
	}
	{
		/*
		 * Comparing turns for repeats checks for interrupts as it goes:
		 * 496 pairs of 200 kB turns alike to their last byte are about 100 MB
		 * compared, 24 checks (a tick each 4,096 bytes) more than turns of
		 * other lengths; at least 20 asserted (one tick a comparison left
		 * seconds between two checks: a review of 1.2).
		 */
		long		compared = checks_scoring_long_turns(true),
					not_compared = checks_scoring_long_turns(false);

		ok(compared - not_compared >= 20, "comparing long turns for repeats checks for interrupts as it goes");
	}
	return unit_done();
}
