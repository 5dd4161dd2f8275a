/*
 * export.c — export records: the writer, its dispatch by format, the
 * summary totals and the JSONL shapes.  The documents (JSON, CSV, Markdown)
 * are in export_document.c.  See export.h.
 */
#include "export.h"

#include <stdlib.h>
#include <string.h>

#include "export_document.h"
#include "td_json.h"

/* See export.h. */
td_export_options
td_export_defaults(void)
{
	td_export_options o;

	memset(&o, 0, sizeof(o));
	o.format = TD_FORMAT_JSONL;
	o.shape = TD_SHAPE_ORIGINAL;
	o.include_metadata = true;
	o.include_quality_scores = true;
	o.include_timestamps = true;
	o.byte_order_mark = true;
	return o;
}

/* See export.h. */
void
td_export_writer_init(td_export_writer *w, const td_export_options *o)
{
	memset(w, 0, sizeof(*w));
	w->o = *o;
	w->limit = TD_EXPORT_MAX_RECORD;
}

/*
 * Can the current record of out take more bytes?  If not, mark it too long.
 * The sums are checked before they are made, so that no length wraps.
 */
static bool
fits(td_export_writer *w, const td_buf *out, size_t more)
{
	size_t		used = out->len - w->start;

	if (!w->too_long && (used > w->limit || more > w->limit - used))
		w->too_long = true;
	return !w->too_long;
}

/* A sum of lengths that saturates instead of wrapping. */
static size_t
add_size(size_t a, size_t b)
{
	return a > (size_t) -1 - b ? (size_t) -1 : a + b;
}

/*
 * The bytes of c's own fields: a lower bound of what its record takes, so
 * that a record that cannot fit is refused before it is written.
 */
static size_t
conversation_size(const td_export_conversation *c)
{
	const td_text *fields[] = {
		&c->id, &c->conversation_id, &c->title, &c->status, &c->tier, &c->quality_score,
		&c->created_at, &c->updated_at, &c->review_history, &c->parent_id, &c->parent_type,
		&c->persona, &c->emotion, &c->topic, &c->category, &c->category_list, &c->total_turns,
		&c->token_count, &c->parameters,
	};
	size_t		size = 0;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		size = add_size(size, fields[i]->len);
	return size;
}

/*
 * Append "key": value, the value a JSON string of v (quote) or v itself,
 * already JSON (!quote); NULL becomes null.
 */
static void
put_member(td_buf *out, const char *key, td_text v, bool first, bool quote)
{
	td_json_write_key(out, key, first);
	if (v.s == NULL)
		td_buf_puts(out, "null");
	else if (quote)
		td_json_write_string(out, v.s, v.len);
	else
		td_buf_append(out, v.s, v.len);
}

/* Append a string literal. */
#define put_literal(out, lit) td_buf_append((out), (lit), sizeof(lit) - 1)

#define put_string(out, key, v, first) put_member((out), (key), (v), (first), true)
#define put_raw(out, key, v, first) put_member((out), (key), (v), (first), false)

/*
 * Append a member whose value is JSON text, without the white space outside
 * strings (jsonb's output puts a space after every ":" and ","); NULL becomes
 * null.
 */
static void
put_compact(td_buf *out, const char *key, td_text v, bool first)
{
	bool		in_string = false;
	size_t		run = 0;

	if (v.s == NULL)
	{
		put_raw(out, key, v, first);
		return;
	}
	td_json_write_key(out, key, first);
	for (size_t i = 0; i < v.len; i++)
	{
		char		c = v.s[i];

		if (in_string && c == '\\')
			i++;				/* the escaped character cannot end the string */
		else if (c == '"')
			in_string = !in_string;
		else if (!in_string && (c == ' ' || c == '\n' || c == '\t' || c == '\r'))
		{
			td_buf_append(out, v.s + run, i - run);
			run = i + 1;
		}
	}
	td_buf_append(out, v.s + run, v.len - run);
}

/* See export_document.h. */
bool
td_export_present(td_text v)
{
	return v.s != NULL && v.len > 0;
}

/* See export_document.h. */
bool
td_export_is_assistant(const td_export_turn *t)
{
	return t->role.len == 9 && memcmp(t->role.s, "assistant", 9) == 0;
}

/*
 * The original's metadata object, keys in its order: conversation_id, title,
 * tier, [quality_score], [created_at, updated_at], [review_history],
 * [parent_id, parent_type], then persona, emotion, topic when not empty.
 */
