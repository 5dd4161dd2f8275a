/*
 * export_document.c — the document formats of the export writer, in the
 * original system's shapes (its §9.3):
 *
 * JSON      one document as JSON.stringify(value, null, 2) writes it:
 *           version, export_date, conversation_count, conversations, and a
 *           summary when metadata is included.  Each conversation record is
 *           one element of the list, indented as in the whole document.
 * CSV       a UTF-8 byte order mark and a header row, then one row per turn;
 *           every field quoted, quotes doubled, rows separated by "\n".
 * Markdown  a heading with the export date and count, then per conversation
 *           a heading, an optional metadata list and the dialogue, each turn
 *           quoted line by line.
 */
#include "export_document.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_json.h"

/* Append v's bytes (nothing for NULL). */
static void
put_text(td_buf *out, td_text v)
{
	if (v.s != NULL)
		td_buf_append(out, v.s, v.len);
}

/* ---- JSON ---- */

/*
 * Levels of the document laid out a line each; the members of deeper ones
 * are written on one line.  JSON.stringify indents every level, and its
 * output grows with the square of the depth: a review history of 96 KB
 * nested 12,000 deep exported as 288 MB (a review of 1.2).
 */
#define PRETTY_MAX_DEPTH 32

/* A new line indented to depth (two spaces a level). */
static void
indent(td_buf *out, int depth)
{
	td_buf_reserve(out, 1 + 2 * (size_t) depth);
	out->data[out->len++] = '\n';
	memset(out->data + out->len, ' ', 2 * (size_t) depth);
	out->len += 2 * (size_t) depth;
	out->data[out->len] = '\0';
}

/* ,\n<indent>"key": (no comma before the first member). */
static void
pretty_key(td_buf *out, const char *key, int depth, bool first)
{
	if (!first)
		td_buf_putc(out, ',');
	indent(out, depth);
	td_json_write_string(out, key, strlen(key));
	td_buf_puts(out, ": ");
}

/* A new line at depth within a stored value, unless it is too deep. */
static void
pretty_break(td_buf *out, int depth)
{
	if (depth <= PRETTY_MAX_DEPTH)
		indent(out, depth);
}

/*
 * The JSON text v re-indented at depth: members and elements a line each,
 * to PRETTY_MAX_DEPTH.
 */
static void
put_pretty(td_buf *out, td_text v, int depth)
{
	bool		in_string = false;

	for (size_t i = 0; i < v.len; i++)
	{
		char		c = v.s[i];

		if (in_string)
		{
			td_buf_putc(out, c);
			if (c == '\\' && i + 1 < v.len)
				td_buf_putc(out, v.s[++i]);
			else if (c == '"')
				in_string = false;
			continue;
		}
		switch (c)
		{
			case ' ':
			case '\n':
			case '\t':
			case '\r':
				break;
			case '{':
			case '[':
				{
					size_t		j = i + 1;

					while (j < v.len && (v.s[j] == ' ' || v.s[j] == '\n' || v.s[j] == '\t' || v.s[j] == '\r'))
						j++;
					td_buf_putc(out, c);
					if (j < v.len && v.s[j] == (c == '{' ? '}' : ']'))
					{
						td_buf_putc(out, v.s[j]);	/* empty: {} or [] */
						i = j;
					}
					else
						pretty_break(out, ++depth);
					break;
				}
			case '}':
			case ']':
				if (--depth < PRETTY_MAX_DEPTH)	/* its members had a line each */
					indent(out, depth);
				td_buf_putc(out, c);
				break;
			case ',':
				td_buf_putc(out, ',');
				pretty_break(out, depth);
				break;
			case ':':
				td_buf_puts(out, ": ");
				break;
			case '"':
				in_string = true;
				/* fall through */
			default:
				td_buf_putc(out, c);
		}
	}
}

/*
 * A member whose value is the string v (quote) or the JSON text v
 * re-indented (!quote); NULL becomes null.
 */
