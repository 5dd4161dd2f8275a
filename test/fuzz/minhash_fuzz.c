/*
 * minhash_fuzz.c — libFuzzer target for the word normaliser and the MinHash
 * signatures (src/core/td_words.c, src/core/minhash.c): any bytes are a
 * text; its words read in batches (the tokenizer's chunk path) must be the
 * words read one at a time, its signature must equal the one built from
 * two pieces split at a space, its similarity to itself must be 1, and
 * band keys are computed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "minhash.h"
#include "td_words.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t	a[TD_MINHASH_SLOTS],
				b[TD_MINHASH_SLOTS];
	int64_t		keys[TD_MINHASH_BANDS];
	const char *s = (const char *) data;
	const char *space = memchr(s, ' ', size);
	td_minhash	m;
	td_word_iter one,
				batch;
	td_word		w,
				got[TD_WORD_BATCH];
	size_t		n;

	td_words_init(&one, s, size);
	td_words_init(&batch, s, size);
	while ((n = td_words_fill(&batch, got, size % 2 ? TD_WORD_BATCH : 3)) > 0)
		for (size_t i = 0; i < n; i++)
			if (!td_words_next(&one, &w) || w.hash != got[i].hash || w.begin != got[i].begin ||
				w.end != got[i].end || w.chars != got[i].chars)
				abort();
	if (td_words_next(&one, &w))
		abort();
	td_minhash_text(s, size, a);
	td_minhash_bands(a, keys);
	if (td_minhash_similarity(a, a, TD_MINHASH_SLOTS) != 1.0)
		abort();
	if (space)					/* a split at a space does not change the words */
	{
		size_t		cut = (size_t) (space - s);

		td_minhash_init(&m);
		td_minhash_add(&m, s, cut);
		td_minhash_add(&m, s + cut, size - cut);
		td_minhash_finish(&m, b);
		if (memcmp(a, b, sizeof(a)) != 0)
			abort();
	}
	return 0;
}
