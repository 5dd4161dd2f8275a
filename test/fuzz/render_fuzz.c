/*
 * render_fuzz.c — libFuzzer target for the template renderer and the JSON
 * reader (src/core/render.c, src/core/td_json.c).
 *
 * Input: one flag byte (bit 0: HTML escaping), then template, parameters and
 * variables separated by NUL bytes.  Parameters and variables that are not
 * valid JSON are passed as absent.  The target checks that rendering never
 * crashes and that its output is valid JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "td_json.h"
#include "td_utf8.h"

/* Next NUL-separated field of data[*pos..size). */
static const char *
field(const uint8_t *data, size_t size, size_t *pos, size_t *len)
{
	const uint8_t *start = data + *pos;
	const uint8_t *nul = *pos < size ? memchr(start, 0, size - *pos) : NULL;

	*len = nul ? (size_t) (nul - start) : size - *pos;
	*pos += *len + (nul ? 1 : 0);
	return (const char *) start;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	td_arena	arena;
	td_json_error jerr;
	td_render_error err;
	td_buf		out;
	size_t		pos = 1,
				tlen,
				plen,
				vlen;
	const char *tmpl,
			   *ptext,
			   *vtext;
	td_json    *params,
			   *vars;
	bool		html;

	if (size == 0)
		return 0;
	html = data[0] & 1;
	tmpl = field(data, size, &pos, &tlen);
	ptext = field(data, size, &pos, &plen);
	vtext = field(data, size, &pos, &vlen);

	td_arena_init(&arena);
	params = td_json_parse(&arena, ptext, plen, &jerr);
	vars = td_json_parse(&arena, vtext, vlen, &jerr);
	td_buf_init(&out);
	if (td_render(tmpl, tlen, params, vars, html, &out, &err))
	{
		td_arena	check;

		/* the result must be valid JSON whenever the template is valid UTF-8 */
		td_arena_init(&check);
		if (td_utf8_valid(tmpl, tlen) && td_json_parse(&check, out.data, out.len, &jerr) == NULL)
			abort();
		td_arena_free(&check);
	}
	td_error_free(&err);
	(void) td_render_check_template(tmpl, tlen, vars, &err);
	td_error_free(&err);
	td_buf_free(&out);
	td_arena_free(&arena);
	return 0;
}
