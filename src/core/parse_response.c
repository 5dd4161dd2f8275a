/*
 * parse_response.c — turn a model's response into a conversation.
 * See parse_response.h for the accepted shapes and the rules.
 */
#include "parse_response.h"

#include <math.h>
#include <string.h>

#include "td_text.h"

/* One turn found in the response. */
typedef struct turn
{
	const char *role;			/* "user" or "assistant" */
	const char *content;
	size_t		len;
} turn;

/* What the parse has gathered so far. */
typedef struct parsed
{
	td_arena	arena;
	const char *title;
	size_t		title_len;
	turn	   *turns;
	size_t		nturns;
	size_t		cap;
	const td_json *model;
	const td_json *stop_reason;
	const td_json *input_tokens;
	const td_json *output_tokens;
	const td_json *cache_read;	/* prompt-cache reads (Messages) or cached prompt tokens (Chat Completions) */
	const td_json *cache_write;	/* prompt-cache writes (Messages only) */
	bool		chat;			/* a Chat Completions response: its prompt tokens include the cached ones */
	bool		as_1_1;			/* input_tokens as 1.0 and 1.1 read it (the response's own), no cache counts */
} parsed;

/* --- errors ------------------------------------------------------------- */

/* A turn error: "turn N of the response <what>". */
static bool
turn_error(td_parse_error *err, size_t index, const char *what, const char *value, size_t value_len,
		   const char *detail)
{
	err->status = TD_PARSE_BAD_TURN;
	td_buf_puts(&err->message, "turn ");
	td_buf_put_long(&err->message, (long long) index + 1);
	td_buf_puts(&err->message, " of the response ");
	td_buf_puts(&err->message, what);
	if (value)
	{
		td_buf_puts(&err->message, " \"");
		td_buf_put_clipped(&err->message, value, value_len);
		td_buf_puts(&err->message, "\"");
	}
	td_buf_puts(&err->detail, detail);
	return false;
}

/* --- helpers ------------------------------------------------------------ */

/* True if s[0..len) is blank. */
static bool
is_blank(const char *s, size_t len)
{
	size_t		b = 0,
				e = len;

	td_trim(s, &b, &e);
	return b == e;
}

/* Case-insensitive comparison of s[0..len) with the lower-case word. */
static bool
equals_word(const char *s, size_t len, const char *word)
{
	size_t		n = strlen(word);

	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		char		c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		if (c != word[i])
			return false;
	}
	return true;
}

/* Append a turn. */
static void
add_turn(parsed *p, const char *role, const char *content, size_t len)
{
	if (p->nturns == p->cap)
	{
		turn	   *bigger;

		p->cap = p->cap ? p->cap * 2 : 16;
		bigger = td_arena_alloc(&p->arena, p->cap * sizeof(turn));
		if (p->nturns)
			memcpy(bigger, p->turns, p->nturns * sizeof(turn));
		p->turns = bigger;
	}
	p->turns[p->nturns++] = (turn) {role, content, len};
}

/* Canonical role name, or NULL. */
static const char *
canonical_role(const char *s, size_t len)
{
	if (equals_word(s, len, "user"))
		return "user";
	if (equals_word(s, len, "assistant"))
		return "assistant";
	return NULL;
}

/* --- JSON shapes -------------------------------------------------------- */

/* The turns array of a conversation object or the array itself, or NULL. */
static const td_json *
turns_array(const td_json *v)
{
	static const char *const keys[] = {"turns", "messages", "conversation"};

	if (v->type == TD_JSON_ARRAY)
		return v;
	if (v->type != TD_JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < 3; i++)
	{
		const td_json *a = td_json_get(v, keys[i]);

		if (a && a->type == TD_JSON_ARRAY)
			return a;
	}
	return NULL;
}

