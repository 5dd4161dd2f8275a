/*
 * export_fuzz.c — libFuzzer target for the training-file line writer
 * (src/core/export.c, export_document.c): the input, split at NUL bytes, is
 * a conversation's turns (and, reused, its title, persona and metadata);
 * when it is valid UTF-8 the line in every JSONL shape must parse as JSON,
 * hold no raw line break, and give back every turn's content byte for byte;
 * so must the JSON document's record (its "turns"); the CSV and Markdown
 * records are written under the sanitizers.  No CSV field starts like a
 * spreadsheet formula, user text adds no line to a Markdown record's start,
 * and under a small limit a record the writer has not refused is within
 * it, and a refused one grows no more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "td_json.h"
#include "td_utf8.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Check one shape's line (format JSONL) or the JSON document's record. */
static void
check(const td_export_conversation *c, td_export_format format, td_export_shape shape)
{
	td_export_options o = td_export_defaults();
	bool		document = format == TD_FORMAT_JSON;
	td_arena	arena;
	td_json_error err;
	td_buf		out;
	const td_json *v,
			   *list;

	o.format = format;
	o.shape = shape;
	o.include_approval_history = o.include_parent_references = true;
	o.last_turn_only = shape == TD_SHAPE_OPENAI;
	td_buf_init(&out);
	td_export_line(c, &o, &out);
	td_arena_init(&arena);
	v = td_json_parse(&arena, out.data, out.len, &err);
	if (v == NULL || (!document && memchr(out.data, '\n', out.len) != NULL))
		abort();
	list = td_json_get(v, document ? "turns" : shape == TD_SHAPE_SHAREGPT ? "conversations" : "messages");
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

/*
 * Write the document of c in format into out: the header, c's record on a
 * line of its own, the footer.
 */
static void
write_document(const td_export_conversation *c, td_export_format format, td_buf *out)
{
	td_export_options o = td_export_defaults();
	td_export_writer w;

	o.format = format;
	o.include_parent_references = true;
	td_export_writer_init(&w, &o);
	td_buf_init(out);
	td_export_header(&w, 1, out);
	td_buf_putc(out, '\n');
	td_export_record(&w, c, out);
	td_export_footer(&w, out);
}

/* Write a document of c, for the sanitizers only. */
static void
write_only(const td_export_conversation *c, td_export_format format)
{
	td_buf		out;

	write_document(c, format, &out);
	td_buf_free(&out);
}

/*
 * Write c in format with a small limit: while the writer has not refused
 * the record it is within the limit, and after a refusal nothing is added.
 */
static void
check_limit(const td_export_conversation *c, td_export_format format, size_t limit)
{
	td_export_options o = td_export_defaults();
	td_export_writer w;
	td_buf		out;
	size_t		at_refusal = 0;

	o.format = format;
	td_export_writer_init(&w, &o);
	w.limit = limit;
	td_buf_init(&out);
	td_export_begin(&w, c, &out);
	for (long i = 0; i <= c->nturns; i++)
	{
		if (w.too_long && at_refusal == 0)
			at_refusal = out.len;
		if (w.too_long ? out.len != at_refusal : out.len - w.start > limit)
			abort();
		if (i < c->nturns)
			td_export_put_turn(&w, c, &c->turns[i], &out);
		else
			td_export_end(&w, c, &out);
	}
	if (!w.too_long && out.len - w.start > limit)
		abort();
	td_buf_free(&out);
}

/* Does a CSV document have a field that starts like a formula? */
static bool
csv_has_formula(const td_buf *doc)
{
	size_t		i = 3;			/* after the byte order mark */

	while (i < doc->len)
	{
		if (doc->data[i] != '"')
			return true;		/* not a quoted field: not the writer's CSV */
		i++;
		if (i < doc->len && strchr("=+-@\t\r", doc->data[i]) != NULL && doc->data[i] != '\0')
			return true;
		while (i < doc->len && !(doc->data[i] == '"' && (i + 1 == doc->len || doc->data[i + 1] != '"')))
			i += doc->data[i] == '"' ? 2 : 1;
		i += 2;					/* the closing quote and the , or \n after it */
	}
	return false;
}

/*
 * Markdown: the start of c's record has as many lines as that of a
 * conversation whose user text is plain, and no carriage return.
 */
static void
check_markdown_lines(const td_export_conversation *c)
{
	td_export_options o = td_export_defaults();
	td_export_conversation plain = *c;
	td_export_writer w;
	td_buf		a,
				b;
	size_t		lines_a = 0,
				lines_b = 0;

	o.format = TD_FORMAT_MARKDOWN;
	o.include_parent_references = true;
	plain.title = plain.persona = plain.conversation_id = (td_text) {"x", c->title.len > 0 ? 1 : 0};
	td_export_writer_init(&w, &o);
	td_buf_init(&a);
	td_buf_init(&b);
	td_export_begin(&w, c, &a);
	td_export_begin(&w, &plain, &b);
	for (size_t i = 0; i < a.len; i++)
		lines_a += a.data[i] == '\n';
	for (size_t i = 0; i < b.len; i++)
		lines_b += b.data[i] == '\n';
	if (lines_a != lines_b || memchr(a.data, '\r', a.len) != NULL)
		abort();
	td_buf_free(&a);
	td_buf_free(&b);
}

/* Write c as CSV: no field may start like a formula. */
static void
check_csv(const td_export_conversation *c)
{
	td_buf		out;

	write_document(c, TD_FORMAT_CSV, &out);
	if (csv_has_formula(&out))
		abort();
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
			turns[n].token_count = n % 3 ? (td_text) {"12", 2} : (td_text) {NULL, 0};
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
	c.category = (td_text) {"[]", 2};
	c.review_history = (td_text) {"[{\"a\": [1, {}], \"b\": \"x, y: \\\"z\\\"\"}]", 36};
	c.total_turns = c.token_count = (td_text) {"3", 1};
	check(&c, TD_FORMAT_JSONL, TD_SHAPE_ORIGINAL);
	check(&c, TD_FORMAT_JSONL, TD_SHAPE_OPENAI);
	check(&c, TD_FORMAT_JSONL, TD_SHAPE_SHAREGPT);
	check(&c, TD_FORMAT_JSON, TD_SHAPE_ORIGINAL);
	write_only(&c, TD_FORMAT_MARKDOWN);
	check_csv(&c);
	check_markdown_lines(&c);
	check_limit(&c, (td_export_format) (size % 4), 64 + size % 512);	/* one format an input */
	return 0;
}
