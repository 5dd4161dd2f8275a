/*
 * validate_fuzz.c — libFuzzer target for the training-line checks
 * (src/core/validate.c): td_validate_line with and without its facts.
 *
 * The errors must not depend on whether the facts are asked for; a line
 * has facts exactly when it has a non-empty messages array (no error of
 * the line's shape); its estimated tokens are at least the 3 of the reply
 * and 3 a message, and at most what its bytes can hold.
 */
#include <stdint.h>
#include <stdlib.h>

#include "validate.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *) data;
	td_line_facts facts;
	unsigned	errors = td_validate_line(line, size, &facts);
	unsigned	shape = TD_LINE_NOT_JSON | TD_LINE_DATA_TYPE | TD_LINE_MISSING_MESSAGES;

	if (td_validate_line(line, size, NULL) != errors)
		abort();
	if (facts.messages != ((errors & shape) == 0))
		abort();
	if (!facts.messages && (facts.system || facts.user || facts.tokens != 0))
		abort();
	/* (a message takes 2 bytes at least, "{}" or "1,"; each token of text 1) */
	if (facts.messages && (facts.tokens < 6 || facts.tokens > 3 + 3 * (long long) size))
		abort();
	return 0;
}