/* Take the turns (and title) of a JSON conversation; false on a bad turn. */
static bool
turns_from_json(parsed *p, const td_json *v, const td_json *turns, td_parse_error *err)
{
	const td_json *title = td_json_get(v, "title");

	for (size_t i = 0; i < turns->count && TD_CHECK_FOR_INTERRUPTS_EXPR(); i++)
	{
		const td_json *t = turns->items[i];
		const td_json *role = td_json_get(t, "role");
		const td_json *content = td_json_get(t, "content");
		const char *canonical;

		if (t->type != TD_JSON_OBJECT)
			return turn_error(err, i, "is not an object", NULL, 0,
							  "Each turn is an object {\"role\": \"user\" or \"assistant\", \"content\": text}.");
		if (role == NULL || role->type != TD_JSON_STRING)
			return turn_error(err, i, "has no role", NULL, 0,
							  "Each turn needs \"role\": \"user\" or \"assistant\".");
		if ((canonical = canonical_role(role->str, role->len)) == NULL)
			return turn_error(err, i, "has role", role->str, role->len,
							  "A turn's role must be \"user\" or \"assistant\".");
		if (content == NULL || content->type != TD_JSON_STRING || is_blank(content->str, content->len))
			return turn_error(err, i, "has no content", NULL, 0,
							  "Each turn needs non-blank \"content\" text.");
		add_turn(p, canonical, content->str, content->len);
	}
	if (title && title->type == TD_JSON_STRING && !is_blank(title->str, title->len))
	{
		size_t		b = 0,
					e = title->len;

		td_trim(title->str, &b, &e);
		p->title = title->str + b;
		p->title_len = e - b;
	}
	return true;
}

/* --- text --------------------------------------------------------------- */

/* Try s[0..len) as JSON holding a conversation; *found says whether it did. */
static bool
try_json(parsed *p, const char *s, size_t len, bool *found, td_buf *why, td_parse_error *err)
{
	td_json_error jerr;
	const td_json *v = td_json_parse(&p->arena, s, len, &jerr);
	const td_json *turns;

	*found = false;
	if (v == NULL)
	{
		if (why->len == 0)
		{
			td_buf_puts(why, "The JSON in the response is invalid at byte ");
			td_buf_put_long(why, (long long) jerr.offset + 1);
			td_buf_puts(why, " of the JSON text: ");
			td_buf_puts(why, jerr.message);
			td_buf_puts(why, ".");
		}
		return true;
	}
	if ((turns = turns_array(v)) == NULL)
		return true;
	*found = true;
	return turns_from_json(p, v, turns, err);
}

/* The content of the first ``` fence, or false when there is none. */
static bool
fenced_block(const char *s, size_t len, size_t *b, size_t *e)
{
	const char *open = NULL;
	const char *close;

	for (size_t i = 0; i + 3 <= len; i++)
		if (TD_CHECK_FOR_INTERRUPTS_EXPR() && memcmp(s + i, "```", 3) == 0)
		{
			open = s + i + 3;
			break;
		}
	if (open == NULL)
		return false;
	while (open < s + len && *open != '\n' && TD_CHECK_FOR_INTERRUPTS_EXPR())	/* skip a language tag */
		open++;
	*b = (size_t) (open - s);
	close = NULL;
	for (size_t i = *b; i + 3 <= len; i++)
		if (TD_CHECK_FOR_INTERRUPTS_EXPR() && memcmp(s + i, "```", 3) == 0)
		{
			close = s + i;
			break;
		}
	*e = close ? (size_t) (close - s) : len;
	return true;
}

/* Does the line start with "user:" or "assistant:"? Sets role and rest. */
static bool
line_role(const char *line, size_t len, const char **role, size_t *rest)
{
	size_t		i = 0;

	while (i < len && td_is_space(line[i]))
		i++;
	for (size_t k = 0; k < 2; k++)
	{
		const char *word = k == 0 ? "user" : "assistant";
		size_t		n = strlen(word);

		if (len - i > n && line[i + n] == ':' && equals_word(line + i, n, word))
		{
			*role = word;
			*rest = i + n + 1;
			return true;
		}
	}
	return false;
}