static void
pretty_member(td_buf *out, const char *key, td_text v, int depth, bool first, bool quote)
{
	pretty_key(out, key, depth, first);
	if (v.s == NULL)
		td_buf_puts(out, "null");
	else if (quote)
		td_json_write_string(out, v.s, v.len);
	else
		put_pretty(out, v, depth);
}

#define pretty_string(out, key, v, depth, first) pretty_member((out), (key), (v), (depth), (first), true)
#define pretty_json(out, key, v, depth, first) pretty_member((out), (key), (v), (depth), (first), false)

/* Is the text an integer other than zero (a count worth showing)? */
static bool
nonzero(td_text v)
{
	for (size_t i = 0; v.s != NULL && i < v.len; i++)
		if (v.s[i] >= '1' && v.s[i] <= '9')
			return true;
	return false;
}

/* See export_document.h: {"version", "export_date", "conversation_count", "conversations": [ */
void
td_export_json_header(td_export_writer *w, long long count, td_buf *out)
{
	td_buf_putc(out, '{');
	pretty_member(out, "version", (td_text) {"1.0", 3}, 1, true, true);
	pretty_string(out, "export_date", w->o.export_date, 1, false);
	pretty_key(out, "conversation_count", 1, false);
	td_buf_put_long(out, count);
	pretty_key(out, "conversations", 1, false);
	td_buf_putc(out, '[');
}

/* See export_document.h: the conversation's fields up to its turns. */
void
td_export_json_begin(td_export_writer *w, const td_export_conversation *c, td_buf *out)
{
	(void) w;
	td_buf_puts(out, "    {");
	pretty_string(out, "conversation_id", c->conversation_id, 3, true);
	pretty_string(out, "title", c->title, 3, false);
	pretty_string(out, "status", c->status, 3, false);
	pretty_string(out, "tier", c->tier, 3, false);
	pretty_key(out, "turns", 3, false);
	td_buf_putc(out, '[');
}

/* See export_document.h: {role, content, token_count when not 0 or null}. */
void
td_export_json_turn(td_export_writer *w, const td_export_turn *t, td_buf *out)
{
	if (w->turn > 0)
		td_buf_putc(out, ',');
	indent(out, 4);
	td_buf_putc(out, '{');
	pretty_string(out, "role", t->role, 5, true);
	pretty_string(out, "content", t->content, 5, false);
	if (nonzero(t->token_count))
	{
		pretty_key(out, "token_count", 5, false);
		td_buf_append(out, t->token_count.s, t->token_count.len);
	}
	indent(out, 4);
	td_buf_putc(out, '}');
}

/* The metadata object of a JSON conversation. */
static void
json_metadata(const td_export_options *o, const td_export_conversation *c, td_buf *out)
{
	pretty_key(out, "metadata", 3, false);
	td_buf_putc(out, '{');
	pretty_string(out, "persona", c->persona, 4, true);
	pretty_string(out, "emotion", c->emotion, 4, false);
	pretty_string(out, "topic", c->topic, 4, false);
	pretty_json(out, "category", c->category, 4, false);
	pretty_json(out, "total_turns", c->total_turns, 4, false);
	pretty_json(out, "token_count", c->token_count, 4, false);
	if (o->include_quality_scores)
		pretty_json(out, "quality_score", c->quality_score, 4, false);
	if (o->include_timestamps)
	{
		pretty_string(out, "created_at", c->created_at, 4, false);
		pretty_string(out, "updated_at", c->updated_at, 4, false);
	}
	if (o->include_approval_history)
		pretty_json(out, "review_history", c->review_history, 4, false);
	if (o->include_parent_references)
	{
		pretty_string(out, "parent_id", c->parent_id, 4, false);
		pretty_string(out, "parent_type", c->parent_type, 4, false);
	}
	if (c->parameters.s != NULL && !(c->parameters.len == 2 && memcmp(c->parameters.s, "{}", 2) == 0))
		pretty_json(out, "parameters", c->parameters, 4, false);
	indent(out, 3);
	td_buf_putc(out, '}');
}

