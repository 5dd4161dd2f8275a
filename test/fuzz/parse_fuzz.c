/*
 * parse_fuzz.c — libFuzzer target for the response parser and the JSON
 * reader (src/core/parse_response.c, src/core/td_json.c).
 *
 * The input is parsed as a JSON response; when it is not JSON but valid
 * UTF-8 it is given to the parser as a text response.  A successful parse
 * must produce valid JSON with at least two turns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse_response.h"
#include "td_json.h"
#include "td_utf8.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	td_arena	arena;
	td_json_error jerr;
	td_parse_error err;
	td_buf		out;
	const char *s = (const char *) data;
	td_json    *response;

	td_arena_init(&arena);
	response = td_json_parse(&arena, s, size, &jerr);
	if (response == NULL)
	{
		if (!td_utf8_valid(s, size) || memchr(s, 0, size) != NULL)
		{
			td_arena_free(&arena);
			return 0;
		}
		response = td_arena_alloc(&arena, sizeof(td_json));
		response->type = TD_JSON_STRING;
		response->str = s;
		response->len = size;
	}
	td_buf_init(&out);
	if (td_parse_response(response, NULL, &out, &err))
	{
		td_json    *result = td_json_parse(&arena, out.data, out.len, &jerr);
		td_json    *turns = td_json_get(result, "turns");

		if (result == NULL || turns == NULL || turns->count < 2)
			abort();
	}
	td_error_free(&err);
	td_buf_free(&out);
	td_arena_free(&arena);
	return 0;
}