/* Lines starting with user: / assistant: become turns. */
static bool
turns_from_lines(parsed *p, const char *s, size_t len, td_parse_error *err)
{
	td_buf		current;
	const char *role = NULL;
	size_t		pos = 0;
	size_t		first = p->nturns;

	td_buf_init(&current);
	while (pos <= len)
	{
		const char *nl = pos < len ? memchr(s + pos, '\n', len - pos) : NULL;
		size_t		end = nl ? (size_t) (nl - s) : len;
		const char *line_role_name;
		size_t		rest;

		TD_CHECK_FOR_INTERRUPTS();
		if (line_role(s + pos, end - pos, &line_role_name, &rest))
		{
			if (role)
				add_turn(p, role, td_arena_strndup(&p->arena, current.data, current.len), current.len);
			role = line_role_name;
			current.len = 0;
			td_buf_append(&current, s + pos + rest, end - pos - rest);
		}
		else if (role)
		{
			td_buf_putc(&current, '\n');
			td_buf_append(&current, s + pos, end - pos);
		}
		pos = end + 1;
	}
	if (role)
		add_turn(p, role, td_arena_strndup(&p->arena, current.data, current.len), current.len);
	td_buf_free(&current);

	for (size_t i = first; i < p->nturns; i++)
	{
		size_t		b = 0,
					e = p->turns[i].len;

		td_trim(p->turns[i].content, &b, &e);
		if (b == e)
			return turn_error(err, i, "has no content", NULL, 0,
							  "A line \"user:\" or \"assistant:\" must be followed by the turn's text.");
		p->turns[i].content += b;
		p->turns[i].len = e - b;
	}
	return true;
}

/* Find a conversation in free text. */
static bool
turns_from_text(parsed *p, const char *s, size_t len, td_parse_error *err)
{
	td_buf		why;
	size_t		b,
				e;
	bool		found = false;
	bool		ok = true;
	const char *lbrace;
	const char *rbrace = NULL;

	td_buf_init(&why);
	if (fenced_block(s, len, &b, &e))
		ok = try_json(p, s + b, e - b, &found, &why, err);
	b = 0;
	e = len;
	td_trim(s, &b, &e);
	if (ok && !found && b < e && (s[b] == '{' || s[b] == '['))
		ok = try_json(p, s + b, e - b, &found, &why, err);
	if (ok && !found && (lbrace = memchr(s, '{', len)) != NULL)
	{
		for (size_t i = len; i-- > (size_t) (lbrace - s);)
			if (TD_CHECK_FOR_INTERRUPTS_EXPR() && s[i] == '}')
			{
				rbrace = s + i;
				break;
			}
		if (rbrace)
			ok = try_json(p, lbrace, (size_t) (rbrace - lbrace) + 1, &found, &why, err);
	}
	if (ok && !found)
	{
		ok = turns_from_lines(p, s, len, err);
		found = p->nturns > 0;
	}
	if (ok && !found)
	{
		td_error_set(err, TD_PARSE_NO_CONVERSATION, "response holds no conversation",
				  "Expected JSON with a \"turns\" array, or lines starting with \"user:\" or \"assistant:\".");
		if (why.len)
		{
			td_buf_putc(&err->detail, ' ');
			td_buf_append(&err->detail, why.data, why.len);
		}
		ok = false;
	}
	td_buf_free(&why);
	return ok;
}

/* --- Messages API and Chat Completions responses ------------------------ */

/*
 * Concatenate the text of a response's content: a string, or the text
 * blocks (Messages API) or text parts (Chat Completions) of an array.
 */
static void
response_text(const td_json *content, td_buf *text)
{
	if (content == NULL)
		return;
	if (content->type == TD_JSON_STRING)
	{
		td_buf_append(text, content->str, content->len);
		return;
	}
	for (size_t i = 0; content->type == TD_JSON_ARRAY && i < content->count; i++)
	{
		const td_json *block = content->items[i];
		const td_json *t = td_json_get(block, "text");

		if (td_json_string_is(td_json_get(block, "type"), "text") && t && t->type == TD_JSON_STRING)
			td_buf_append(text, t->str, t->len);
	}
}

