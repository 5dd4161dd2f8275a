/*
 * export.c — training-file lines.  See export.h.
 */
#include "export.h"

#include <string.h>

#include "td_json.h"

/* See export.h. */
td_export_options
td_export_defaults(void)
{
	td_export_options o;

	memset(&o, 0, sizeof(o));
	o.shape = TD_SHAPE_ORIGINAL;
	o.include_metadata = true;
	o.include_quality_scores = true;
	o.include_timestamps = true;
	return o;
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

/* Is the text present and not empty? */
static bool
present(td_text v)
{
	return v.s != NULL && v.len > 0;
}

/* Is this turn the assistant's? */
static bool
is_assistant(const td_export_turn *t)
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
	if (present(c->persona))
		put_string(out, "persona", c->persona, false);
	if (present(c->emotion))
		put_string(out, "emotion", c->emotion, false);
	if (present(c->topic))
		put_string(out, "topic", c->topic, false);
	td_buf_putc(out, '}');
}

/* Index of the last assistant turn, or -1. */
static long
last_assistant(const td_export_conversation *c)
{
	for (long i = c->nturns - 1; i >= 0; i--)
		if (is_assistant(&c->turns[i]))
			return i;
	return -1;
}

/* "messages": [{role, content}...], with the openai extras when asked. */
static void
put_messages(const td_export_conversation *c, const td_export_options *o, td_buf *out)
{
	bool		openai = o->shape == TD_SHAPE_OPENAI;
	long		last = openai && o->last_turn_only ? last_assistant(c) : -1;
	bool		first = true;

	td_json_write_key(out, "messages", true);
	td_buf_putc(out, '[');
	if (openai && present(o->system_message))
	{
		td_buf_puts(out, "{\"role\":\"system\",\"content\":");
		td_json_write_string(out, o->system_message.s, o->system_message.len);
		td_buf_putc(out, '}');
		first = false;
	}
	for (long i = 0; i < c->nturns; i++)
	{
		const td_export_turn *t = &c->turns[i];

		if (!first)
			td_buf_putc(out, ',');
		first = false;
		td_buf_putc(out, '{');
		put_string(out, "role", t->role, true);
		put_string(out, "content", t->content, false);
		if (openai && o->last_turn_only && is_assistant(t))
			td_buf_puts(out, i == last ? ",\"weight\":1" : ",\"weight\":0");
		td_buf_putc(out, '}');
	}
	td_buf_putc(out, ']');
}

/* "conversations": [{from: human|gpt, value}...]. */
static void
put_sharegpt(const td_export_conversation *c, td_buf *out)
{
	td_json_write_key(out, "conversations", true);
	td_buf_putc(out, '[');
	for (long i = 0; i < c->nturns; i++)
	{
		const td_export_turn *t = &c->turns[i];

		if (i > 0)
			td_buf_putc(out, ',');
		td_buf_puts(out, is_assistant(t) ? "{\"from\":\"gpt\",\"value\":" : "{\"from\":\"human\",\"value\":");
		td_json_write_string(out, t->content.s ? t->content.s : "", t->content.s ? t->content.len : 0);
		td_buf_putc(out, '}');
	}
	td_buf_putc(out, ']');
}

/* See export.h. */
void
td_export_line(const td_export_conversation *c, const td_export_options *o, td_buf *out)
{
	td_buf_putc(out, '{');
	if (o->shape == TD_SHAPE_SHAREGPT)
		put_sharegpt(c, out);
	else
		put_messages(c, o, out);
	if (o->shape == TD_SHAPE_ORIGINAL && o->include_metadata)
		put_metadata(c, o, out);
	td_buf_putc(out, '}');
}
