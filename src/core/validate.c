/*
 * validate.c — OpenAI-style checks of a training-file line.  See validate.h.
 */
#include "validate.h"

#include <string.h>

#include "td_utf8.h"

static const char *const error_names[TD_LINE_ERROR_COUNT] = {
	"invalid_json", "data_type", "missing_messages_list", "message_missing_key",
	"message_unrecognized_key", "unrecognized_role", "missing_content",
	"example_missing_assistant_message", "invalid_weight",
};

/* See validate.h. */
const char *
td_line_error_name(int i)
{
	return (i >= 0 && i < TD_LINE_ERROR_COUNT) ? error_names[i] : NULL;
}

/* Is key one a message may have? */
static bool
known_key(const char *key, size_t len)
{
	static const char *const known[] = {"role", "content", "name", "function_call", "weight", NULL};

	for (int i = 0; known[i]; i++)
		if (len == strlen(known[i]) && memcmp(key, known[i], len) == 0)
			return true;
	return false;
}

/* Is a JSON value "truthy" as Python takes it (not null, false, 0, "", [] or {})? */
static bool
truthy(const td_json *v)
{
	switch (v->type)
	{
		case TD_JSON_NULL:
		case TD_JSON_FALSE:
			return false;
		case TD_JSON_NUMBER:
			return v->num != 0;
		case TD_JSON_STRING:
			return v->len > 0;
		case TD_JSON_ARRAY:
		case TD_JSON_OBJECT:
			return v->count > 0;
		default:
			return true;
	}
}

/* See validate.h. */
long long
td_text_tokens(const char *s, size_t len)
{
	return ((long long) td_utf8_count(s, len) + 3) / 4;
}

/*
 * The estimated tokens of one message as the cookbook counts them (with
 * cl100k_base): 3 for the message, its role (1: each role is one token),
 * its content and name, 1 more for a name; other values are not text.
 */
static long long
message_tokens(const td_json *m, const td_json *role, const td_json *content)
{
	const td_json *name = td_json_get(m, "name");
	long long	n = 3;

	if (role != NULL && role->type == TD_JSON_STRING)
		n += 1;
	if (content != NULL && content->type == TD_JSON_STRING)
		n += td_text_tokens(content->str, content->len);
	if (name != NULL && name->type == TD_JSON_STRING)
		n += td_text_tokens(name->str, name->len) + 1;
	return n;
}

/*
 * The errors of one message, as the cookbook's checks find them, each on
 * its own, so a missing key does not hide the others (a function_call may
 * stand for the content, a function may answer), and a weight the API
 * refuses (other than 0 or 1, or on a message not the assistant's);
 * *assistant set when it is the assistant's, and what facts counts (its
 * role, its tokens).  A message that is not an object lacks its keys.
 */
static unsigned
check_message(const td_json *m, bool *assistant, td_line_facts *facts)
{
	const td_json *role,
			   *content,
			   *call,
			   *weight;
	unsigned	errors = 0;

	if (m->type != TD_JSON_OBJECT)
	{
		facts->tokens += 3;
		return TD_LINE_MESSAGE_MISSING_KEY;
	}
	role = td_json_get(m, "role");
	content = td_json_get(m, "content");
	call = td_json_get(m, "function_call");
	facts->tokens += message_tokens(m, role, content);
	if (role != NULL && td_json_string_is(role, "system"))
		facts->system = true;
	if (role != NULL && td_json_string_is(role, "user"))
		facts->user = true;
	if (role == NULL || content == NULL)
		errors |= TD_LINE_MESSAGE_MISSING_KEY;
	for (size_t k = 0; k < m->count && TD_CHECK_FOR_INTERRUPTS_EXPR(); k++)
		if (!known_key(m->members[k].key, m->members[k].key_len))
			errors |= TD_LINE_MESSAGE_UNRECOGNIZED_KEY;
	if (role == NULL || (!td_json_string_is(role, "system") && !td_json_string_is(role, "user") &&
						 !td_json_string_is(role, "assistant") && !td_json_string_is(role, "function")))
		errors |= TD_LINE_UNRECOGNIZED_ROLE;
	if (content == NULL || content->type != TD_JSON_STRING ||
		(content->len == 0 && (call == NULL || !truthy(call))))
		errors |= TD_LINE_MISSING_CONTENT;
	if (role != NULL && td_json_string_is(role, "assistant"))
		*assistant = true;
	if ((weight = td_json_get(m, "weight")) != NULL &&
		(weight->type != TD_JSON_NUMBER || (weight->num != 0 && weight->num != 1) ||
		 !td_json_string_is(role, "assistant")))
		errors |= TD_LINE_INVALID_WEIGHT;
	return errors;
}

/* See validate.h. */
unsigned
td_validate_line(const char *line, size_t len, td_line_facts *facts)
{
	td_arena	arena;
	td_json_error err;
	const td_json *v,
			   *messages;
	unsigned	errors = 0;
	bool		assistant = false;
	td_line_facts counted = {0};

	td_arena_init(&arena);
	v = td_json_parse(&arena, line, len, &err);
	if (v == NULL)
		errors = TD_LINE_NOT_JSON;
	else if (v->type != TD_JSON_OBJECT)
		errors = TD_LINE_DATA_TYPE;
	else if ((messages = td_json_get(v, "messages")) == NULL || messages->type != TD_JSON_ARRAY ||
			 messages->count == 0)
		errors = TD_LINE_MISSING_MESSAGES;
	else
	{
		counted.messages = true;
		counted.tokens = 3;		/* (the cookbook's: every reply is primed with 3) */
		for (size_t i = 0; i < messages->count && TD_CHECK_FOR_INTERRUPTS_EXPR(); i++)
			errors |= check_message(messages->items[i], &assistant, &counted);
		if (!assistant)
			errors |= TD_LINE_MISSING_ASSISTANT;
	}
	td_arena_free(&arena);
	if (facts != NULL)
		*facts = counted;
	return errors;
}
