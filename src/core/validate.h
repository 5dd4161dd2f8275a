/*
 * validate.h — the checks OpenAI's chat fine-tuning data preparation
 * cookbook runs on each line of a JSONL training file (pure C core of
 * validate_training_line): a JSON object with a "messages" array of
 * {role, content[, name, weight]} objects with a known role and string
 * content, and at least one assistant message; and one the cookbook does
 * not run, which the fine-tuning API enforces: a weight is 0 or 1, on an
 * assistant message.  Besides the errors, what the cookbook counts of a
 * line and warns about: no system message, no user message, and more
 * tokens than a model takes (an estimate: no tokenizer here).
 */
#ifndef TD_VALIDATE_H
#define TD_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "td_json.h"

/* The errors, one bit each, in the cookbook's order. */
typedef enum td_line_error
{
	TD_LINE_NOT_JSON = 1 << 0,
	TD_LINE_DATA_TYPE = 1 << 1,	/* the line is not an object */
	TD_LINE_MISSING_MESSAGES = 1 << 2,	/* no "messages" array (or empty) */
	TD_LINE_MESSAGE_MISSING_KEY = 1 << 3,	/* a message without role or content */
	TD_LINE_MESSAGE_UNRECOGNIZED_KEY = 1 << 4,	/* a key other than role, content, name, weight */
	TD_LINE_UNRECOGNIZED_ROLE = 1 << 5, /* a role other than system, user, assistant */
	TD_LINE_MISSING_CONTENT = 1 << 6,	/* content not a non-empty string */
	TD_LINE_MISSING_ASSISTANT = 1 << 7, /* no assistant message */
	TD_LINE_INVALID_WEIGHT = 1 << 8,	/* not the cookbook's: a weight the API refuses */
} td_line_error;

#define TD_LINE_ERROR_COUNT 9

/* The name of error bit i (0-based), e.g. "missing_messages_list". */
extern const char *td_line_error_name(int i);

/*
 * What the cookbook counts of a line with a messages array (when it has
 * none, messages is false and the rest is zero).
 */
typedef struct td_line_facts
{
	bool		messages;		/* a non-empty "messages" array */
	bool		system;			/* a message whose role is "system" */
	bool		user;			/* a message whose role is "user" */
	long long	tokens;			/* estimated tokens: td_line_tokens' count */
} td_line_facts;

/*
 * The errors of one line of UTF-8 text (0 when it is a good example); with
 * facts not NULL, also what the cookbook counts of it.
 */
extern unsigned td_validate_line(const char *line, size_t len, td_line_facts *facts);

/*
 * Estimated tokens of a string value, as turns' token_count: a quarter of
 * its characters, rounded up.
 */
extern long long td_text_tokens(const char *s, size_t len);

#endif							/* TD_VALIDATE_H */
