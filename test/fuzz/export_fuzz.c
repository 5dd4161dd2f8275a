/*
 * export_fuzz.c — libFuzzer target for the training-file line writer
 * (src/core/export.c): the input, split at NUL bytes, is a conversation's
 * turns (and, reused, its title and persona); when it is valid UTF-8 the
 * line in every shape must parse as JSON, hold no raw line break, and give
 * back every turn's content byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "td_json.h"
#include "td_utf8.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Check one shape's line. */
static void
check(const td_export_conversation *c, td_export_shape shape)
{
	td_export_options o = td_export_defaults();
	td_arena	arena;
	td_json_error err;
	td_buf		out;
	const td_json *v,
			   *list;

	o.shape = shape;
	o.include_approval_history = o.include_parent_references = true;
	o.last_turn_only = shape == TD_SHAPE_OPENAI;
	td_buf_init(&out);
	td_export_line(c, &o, &out);
	td_arena_init(&arena);
	v = td_json_parse(&arena, out.data, out.len, &err);
	if (v == NULL || memchr(out.data, '\n', out.len) != NULL)
		abort();
	list = td_json_get(v, shape == TD_SHAPE_SHAREGPT ? "conversations" : "messages");
	if (list == NULL || list->type != TD_JSON_ARRAY || (long) list->count != c->nturns)
		abort();
	for (long i = 0; i < c->nturns; i++)
	{
		const td_json *content = td_json_get(list->items[i], shape == TD_SHAPE_SHAREGPT ? "value" : "content");

		if (content == NULL || content->len != c->turns[i].content.len ||
			memcmp(content->str, c->turns[i].content.s, content->len) != 0)
			abort();
	}
	td_arena_free(&arena);
	td_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	td_export_turn turns[64];
	td_export_conversation c;
	const char *s = (const char *) data;
	size_t		start = 0;
	long		n = 0;

	for (size_t i = 0; i <= size && n < 64; i++)
		if (i == size || s[i] == '\0')
		{
			turns[n].role = n % 2 ? (td_text) {"assistant", 9} : (td_text) {"user", 4};
			turns[n].content = (td_text) {s + start, i - start};
			if (!td_utf8_valid(s + start, i - start))
				return 0;		/* the database never holds invalid text */
			n++;
			start = i + 1;
		}
	memset(&c, 0, sizeof(c));
	c.conversation_id = c.title = c.persona = turns[0].content;
	c.tier = (td_text) {"template", 8};
	c.turns = turns;
	c.nturns = n;
	check(&c, TD_SHAPE_ORIGINAL);
	check(&c, TD_SHAPE_OPENAI);
	check(&c, TD_SHAPE_SHAREGPT);
	return 0;
}