/* v when it is a value of the given type, else NULL. */
static const td_json *
of_type(const td_json *v, td_json_type type)
{
	return (v && v->type == type) ? v : NULL;
}

/*
 * Note model, stop reason and token counts of a response object: a Messages
 * API response (stop_reason, usage.input_tokens / output_tokens, and the
 * prompt cache's usage.cache_read_input_tokens /
 * cache_creation_input_tokens) or a Chat Completions response (choice's
 * finish_reason, usage.prompt_tokens / completion_tokens and
 * usage.prompt_tokens_details.cached_tokens); choice is NULL for the former.
 */
static void
note_metadata(parsed *p, const td_json *response, const td_json *choice)
{
	const td_json *usage = td_json_get(response, "usage");
	const bool	chat = choice != NULL;
	const td_json *v;

	if ((v = of_type(td_json_get(response, "model"), TD_JSON_STRING)))
		p->model = v;
	if ((v = of_type(chat ? td_json_get(choice, "finish_reason") : td_json_get(response, "stop_reason"),
					 TD_JSON_STRING)))
		p->stop_reason = v;
	if ((v = of_type(td_json_get(usage, chat ? "prompt_tokens" : "input_tokens"), TD_JSON_NUMBER)))
		p->input_tokens = v;
	if ((v = of_type(td_json_get(usage, chat ? "completion_tokens" : "output_tokens"), TD_JSON_NUMBER)))
		p->output_tokens = v;
	p->chat = chat;
	if (chat)
		p->cache_read = of_type(td_json_get(td_json_get(usage, "prompt_tokens_details"), "cached_tokens"),
								TD_JSON_NUMBER);
	else
	{
		p->cache_read = of_type(td_json_get(usage, "cache_read_input_tokens"), TD_JSON_NUMBER);
		p->cache_write = of_type(td_json_get(usage, "cache_creation_input_tokens"), TD_JSON_NUMBER);
	}
}

/*
 * A provider's text as a sentence of a detail: prefix, then the text
 * clipped and quoted, then a period ("The API said: \"busy\".").
 */
static void
quoted_sentence(td_buf *detail, const char *prefix, const td_json *text)
{
	td_buf_puts(detail, prefix);
	td_buf_putc(detail, '"');
	td_buf_put_clipped(detail, text->str, text->len);
	td_buf_puts(detail, "\".");
}

/*
 * Is response an API error object?  Anthropic {"type": "error", "error":
 * {...}}, OpenAI {"error": {...}} (without choices), or an OpenAI-compatible
 * server's {"object": "error", "message": ...}.
 */
static bool
is_api_error(const td_json *response)
{
	return td_json_string_is(td_json_get(response, "type"), "error")
		|| td_json_string_is(td_json_get(response, "object"), "error")
		|| (td_json_get(response, "error") != NULL && td_json_get(response, "choices") == NULL
			&& td_json_get(response, "content") == NULL && turns_array(response) == NULL);
}

/*
 * Report an API error object: its type (or code) in the message, its
 * message text as the detail, both clipped.
 */
static bool
api_error(const td_json *response, td_parse_error *err)
{
	const td_json *e = td_json_get(response, "error");
	const td_json *type;
	const td_json *message;

	if (of_type(e, TD_JSON_STRING))
	{
		message = e;
		e = NULL;
	}
	else
	{
		if (!of_type(e, TD_JSON_OBJECT))
			e = response;
		message = of_type(td_json_get(e, "message"), TD_JSON_STRING);
	}
	type = of_type(td_json_get(e, "type"), TD_JSON_STRING);
	if (type == NULL || td_json_string_is(type, "error"))
		type = of_type(td_json_get(e, "code"), TD_JSON_STRING);

	err->status = TD_PARSE_API_ERROR;
	td_buf_puts(&err->message, "response is an API error");
	if (type)
	{
		td_buf_puts(&err->message, ": \"");
		td_buf_put_clipped(&err->message, type->str, type->len);
		td_buf_putc(&err->message, '"');
	}
	if (message)
		quoted_sentence(&err->detail, "The API said: ", message);
	return false;
}

