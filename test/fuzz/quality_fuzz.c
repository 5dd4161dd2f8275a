/*
 * quality_fuzz.c — libFuzzer target for the quality scorer
 * (src/core/quality.c): any JSON input is scored, the metrics must be valid
 * JSON with an overall score between 0 and 10, and the score-only path must
 * give the same overall score.  The input's "expected" member (when it is an
 * object) is read as an expectation; the verdicts of quality_defects alone
 * must be those listed in the metrics.
 */
#include <stdint.h>
#include <stdlib.h>

#include "quality.h"
#include "quality_defects.h"
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
		td_quality_expect expect;
		td_error	experr;
		bool		have_expect;
		td_json    *metrics,
				   *codes;
		long		n;
		td_qturn   *t;
		td_defect_mask mask;

		td_error_init(&experr);
		have_expect = td_quality_expect_parse(td_json_get(turns, "expected"), &expect, &experr);
		td_error_free(&experr);
		td_buf_init(&out);
		td_quality_metrics_json_expect(turns, have_expect ? &expect : NULL, &out, &overall);
		metrics = td_json_parse(&arena, out.data, out.len, &err);
		if (overall < 0 || overall > 10 || metrics == NULL || td_quality_score(turns) != overall)
			abort();
		t = td_quality_json_turns(turns, &n);
		mask = td_quality_defects(t, n, turns->type == TD_JSON_ARRAY, have_expect ? &expect : NULL, NULL);
		td_free(t);
		codes = td_json_get(metrics, "defects");
		if (codes == NULL || codes->type != TD_JSON_ARRAY)
			abort();
		for (size_t i = 0; i < codes->count; i++)
			for (int d = 0; d < TD_DEFECT_COUNT; d++)
				if (td_json_string_is(codes->items[i], td_defect_code((td_defect) d)))
					mask &= ~((td_defect_mask) 1 << d);
		if (mask != 0 || (codes->count == 0) != td_json_string_is(td_json_get(metrics, "defectSeverity"), "none"))
			abort();
		td_buf_free(&out);
	}
	td_arena_free(&arena);
	return 0;
}