/* See export_document.h: close the turns, the metadata, close the conversation. */
void
td_export_json_end(td_export_writer *w, const td_export_conversation *c, td_buf *out)
{
	if (w->turn > 0)
		indent(out, 3);
	td_buf_putc(out, ']');
	if (w->o.include_metadata)
		json_metadata(&w->o, c, out);
	indent(out, 2);
	td_buf_putc(out, '}');
}

/* Append d as the shortest decimal that reads back as d (as JavaScript prints it). */
static void
put_double(td_buf *out, double d)
{
	char		text[40];

	for (int precision = 1; precision <= 17; precision++)
	{
		snprintf(text, sizeof(text), "%.*g", precision, d);
		if (strtod(text, NULL) == d)
			break;
	}
	td_buf_puts(out, text);
}

/* See export_document.h: close the list, the summary (with metadata), close the document. */
void
td_export_json_footer(td_export_writer *w, td_buf *out)
{
	const td_export_summary *s = &w->summary;

	td_buf_puts(out, s->conversations > 0 ? "  ]" : "]");
	if (w->o.include_metadata)
	{
		pretty_key(out, "summary", 1, false);
		td_buf_putc(out, '{');
		pretty_key(out, "total_turns", 2, true);
		td_buf_put_long(out, s->total_turns);
		if (s->quality_count > 0)
		{
			pretty_key(out, "average_quality_score", 2, false);
			put_double(out, s->quality_sum / (double) s->quality_count);
		}
		pretty_key(out, "tier_distribution", 2, false);
		td_buf_putc(out, '{');
		for (int i = 0; i < s->ntiers; i++)
		{
			pretty_key(out, s->tiers[i].name, 3, i == 0);
			td_buf_put_long(out, s->tiers[i].count);
		}
		if (s->ntiers > 0)
			indent(out, 2);
		td_buf_putc(out, '}');
		indent(out, 1);
		td_buf_putc(out, '}');
	}
	td_buf_puts(out, "\n}");
}

/* ---- CSV ---- */

/*
 * Does a field starting with c make a spreadsheet read it as a formula?
 * OWASP's CSV injection rule: a field starting with =, +, -, @, a tab or a
 * carriage return.
 */