/* The truncation error: the model stopped at its token limit. */
static bool
truncated(td_parse_error *err, const char *field, const char *value)
{
	td_error_set(err, TD_PARSE_TRUNCATED, "response was truncated at the token limit", NULL);
	td_buf_puts(&err->detail, "The model stopped with ");
	td_buf_puts(&err->detail, field);
	td_buf_puts(&err->detail, " \"");
	td_buf_puts(&err->detail, value);
	td_buf_puts(&err->detail, "\"; raise max_tokens or shorten the conversation asked for.");
	return false;
}

/* Turns from the text of a response's content (a string or text blocks). */
static bool
turns_from_content(parsed *p, const td_json *content, td_parse_error *err)
{
	td_buf		text;
	bool		ok;

	td_buf_init(&text);
	response_text(content, &text);
	ok = turns_from_text(p, text.data, text.len, err);
	td_buf_free(&text);
	return ok;
}

/* A Chat Completions response: the text of choices[0].message.content. */
static bool
turns_from_chat(parsed *p, const td_json *response, td_parse_error *err)
{
	const td_json *choices = td_json_get(response, "choices");
	const td_json *choice = (of_type(choices, TD_JSON_ARRAY) && choices->count > 0)
		? of_type(choices->items[0], TD_JSON_OBJECT) : NULL;
	const td_json *message = of_type(td_json_get(choice, "message"), TD_JSON_OBJECT);
	const td_json *content = td_json_get(message, "content");
	const td_json *refusal = of_type(td_json_get(message, "refusal"), TD_JSON_STRING);

	if (message == NULL)
		return td_error_set(err, TD_PARSE_BAD_INPUT, "response has no message in its first choice",
							"A Chat Completions response holds \"choices\": [{\"message\": {\"content\": ...}}].");
	note_metadata(p, response, choice);
	if (td_json_string_is(p->stop_reason, "length"))
		return truncated(err, "finish_reason", "length");
	if (refusal && (content == NULL || content->type == TD_JSON_NULL))
	{
		td_error_set(err, TD_PARSE_NO_CONVERSATION, "response is a refusal", NULL);
		quoted_sentence(&err->detail, "The model answered: ", refusal);
		return false;
	}
	return turns_from_content(p, content, err);
}

/* --- output ------------------------------------------------------------- */

/* A count's value: a non-negative whole JSON number, else -1. */
static double
count_of(const td_json *v)
{
	return (v && v->num >= 0 && v->num <= 9e15 && floor(v->num) == v->num) ? v->num : -1;
}

/* A count (a whole number up to 9e15), or null for -1. */
static void
write_number_or_null(td_doc *out, double n)
{
	if (n >= 0)
		out->ops->integer(out, (long long) n);
	else
		out->ops->null(out);
}

/* A JSON number that is a non-negative integer; else null. */
static void
write_count(td_doc *out, const td_json *v)
{
	write_number_or_null(out, count_of(v));
}

/* The most tokens a response may report, each count and both together: a conversation stores them as integer. */
#define MAX_TOKENS 2147483647.0

/*
 * Every input token of the call, -1 when none is reported: a Chat
 * Completions response's prompt tokens (the cached ones among them), a
 * Messages response's input tokens plus its cache reads and writes (which
 * Anthropic reports apart), so that input_tokens means the same for both.
 */
static double
input_total(const parsed *p)
{
	double		in = count_of(p->input_tokens),
				r,
				w;

	if (p->chat || p->as_1_1)
		return in;
	r = count_of(p->cache_read);
	w = count_of(p->cache_write);
	if (in < 0 && r < 0 && w < 0)
		return -1;
	return (in > 0 ? in : 0) + (r > 0 ? r : 0) + (w > 0 ? w : 0);
}

/*
 * The cached input tokens read, -1 when not reported or without a count of
 * the input: at most the input (a Chat Completions response claiming more
 * cached than prompt tokens is taken at its prompt tokens).
 */
