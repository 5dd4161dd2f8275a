/*
 * diversity_glue.c — the aggregate vocabulary_diversity(text): words,
 * distinct words and distinct consecutive word pairs of a corpus of texts,
 * in bounded memory (core/distinct.c: exact up to 65,536 distinct values,
 * then HyperLogLog).  dataset_report() uses it over the turns of an export.
 * Texts are read as the signatures read them (json_glue.h): in a database
 * of another encoding than UTF-8, converted (before, Cyrillic in WIN1251
 * counted no word at all: a review of 1.2).
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "distinct.h"
#include "json_glue.h"

PG_FUNCTION_INFO_V1(train_data_vocabulary_diversity_add);
PG_FUNCTION_INFO_V1(train_data_vocabulary_diversity_final);

/* The core's allocator: palloc in the current (the aggregate's) context. */
static void *
agg_alloc(size_t size)
{
	return palloc(size);
}

/* The core's release. */
static void
agg_free(void *p)
{
	pfree(p);
}

/* Called by the core every 65,536 words. */
static void
agg_tick(void)
{
	CHECK_FOR_INTERRUPTS();
}

/*
 * vocabulary_diversity_add(state internal, content text) returns internal —
 * the transition: the words of one more text (NULL texts are skipped).
 */
Datum
train_data_vocabulary_diversity_add(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	MemoryContext old;
	td_diversity *v;
	const char *u = NULL;
	size_t		n = 0;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vocabulary_diversity_add must be called as an aggregate's transition")));
	/*
	 * The text read and converted in the caller's memory, reset for each
	 * row (read in the aggregate's, a detoasted copy of each row stayed
	 * until the aggregate ended: 342 MB for 3,000 texts of 110 KB, a review
	 * of 1.2); only the core's tables live in the aggregate's.
	 */
	if (!PG_ARGISNULL(1))
	{
		text	   *content = PG_GETARG_TEXT_PP(1);

		n = VARSIZE_ANY_EXHDR(content);
		u = td_server_text_for_words(VARDATA_ANY(content), &n);
	}
	old = MemoryContextSwitchTo(aggcontext);
	if (PG_ARGISNULL(0))
	{
		v = palloc(sizeof(td_diversity));
		td_diversity_init(v, agg_alloc, agg_free, agg_tick);
	}
	else
		v = (td_diversity *) PG_GETARG_POINTER(0);
	if (u != NULL)
		td_diversity_add_text(v, u, n);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(v);
}

/* A ratio of distinct to all, rounded to 4 places, or null for none. */
static void
append_ratio(StringInfo out, const char *key, double distinct, uint64 all)
{
	if (all == 0)
		appendStringInfo(out, ", \"%s\": null", key);
	else
		appendStringInfo(out, ", \"%s\": %.4f", key, Min(distinct / (double) all, 1.0));
}

/*
 * vocabulary_diversity_final(state internal) returns jsonb — {words,
 * distinctWords, distinctWordRatio, pairs, distinctPairRatio, estimated}.
 */
Datum
train_data_vocabulary_diversity_final(PG_FUNCTION_ARGS)
{
	td_diversity empty;
	const td_diversity *v;
	StringInfoData out;
	double		words;
	double		pairs;

	if (PG_ARGISNULL(0))
	{
		td_diversity_init(&empty, agg_alloc, agg_free, NULL);
		v = &empty;
	}
	else
		v = (const td_diversity *) PG_GETARG_POINTER(0);
	words = td_distinct_count(&v->distinct_words);
	pairs = td_distinct_count(&v->distinct_pairs);
	initStringInfo(&out);
	appendStringInfo(&out, "{\"words\": " UINT64_FORMAT ", \"distinctWords\": %.0f", v->words, words);
	append_ratio(&out, "distinctWordRatio", words, v->words);
	appendStringInfo(&out, ", \"pairs\": " UINT64_FORMAT, v->pairs);
	append_ratio(&out, "distinctPairRatio", pairs, v->pairs);
	appendStringInfo(&out, ", \"estimated\": %s}",
					 td_distinct_estimated(&v->distinct_words) || td_distinct_estimated(&v->distinct_pairs)
					 ? "true" : "false");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