static bool
csv_formula_start(char c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

/*
 * A quoted field, quotes doubled; NULL is an empty field.  A field that a
 * spreadsheet would take for a formula (csv_formula_start) gets a single
 * quote in front, inside the quotes ("'=1+2"): spreadsheets then show it as
 * text, and a reader of the file sees the quote.  The export's own fields
 * (ids, numbers, timestamps, labels) never start with those characters.
 */
static void
csv_field(td_buf *out, td_text v, bool first)
{
	const char *s = v.s != NULL ? v.s : "",
			   *end = s + v.len,
			   *quote;

	td_buf_puts(out, first ? "\"" : ",\"");
	if (v.len > 0 && csv_formula_start(s[0]))
		td_buf_putc(out, '\'');
	while ((quote = memchr(s, '"', (size_t) (end - s))) != NULL)
	{
		td_buf_append(out, s, (size_t) (quote - s) + 1);
		td_buf_putc(out, '"');
		s = quote + 1;
	}
	td_buf_append(out, s, (size_t) (end - s));
	td_buf_putc(out, '"');
}

/* A quoted field of a C string. */
static void
csv_label(td_buf *out, const char *label, bool first)
{
	csv_field(out, (td_text) {label, strlen(label)}, first);
}

/* See export_document.h: the byte order mark (when the text is UTF-8) and the header row. */
void
td_export_csv_header(td_export_writer *w, td_buf *out)
{
	static const char *const always[] = {"Conversation ID", "Title", "Status", "Tier", "Turn Number", "Role", "Content"};
	const td_export_options *o = &w->o;

	if (o->byte_order_mark)
		td_buf_puts(out, "\xEF\xBB\xBF");
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		csv_label(out, always[i], i == 0);
	if (o->include_quality_scores)
		csv_label(out, "Quality Score", false);
	if (o->include_metadata)
	{
		csv_label(out, "Persona", false);
		csv_label(out, "Emotion", false);
		csv_label(out, "Topic", false);
	}
	if (o->include_timestamps)
	{
		csv_label(out, "Created At", false);
		csv_label(out, "Updated At", false);
	}
	csv_label(out, "Token Count", false);
	if (o->include_parent_references)
	{
		csv_label(out, "Parent ID", false);
		csv_label(out, "Parent Type", false);
	}
}

/* See export_document.h: one row, the columns of the header. */
void
td_export_csv_turn(td_export_writer *w, const td_export_conversation *c, const td_export_turn *t, td_buf *out)
{
	const td_export_options *o = &w->o;
	char		number[24];

	if (w->turn > 0)
		td_buf_putc(out, '\n');
	csv_field(out, c->id, true);
	csv_field(out, c->title, false);
	csv_field(out, c->status, false);
	csv_field(out, c->tier, false);
	csv_field(out, (td_text) {number, (size_t) snprintf(number, sizeof(number), "%ld", w->turn + 1)}, false);
	csv_field(out, t->role, false);
	csv_field(out, t->content, false);
	if (o->include_quality_scores)
		csv_field(out, c->quality_score, false);
	if (o->include_metadata)
	{
		csv_field(out, c->persona, false);
		csv_field(out, c->emotion, false);
		csv_field(out, c->topic, false);
	}
	if (o->include_timestamps)
	{
		csv_field(out, c->created_at, false);
		csv_field(out, c->updated_at, false);
	}
	csv_field(out, t->token_count, false);
	if (o->include_parent_references)
	{
		csv_field(out, c->parent_id, false);
		csv_field(out, c->parent_type, false);
	}
}

/* ---- Markdown ---- */

/*
 * Append user text v for a place that is one line of Markdown: a heading or
 * a list item.  Markdown cannot then read structure into it: every
 * character that starts inline markup or ends a heading (\ ` * _ [ ] < > #
 * | ~ &) gets a backslash, which CommonMark and GitHub's Markdown show as
 * the character itself, and a line break (CR, LF) becomes a space so that
 * the text cannot start a line of its own.
 */
static void
md_escaped(td_buf *out, td_text v)
{
	static const char special[] = "\\`*_[]<>#|~&";
	size_t		run = 0;

	for (size_t i = 0; i < v.len; i++)
	{
		char		c = v.s[i];

		if (c != '\n' && c != '\r' && (c == '\0' || strchr(special, c) == NULL))
			continue;
		td_buf_append(out, v.s + run, i - run);
		if (c == '\n' || c == '\r')
			td_buf_putc(out, ' ');
		else
		{
			td_buf_putc(out, '\\');
			td_buf_putc(out, c);
		}
		run = i + 1;
	}
	if (v.s != NULL)
		td_buf_append(out, v.s + run, v.len - run);
}

/*
 * A list item "- **label:** value\n": the value as it is (the export's own
 * values: ids, labels, numbers, timestamps) or escaped (user text).
 */
static void
md_item_as(td_buf *out, const char *label, td_text v, bool user_text)
{
	td_buf_puts(out, "- **");
	td_buf_puts(out, label);
	td_buf_puts(out, ":** ");
	if (user_text)
		md_escaped(out, v);
	else
		put_text(out, v);
	td_buf_putc(out, '\n');
}

/* A list item of one of the export's own values. */
static void
md_item(td_buf *out, const char *label, td_text v)
{
	md_item_as(out, label, v, false);
}

/* A list item of user text, when it is present and not empty. */
static void
md_item_present(td_buf *out, const char *label, td_text v)
{
	if (td_export_present(v))
		md_item_as(out, label, v, true);
}

/* See export_document.h: title, export date, count, rule. */
void
td_export_markdown_header(td_export_writer *w, long long count, td_buf *out)
{
	td_buf_puts(out, "# Training Conversations Export\n\n**Export Date:** ");
	put_text(out, w->o.export_date);
	td_buf_puts(out, "\n**Total Conversations:** ");
	td_buf_put_long(out, count);
	td_buf_puts(out, "\n\n---");
}

/* The quality score with two decimals. */
static void
md_quality(td_buf *out, td_text score)
{
	char		number[32],
				text[48];

	if (score.s == NULL || score.len >= sizeof(number))
		return;
	memcpy(number, score.s, score.len);
	number[score.len] = '\0';
	snprintf(text, sizeof(text), "%.2f", strtod(number, NULL));
	md_item(out, "Quality Score", (td_text) {text, strlen(text)});
}

/* The metadata list of a Markdown conversation. */
static void
md_metadata(const td_export_options *o, const td_export_conversation *c, td_buf *out)
{
	td_buf_putc(out, '\n');
	md_item(out, "ID", c->id);
	md_item(out, "Tier", c->tier);
	md_item(out, "Status", c->status);
	md_item_present(out, "Persona", c->persona);
	md_item_present(out, "Emotion", c->emotion);
	md_item_present(out, "Topic", c->topic);
	if (o->include_quality_scores)
		md_quality(out, c->quality_score);
	md_item_present(out, "Categories", c->category_list);
	if (o->include_timestamps)
	{
		md_item(out, "Created", c->created_at);
		md_item(out, "Updated", c->updated_at);
	}
	if (o->include_parent_references)
	{
		md_item_present(out, "Parent ID", c->parent_id);
		md_item_present(out, "Parent Type", c->parent_type);
	}
	md_item(out, "Total Turns", c->total_turns);
	if (nonzero(c->token_count))
		md_item(out, "Total Tokens", c->token_count);
}

/* See export_document.h: heading, metadata, the dialogue heading. */
void
td_export_markdown_begin(td_export_writer *w, const td_export_conversation *c, td_buf *out)
{
	td_buf_puts(out, "\n## Conversation: ");
	if (td_export_present(c->title))
		md_escaped(out, c->title);
	else
		td_buf_puts(out, "Untitled");
	td_buf_putc(out, '\n');
	if (w->o.include_metadata)
		md_metadata(&w->o, c, out);
	td_buf_puts(out, "\n### Dialogue\n");
}

/*
 * The end of the line that starts at s: the first LF or CR (Markdown ends a
 * line at LF, CR or CR LF), or end.  *lf is the first LF at or after s, or
 * end when there is none (NULL: not searched yet): kept by the caller from
 * one line to the next and
 * searched again only once s has passed it, so that a text of lines ended
 * by CR alone is read once, not once per line.
 */
static const char *
line_end(const char *s, const char *end, const char **lf)
{
	const char *cr;

	if (*lf == NULL || *lf < s)
	{
		*lf = memchr(s, '\n', (size_t) (end - s));
		if (*lf == NULL)
			*lf = end;
	}
	cr = memchr(s, '\r', (size_t) (*lf - s));
	return cr != NULL ? cr : *lf;
}

/*
 * See export_document.h: the speaker, every line of the content quoted (a
 * line ends at LF, CR or CR LF, as Markdown reads it, so that no line of the
 * content escapes the quote), the tokens.
 */
void
td_export_markdown_turn(td_export_writer *w, const td_export_turn *t, td_buf *out)
{
	const char *s = t->content.s != NULL ? t->content.s : "",
			   *end = s + t->content.len,
			   *lf = NULL;		/* the next LF: not searched yet */

	(void) w;
	td_buf_puts(out, td_export_is_assistant(t) ? "\n**Assistant:**\n" : "\n**User:**\n");
	for (;;)
	{
		const char *stop = line_end(s, end, &lf);

		TD_CHECK_FOR_INTERRUPTS();

		td_buf_puts(out, "> ");
		td_buf_append(out, s, (size_t) (stop - s));
		td_buf_putc(out, '\n');
		if (stop == end)
			break;
		s = stop + (stop[0] == '\r' && stop + 1 < end && stop[1] == '\n' ? 2 : 1);
	}
	if (nonzero(t->token_count))
	{
		td_buf_puts(out, "\n*Tokens: ");
		td_buf_append(out, t->token_count.s, t->token_count.len);
		td_buf_puts(out, "*\n");
	}
}