static double
cache_read_count(const parsed *p)
{
	double		r = count_of(p->cache_read),
				in = input_total(p);

	if (in < 0 || r > MAX_TOKENS || p->as_1_1)
		return -1;				/* (past what a log stores: not reported, as response_usage reads it) */
	return r > in ? in : r;
}

/* A count as the response wrote it (clipped as messages quote), or 0 when absent. */
static void
put_count_text(td_buf *buf, const td_json *v)
{
	if (v)
		td_buf_put_clipped(buf, v->str, v->len);
	else
		td_buf_putc(buf, '0');
}

/* A number's value when above 0, else 0 (for the bound: any number, whole or not). */
static double
positive(const td_json *v)
{
	return v && v->num > 0 ? v->num : 0;
}

/*
 * Are the usage counts within what a conversation stores?  A count past it
 * is no model's (refused, as a response that cannot be stored: the same
 * error for every caller, rather than a cast failing later in one of them).
 */
static bool
counts_fit(const parsed *p, td_parse_error *err)
{
	double		in = positive(p->input_tokens) +
		(p->chat || p->as_1_1 ? 0 : positive(p->cache_read) + positive(p->cache_write)),
				outn = positive(p->output_tokens);

	if (in <= MAX_TOKENS && outn <= MAX_TOKENS && in + outn <= MAX_TOKENS)
		return true;
	err->status = TD_PARSE_BAD_INPUT;
	td_buf_puts(&err->message, "response reports more tokens than can be stored: ");
	put_count_text(&err->message, p->input_tokens);
	td_buf_puts(&err->message, " in, ");
	put_count_text(&err->message, p->output_tokens);
	td_buf_puts(&err->message, " out");
	if (!p->chat && !p->as_1_1 && (p->cache_read || p->cache_write))
	{
		td_buf_puts(&err->message, ", ");
		put_count_text(&err->message, p->cache_read);
		td_buf_puts(&err->message, " read from the cache, ");
		put_count_text(&err->message, p->cache_write);
		td_buf_puts(&err->message, " written to it");
	}
	td_buf_puts(&err->detail, "A conversation stores at most 2147483647 tokens, input and output together.");
	return false;
}

/* A string value (model, stop_reason), or null. */
static void
write_string_or_null(td_doc *out, const td_json *v)
{
	if (v)
		out->ops->string(out, v->str, v->len);
	else
		out->ops->null(out);
}

/* A string parameter, or NULL when absent or blank. */
static const td_json *
param_string(const td_json *params, const char *key)
{
	const td_json *v = td_json_get(params, key);

	return (v && v->type == TD_JSON_STRING && !is_blank(v->str, v->len)) ? v : NULL;
}

/* "<persona> - <topic> (<emotion>)", the title when the response has none. */
static void
fallback_title(const td_json *params, td_buf *title)
{
	const td_json *persona = param_string(params, "persona");
	const td_json *topic = param_string(params, "topic");
	const td_json *emotion = param_string(params, "emotion");

	if (persona)
		td_buf_append(title, persona->str, persona->len);
	else
		td_buf_puts(title, "User");
	td_buf_puts(title, " - ");
	if (topic)
		td_buf_append(title, topic->str, topic->len);
	else
		td_buf_puts(title, "General Discussion");
	if (emotion)
	{
		td_buf_puts(title, " (");
		td_buf_append(title, emotion->str, emotion->len);
		td_buf_puts(title, ")");
	}
}

/*
 * Write the result object (as a document: JSON text, or straight into a
 * jsonb value, which then needs no text parsed back).
 */
