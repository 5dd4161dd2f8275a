/*
 * quality_fuzz.c — libFuzzer target for the quality scorer
 * (src/core/quality.c): any JSON input is scored, the metrics must be valid
 * JSON with an overall score between 0 and 10, and the score-only path must
 * give the same overall score.
 */
#include <stdint.h>
#include <stdlib.h>

#include "quality.h"
#include "td_json.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	td_arena	arena;
	td_json_error err;
	td_json    *turns;
	td_buf		out;
	double		overall;

	td_arena_init(&arena);
	turns = td_json_parse(&arena, (const char *) data, size, &err);
	if (turns != NULL)
	{
		td_buf_init(&out);
		td_quality_metrics(turns, &out, &overall);
		if (overall < 0 || overall > 10 || td_json_parse(&arena, out.data, out.len, &err) == NULL ||
			td_quality_score(turns) != overall)
			abort();
		td_buf_free(&out);
	}
	td_arena_free(&arena);
	return 0;
}