static void
put_metadata(const td_export_conversation *c, const td_export_options *o, td_buf *out)
{
	td_json_write_key(out, "metadata", false);
	td_buf_putc(out, '{');
	put_string(out, "conversation_id", c->conversation_id, true);
	put_string(out, "title", c->title, false);
	put_string(out, "tier", c->tier, false);
	if (o->include_quality_scores)
		put_raw(out, "quality_score", c->quality_score, false);
	if (o->include_timestamps)
	{
		put_string(out, "created_at", c->created_at, false);
		put_string(out, "updated_at", c->updated_at, false);
	}
	if (o->include_approval_history && c->review_history.s != NULL)
		put_compact(out, "review_history", c->review_history, false);
	if (o->include_parent_references && (c->parent_id.s != NULL || c->parent_type.s != NULL))
	{
		put_string(out, "parent_id", c->parent_id, false);
		put_string(out, "parent_type", c->parent_type, false);
	}
	if (td_export_present(c->persona))
		put_string(out, "persona", c->persona, false);
	if (td_export_present(c->emotion))
		put_string(out, "emotion", c->emotion, false);
	if (td_export_present(c->topic))
		put_string(out, "topic", c->topic, false);
	td_buf_putc(out, '}');
}

/* Does the openai line start with a system message? */
static bool
has_system(const td_export_writer *w)
{
	return w->o.shape == TD_SHAPE_OPENAI && td_export_present(w->o.system_message);
}

/* JSONL: {"messages":[ (with the system message) or {"conversations":[. */
static void
jsonl_begin(td_export_writer *w, td_buf *out)
{
	if (w->o.shape == TD_SHAPE_SHAREGPT)
	{
		td_buf_puts(out, "{\"conversations\":[");
		return;
	}
	td_buf_puts(out, "{\"messages\":[");
	if (has_system(w))
	{
		td_buf_puts(out, "{\"role\":\"system\",\"content\":");
		td_json_write_string(out, w->o.system_message.s, w->o.system_message.len);
		td_buf_putc(out, '}');
	}
}

/*
 * JSONL: one message.  With lastTurnOnly every assistant message gets
 * "weight":0 and the last one's digit is turned into 1 at the end.
 */
static void
jsonl_turn(td_export_writer *w, const td_export_turn *t, td_buf *out)
{
	bool		assistant = td_export_is_assistant(t);

	if (w->turn > 0 || has_system(w))
		td_buf_putc(out, ',');
	if (w->o.shape == TD_SHAPE_SHAREGPT)
	{
		td_buf_puts(out, assistant ? "{\"from\":\"gpt\",\"value\":" : "{\"from\":\"human\",\"value\":");
		td_json_write_string(out, t->content.s ? t->content.s : "", t->content.s ? t->content.len : 0);
		td_buf_putc(out, '}');
		return;
	}
	/* the roles are 'user' and 'assistant' (a CHECK), but any text is escaped */
	if (assistant)
		put_literal(out, "{\"role\":\"assistant\"");
	else if (t->role.len == 4 && memcmp(t->role.s, "user", 4) == 0)
		put_literal(out, "{\"role\":\"user\"");
	else
	{
		td_buf_putc(out, '{');
		put_string(out, "role", t->role, true);
	}
	put_literal(out, ",\"content\":");
	if (t->content.s == NULL)
		put_literal(out, "null");
	else
		td_json_write_string(out, t->content.s, t->content.len);
	if (w->o.shape == TD_SHAPE_OPENAI && w->o.last_turn_only && assistant)
	{
		td_buf_puts(out, ",\"weight\":0");
		w->weight_at = out->len - 1;
	}
	td_buf_putc(out, '}');
}

/* JSONL: close the list, the original's metadata, close the line. */
static void
jsonl_end(td_export_writer *w, const td_export_conversation *c, td_buf *out)
{
	if (w->weight_at > 0)
		out->data[w->weight_at] = '1';
	td_buf_putc(out, ']');
	if (w->o.shape == TD_SHAPE_ORIGINAL && w->o.include_metadata)
		put_metadata(c, &w->o, out);
	td_buf_putc(out, '}');
}

/*
 * Count c in the summary: conversations always, quality scores and tiers
 * only for the JSON summary that shows them.
 */