static void
write_result(const parsed *p, const td_json *params, td_doc *out)
{
	out->ops->begin_object(out);
	td_doc_key(out, "title");
	if (p->title)
		out->ops->string(out, p->title, p->title_len);
	else
	{
		td_buf		title;

		td_buf_init(&title);
		fallback_title(params, &title);
		out->ops->string(out, title.data, title.len);
		td_buf_free(&title);
	}
	td_doc_key(out, "turns");
	out->ops->begin_array(out);
	for (size_t i = 0; i < p->nturns; i++)
	{
		out->ops->begin_object(out);
		td_doc_key(out, "role");
		td_doc_string(out, p->turns[i].role);
		td_doc_key(out, "content");
		out->ops->string(out, p->turns[i].content, p->turns[i].len);
		out->ops->end_object(out);
	}
	out->ops->end_array(out);
	td_doc_key(out, "input_tokens");
	write_number_or_null(out, input_total(p));
	td_doc_key(out, "output_tokens");
	write_count(out, p->output_tokens);
	/* (the cache's counts only when reported: the input tokens include them) */
	if (cache_read_count(p) >= 0)
	{
		td_doc_key(out, "cache_read_tokens");
		write_number_or_null(out, cache_read_count(p));
	}
	if (!p->chat && !p->as_1_1 && count_of(p->cache_write) >= 0)
	{
		td_doc_key(out, "cache_write_tokens");
		write_count(out, p->cache_write);
	}
	td_doc_key(out, "model");
	write_string_or_null(out, p->model);
	td_doc_key(out, "stop_reason");
	write_string_or_null(out, p->stop_reason);
	out->ops->end_object(out);
}

#define NOT_A_RESPONSE \
	"response is not a Messages or Chat Completions response, a conversation object or text"

/* Find the turns of any accepted response shape. */
static bool
find_turns(parsed *p, const td_json *response, td_parse_error *err)
{
	const td_json *turns;

	if (response->type == TD_JSON_STRING)
		return turns_from_text(p, response->str, response->len, err);
	if (response->type != TD_JSON_OBJECT)
		return td_error_set(err, TD_PARSE_BAD_INPUT, NOT_A_RESPONSE,
						 "Pass the API's JSON response, {\"title\": ..., \"turns\": [...]}, or the model's text as a JSON string.");
	if (is_api_error(response))
		return api_error(response, err);
	if ((turns = turns_array(response)) != NULL)
		return turns_from_json(p, response, turns, err);
	if (td_json_get(response, "choices") != NULL)
		return turns_from_chat(p, response, err);
	if (td_json_get(response, "content") != NULL)
	{
		note_metadata(p, response, NULL);
		if (td_json_string_is(p->stop_reason, "max_tokens"))
			return truncated(err, "stop_reason", "max_tokens");
		return turns_from_content(p, td_json_get(response, "content"), err);
	}
	return td_error_set(err, TD_PARSE_BAD_INPUT, NOT_A_RESPONSE,
					 "An object must hold \"content\" (a Messages API response), \"choices\" (a Chat Completions response) or \"turns\".");
}

/* See parse_response.h. */
bool
td_parse_response(const td_json *response, const td_json *params,
				  td_buf *out, td_parse_error *err)
{
	td_doc_text text;

	td_doc_text_init(&text, out);
	return td_parse_response_doc(response, params, &text.doc, err);
}

/* See parse_response.h. */
bool
td_parse_response_doc(const td_json *response, const td_json *params,
					  td_doc *out, td_parse_error *err)
{
	return td_parse_response_doc_as(response, params, false, out, err);
}

/* See parse_response.h. */
bool
td_parse_response_doc_as(const td_json *response, const td_json *params, bool as_1_1,
						 td_doc *out, td_parse_error *err)
{
	parsed		p;
	bool		ok;

	memset(&p, 0, sizeof(p));
	p.as_1_1 = as_1_1;
	td_arena_init(&p.arena);
	td_error_init(err);

	ok = find_turns(&p, response, err);
	if (ok && p.nturns < TD_MIN_TURNS)
	{
		err->status = TD_PARSE_TOO_FEW_TURNS;
		td_buf_puts(&err->message, "response has ");
		td_buf_put_long(&err->message, (long long) p.nturns);
		td_buf_puts(&err->message, p.nturns == 1 ? " turn" : " turns");
		td_buf_puts(&err->detail, "A conversation needs at least two turns.");
		ok = false;
	}
	if (ok)
		ok = counts_fit(&p, err);
	if (ok)
		write_result(&p, params, out);
	td_arena_free(&p.arena);
	return ok;
}
