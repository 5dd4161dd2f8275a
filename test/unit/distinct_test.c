/*
 * distinct_test.c — unit tests of the bounded distinct counter and the
 * vocabulary diversity (src/core/distinct.c): exact up to the set's limit,
 * within 3 % (about 4 standard errors) beyond it on several seeds, memory
 * released, words and pairs counted as the SQL report documents them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distinct.h"
#include "td_words.h"
#include "unit.h"

static size_t live_allocations = 0;

static void *
counting_alloc(size_t size)
{
	live_allocations++;
	return malloc(size);
}

static void
counting_free(void *p)
{
	live_allocations--;
	free(p);
}

/* Count n distinct values (each added twice) drawn from seed; the estimate's relative error. */
static double
relative_error(uint64_t n, uint64_t seed, bool *estimated)
{
	td_distinct d;
	double		error;

	td_distinct_init(&d, counting_alloc, counting_free);
	for (uint64_t i = 0; i < n; i++)
	{
		td_distinct_add(&d, td_mix64(seed * 0x100000000ULL + i));
		td_distinct_add(&d, td_mix64(seed * 0x100000000ULL + i));
	}
	error = fabs(td_distinct_count(&d) - (double) n) / (double) n;
	*estimated = td_distinct_estimated(&d);
	td_distinct_free(&d);
	return error;
}

int
main(void)
{
	td_distinct d;
	td_diversity v;
	bool		estimated;
	double		worst = 0;
	const char *text = "The cat sat. the CAT sat on the mat";

	/* exact: empty, the hash 0, duplicates, up to the limit */
	td_distinct_init(&d, counting_alloc, counting_free);
	ok(td_distinct_count(&d) == 0 && !td_distinct_estimated(&d), "an empty counter counts 0, exactly");
	td_distinct_add(&d, 0);
	td_distinct_add(&d, 0);
	td_distinct_add(&d, 7);
	ok(td_distinct_count(&d) == 2, "the hash 0 counts once, like any other");
	td_distinct_free(&d);
	ok(relative_error(TD_DISTINCT_EXACT_MAX, 1, &estimated) == 0 && !estimated,
	   "65,536 distinct values are counted exactly");
	ok(live_allocations == 0, "the exact set is released");

	/* estimated beyond the limit, whatever the seed */
	for (uint64_t seed = 1; seed <= 5; seed++)
	{
		double		e = relative_error(1000000, seed, &estimated);

		if (e > worst)
			worst = e;
		ok(estimated, "1,000,000 distinct values are estimated");
	}
	printf("# worst relative error on 1,000,000 distinct values, 5 seeds: %.4f\n", worst);
	ok(worst < 0.03, "the estimate is within 3 % of 1,000,000");
	ok(relative_error(70000, 9, &estimated) < 0.03 && estimated, "just past the limit the estimate is within 3 %");
	ok(live_allocations == 0, "the registers are released");

	/* diversity: words as td_words cuts them, pairs within one text only */
	td_diversity_init(&v, counting_alloc, counting_free, NULL);
	td_diversity_add_text(&v, text, strlen(text));
	td_diversity_add_text(&v, "", 0);
	td_diversity_add_text(&v, "mat", 3);
	ok(v.words == 10, "10 words");
	ok(td_distinct_count(&v.distinct_words) == 5, "5 distinct words (case and punctuation ignored)");
	ok(v.pairs == 8, "8 pairs: 8 in the first text, none in a one-word text or across texts");
	ok(td_distinct_count(&v.distinct_pairs) == 6,
	   "6 distinct pairs (the cat, cat sat, sat the, sat on, on the, the mat)");
	td_diversity_free(&v);
	ok(live_allocations == 0, "the diversity counters are released");
	return unit_done();
}