static void
count_conversation(td_export_summary *s, const td_export_conversation *c, td_export_format format)
{
	s->conversations++;
	if (format != TD_FORMAT_JSON)
		return;
	if (c->quality_score.s != NULL && c->quality_score.len < 32)
	{
		char		number[32];

		memcpy(number, c->quality_score.s, c->quality_score.len);
		number[c->quality_score.len] = '\0';
		s->quality_sum += strtod(number, NULL);
		s->quality_count++;
	}
	if (c->tier.s == NULL || c->tier.len >= sizeof(s->tiers[0].name))
		return;
	for (int i = 0; i < s->ntiers; i++)
		if (strlen(s->tiers[i].name) == c->tier.len && memcmp(s->tiers[i].name, c->tier.s, c->tier.len) == 0)
		{
			s->tiers[i].count++;
			return;
		}
	if (s->ntiers == TD_EXPORT_MAX_TIERS)
		return;
	memcpy(s->tiers[s->ntiers].name, c->tier.s, c->tier.len);
	s->tiers[s->ntiers].name[c->tier.len] = '\0';
	s->tiers[s->ntiers++].count = 1;
}

/* See export.h. */
void
td_export_header(td_export_writer *w, long long count, td_buf *out)
{
	w->start = out->len;
	w->too_long = false;
	if (w->o.format == TD_FORMAT_JSON)
		td_export_json_header(w, count, out);
	else if (w->o.format == TD_FORMAT_CSV)
		td_export_csv_header(w, out);
	else if (w->o.format == TD_FORMAT_MARKDOWN)
		td_export_markdown_header(w, count, out);
	(void) fits(w, out, 0);
}

/* See export.h. */
void
td_export_begin(td_export_writer *w, const td_export_conversation *c, td_buf *out)
{
	w->turn = 0;
	w->weight_at = 0;
	w->start = out->len;
	w->too_long = false;
	if (!fits(w, out, add_size(conversation_size(c), w->o.system_message.len)))
		return;
	if (w->o.format == TD_FORMAT_JSONL)
		jsonl_begin(w, out);
	else if (w->o.format == TD_FORMAT_JSON)
		td_export_json_begin(w, c, out);
	else if (w->o.format == TD_FORMAT_MARKDOWN)
		td_export_markdown_begin(w, c, out);
	(void) fits(w, out, 0);
}

/* See export.h. */
void
td_export_put_turn(td_export_writer *w, const td_export_conversation *c, const td_export_turn *t, td_buf *out)
{
	size_t		csv_row = w->o.format == TD_FORMAT_CSV ? conversation_size(c) : 0;

	if (!fits(w, out, add_size(add_size(t->role.len, t->content.len), add_size(t->token_count.len, csv_row))))
		return;
	if (w->o.format == TD_FORMAT_JSONL)
		jsonl_turn(w, t, out);
	else if (w->o.format == TD_FORMAT_JSON)
		td_export_json_turn(w, t, out);
	else if (w->o.format == TD_FORMAT_CSV)
		td_export_csv_turn(w, c, t, out);
	else
		td_export_markdown_turn(w, t, out);
	w->turn++;
	w->summary.total_turns++;
	(void) fits(w, out, 0);
}

/* See export.h. */
void
td_export_end(td_export_writer *w, const td_export_conversation *c, td_buf *out)
{
	if (!fits(w, out, conversation_size(c)))
		return;
	if (w->o.format == TD_FORMAT_JSONL)
		jsonl_end(w, c, out);
	else if (w->o.format == TD_FORMAT_JSON)
		td_export_json_end(w, c, out);
	else if (w->o.format == TD_FORMAT_MARKDOWN)
		td_buf_puts(out, "\n---");
	count_conversation(&w->summary, c, w->o.format);
	(void) fits(w, out, 0);
}

/* See export.h. */
const char *
td_export_separator(const td_export_writer *w)
{
	return w->o.format == TD_FORMAT_JSON ? "," : "";
}

/* See export.h. */
void
td_export_footer(td_export_writer *w, td_buf *out)
{
	if (w->summary.conversations > 0)	/* a record of its own, else the header's end */
	{
		w->start = out->len;
		w->too_long = false;
	}
	if (w->o.format == TD_FORMAT_JSON)
		td_export_json_footer(w, out);
	(void) fits(w, out, 0);
}

/* See export.h. */
void
td_export_record(td_export_writer *w, const td_export_conversation *c, td_buf *out)
{
	td_export_begin(w, c, out);
	for (long i = 0; i < c->nturns; i++)
		td_export_put_turn(w, c, &c->turns[i], out);
	td_export_end(w, c, out);
}

/* See export.h. */
void
td_export_line(const td_export_conversation *c, const td_export_options *o, td_buf *out)
{
	td_export_writer w;

	td_export_writer_init(&w, o);
	td_export_record(&w, c, out);
}
