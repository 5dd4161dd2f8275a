/*
 * parse_response.h — turn a model's response into a conversation (pure C core
 * of parse_generation_response).
 *
 * Accepted inputs:
 *   - an Anthropic Messages API response: the text of its "text" content
 *     blocks, concatenated, is parsed as below; model, stop_reason and usage
 *     tokens (input_tokens, output_tokens) are reported;
 *   - an OpenAI Chat Completions response (also what OpenAI-compatible
 *     servers return): the text of choices[0].message.content (a string or
 *     text parts) is parsed as below; model, the choice's finish_reason (as
 *     stop_reason) and usage tokens (prompt_tokens, completion_tokens) are
 *     reported; a refusal without content is refused;
 *   - an API error object of either (Anthropic {"type": "error", "error":
 *     {type, message}}, OpenAI {"error": {message, type, code}}, or
 *     {"object": "error", "message": …}) is refused, naming its type;
 *   - an object holding "turns" (or "messages") and optionally "title";
 *   - a string: JSON inside a ``` fence, JSON alone, JSON surrounded by prose
 *     (from the first "{" to the last "}"), or else lines that begin with
 *     "user:" / "assistant:" (any case), each starting a turn, other lines
 *     continuing the current one.
 * Every turn needs a role (user or assistant, any case) and non-blank
 * content; a conversation needs at least two turns.  A response stopped at
 * the token limit (stop_reason "max_tokens", finish_reason "length") is
 * refused as truncated.
 */
#ifndef TD_PARSE_RESPONSE_H
#define TD_PARSE_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "td_doc.h"
#include "td_json.h"
#include "td_mem.h"
#include "td_text.h"

#define TD_MIN_TURNS 2

typedef enum td_parse_status
{
	TD_PARSE_OK,
	TD_PARSE_BAD_INPUT,			/* not a response, turns object or text */
	TD_PARSE_API_ERROR,			/* an API error object */
	TD_PARSE_TRUNCATED,			/* stop_reason max_tokens, finish_reason length */
	TD_PARSE_NO_CONVERSATION,	/* no turns could be found */
	TD_PARSE_BAD_TURN,			/* a turn without a valid role or content */
	TD_PARSE_TOO_FEW_TURNS
} td_parse_status;

/* A parse failure: status is a td_parse_status. */
typedef td_error td_parse_error;

/*
 * Parse response; params (an object or NULL) supplies persona, topic and
 * emotion for the fallback title.  On success appends
 * {title, turns[{role, content}], input_tokens, output_tokens,
 * [cache_read_tokens, cache_write_tokens,] model, stop_reason} to out
 * (input_tokens counting every input token, the prompt cache's included)
 * and returns true; otherwise fills err (whose buffers
 * the caller frees with td_error_free) and returns false.
 */
extern bool td_parse_response(const td_json *response, const td_json *params,
							  td_buf *out, td_parse_error *err);

/* The same, the result written to a document writer (td_doc.h). */
extern bool td_parse_response_doc(const td_json *response, const td_json *params,
								  td_doc *out, td_parse_error *err);

/*
 * The same; as_1_1 gives input_tokens as versions 1.0 and 1.1 read it (the
 * response's own count: a Messages response's cache tokens left out) and
 * no cache counts, for the SQL of those versions still running on this
 * library until ALTER EXTENSION ... UPDATE.
 */
extern bool td_parse_response_doc_as(const td_json *response, const td_json *params, bool as_1_1,
									 td_doc *out, td_parse_error *err);

#endif							/* TD_PARSE_RESPONSE_H */
