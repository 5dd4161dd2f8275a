/*
 * parse_response_test.c — unit tests of the response parser
 * (src/core/parse_response.c).
 */
#include <string.h>

#include "parse_response.h"
#include "unit.h"

/*
 * Parse a JSON-text response (its tokens as 1.0 and 1.1 read them when
 * as_1_1); the result, or "ERROR(status): message".
 */
static const char *
parse_as(const char *response, const char *params, bool as_1_1)
{
	static char result[8192];
	td_arena	arena;
	td_json_error jerr;
	td_json    *r,
			   *p = NULL;
	td_parse_error err;
	td_buf		out;
	td_doc_text text;

	td_arena_init(&arena);
	r = td_json_parse(&arena, response, strlen(response), &jerr);
	if (r == NULL)
	{
		td_arena_free(&arena);
		return "BAD TEST INPUT";
	}
	if (params)
		p = td_json_parse(&arena, params, strlen(params), &jerr);
	td_buf_init(&out);
	td_doc_text_init(&text, &out);
	if (td_parse_response_doc_as(r, p, as_1_1, &text.doc, &err))
		snprintf(result, sizeof(result), "%s", out.data);
	else
		snprintf(result, sizeof(result), "ERROR(%d): %s", (int) err.status, err.message.data);
	td_error_free(&err);
	td_buf_free(&out);
	td_arena_free(&arena);
	return result;
}

/* Parse a JSON-text response as parse_generation_response() does. */
static const char *
parse(const char *response, const char *params)
{
	return parse_as(response, params, false);
}

/* Check exact equality. */
static void
is(const char *got, const char *expected, const char *desc)
{
	ok(strcmp(got, expected) == 0, desc);
	if (strcmp(got, expected) != 0)
		printf("#   wanted: %s\n#   got:    %s\n", expected, got);
}

#define TWO_TURNS "[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"hello\"}]"
#define RESULT_TAIL ",\"input_tokens\":null,\"output_tokens\":null,\"model\":null,\"stop_reason\":null}"

int
main(void)
{
	is(parse("{\"title\":\" T \",\"turns\":" TWO_TURNS "}", NULL),
	   "{\"title\":\"T\",\"turns\":" TWO_TURNS RESULT_TAIL, "turns object, title trimmed");

	is(parse("{\"id\":\"m\",\"type\":\"message\",\"model\":\"claude-x\",\"stop_reason\":\"end_turn\","
			 "\"usage\":{\"input_tokens\":10,\"output_tokens\":20},"
			 "\"content\":[{\"type\":\"text\",\"text\":\"{\\\"turns\\\":\"},"
			 "{\"type\":\"tool_use\",\"id\":\"t\"},"
			 "{\"type\":\"text\",\"text\":\"" "[{\\\"role\\\":\\\"USER\\\",\\\"content\\\":\\\"hi\\\"},"
			 "{\\\"role\\\":\\\"Assistant\\\",\\\"content\\\":\\\"hello\\\"}]}\"}]}",
			 "{\"persona\":\"Ann\",\"topic\":\"money\",\"emotion\":\"calm\"}"),
	   "{\"title\":\"Ann - money (calm)\",\"turns\":" TWO_TURNS
	   ",\"input_tokens\":10,\"output_tokens\":20,\"model\":\"claude-x\",\"stop_reason\":\"end_turn\"}",
	   "Messages API response: text blocks joined, roles normalised, metadata, fallback title");

	is(parse("\"Sure!\\n```json\\n{\\\"turns\\\":" "[{\\\"role\\\":\\\"user\\\",\\\"content\\\":\\\"hi\\\"},"
			 "{\\\"role\\\":\\\"assistant\\\",\\\"content\\\":\\\"hello\\\"}]}\\n```\\nEnjoy.\"", NULL),
	   "{\"title\":\"User - General Discussion\",\"turns\":" TWO_TURNS RESULT_TAIL,
	   "fenced JSON in text; default title");

	is(parse("\"Here it is: {\\\"messages\\\":" "[{\\\"role\\\":\\\"user\\\",\\\"content\\\":\\\"hi\\\"},"
			 "{\\\"role\\\":\\\"assistant\\\",\\\"content\\\":\\\"hello\\\"}]} -- done\"", NULL),
	   "{\"title\":\"User - General Discussion\",\"turns\":" TWO_TURNS RESULT_TAIL,
	   "JSON inside prose, messages key");

	is(parse("\"Intro line\\nUser: hi\\n  more\\nassistant:hello  \\n\\nASSISTANT: again\"", "{\"persona\":\"Bo\"}"),
	   "{\"title\":\"Bo - General Discussion\",\"turns\":[{\"role\":\"user\",\"content\":\"hi\\n  more\"},"
	   "{\"role\":\"assistant\",\"content\":\"hello\"},{\"role\":\"assistant\",\"content\":\"again\"}]" RESULT_TAIL,
	   "user:/assistant: lines, continuation lines, preamble ignored");

	is(parse("{\"content\":[{\"type\":\"text\",\"text\":\"user: a\\nassistant: b\"}],\"stop_reason\":\"max_tokens\"}", NULL),
	   "ERROR(3): response was truncated at the token limit", "max_tokens is refused");
	is(parse("{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}", NULL),
	   "ERROR(2): response is an API error: \"rate_limit_error\"", "API error object");
	is(parse("42", NULL), "ERROR(1): response is not a Messages or Chat Completions response, a conversation object or text",
	   "a number is not a response");
	is(parse("{\"foo\":1}", NULL), "ERROR(1): response is not a Messages or Chat Completions response, a conversation object or text",
	   "an unrelated object");
	is(parse("\"just prose\"", NULL), "ERROR(4): response holds no conversation", "prose without turns");
	is(parse("\"```json\\n{\\\"turns\\\": [}\\n```\"", NULL), "ERROR(4): response holds no conversation",
	   "broken fenced JSON");
	is(parse("{\"turns\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"bot\",\"content\":\"b\"}]}", NULL),
	   "ERROR(5): turn 2 of the response has role \"bot\"", "bad role names the turn");
	is(parse("{\"turns\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"  \"}]}", NULL),
	   "ERROR(5): turn 2 of the response has no content", "blank content");
	is(parse("{\"turns\":[{\"content\":\"a\"}]}", NULL), "ERROR(5): turn 1 of the response has no role", "missing role");
	is(parse("{\"turns\":[\"a\",\"b\"]}", NULL), "ERROR(5): turn 1 of the response is not an object", "turn not an object");
	is(parse("{\"turns\":[{\"role\":\"user\",\"content\":\"a\"}]}", NULL), "ERROR(6): response has 1 turn", "one turn");
	is(parse("{\"turns\":[]}", NULL), "ERROR(6): response has 0 turns", "no turns");
	is(parse("\"user:\\nassistant: b\"", NULL), "ERROR(5): turn 1 of the response has no content", "empty line turn");

	/* OpenAI Chat Completions responses (and OpenAI-compatible servers) */
	is(parse("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini-2024-07-18\","
			 "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
			 "\"```json\\n{\\\"title\\\":\\\"Chat\\\",\\\"turns\\\":"
			 "[{\\\"role\\\":\\\"user\\\",\\\"content\\\":\\\"hi\\\"},"
			 "{\\\"role\\\":\\\"assistant\\\",\\\"content\\\":\\\"hello\\\"}]}\\n```\","
			 "\"refusal\":null},\"finish_reason\":\"stop\"},{\"index\":1,\"message\":{\"content\":\"ignored\"}}],"
			 "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34,\"total_tokens\":46}}", NULL),
	   "{\"title\":\"Chat\",\"turns\":" TWO_TURNS
	   ",\"input_tokens\":12,\"output_tokens\":34,\"model\":\"gpt-4o-mini-2024-07-18\",\"stop_reason\":\"stop\"}",
	   "Chat Completions: first choice's content, usage prompt/completion tokens, finish_reason as stop_reason");
	/* the prompt cache: input_tokens counts every input token, the cache's counts are among them */
	is(parse("{\"type\":\"message\",\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":50,"
			 "\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":900,\"output_tokens\":20},"
			 "\"content\":[{\"type\":\"text\",\"text\":\"user: hi\\nassistant: hello\"}]}", NULL),
	   "{\"title\":\"User - General Discussion\",\"turns\":" TWO_TURNS
	   ",\"input_tokens\":1050,\"output_tokens\":20,\"cache_read_tokens\":900,\"cache_write_tokens\":100,"
	   "\"model\":null,\"stop_reason\":\"end_turn\"}",
	   "Messages: cache reads and writes added to the input tokens, and given apart");
	is(parse("{\"choices\":[{\"message\":{\"content\":\"user: hi\\nassistant: hello\"},\"finish_reason\":\"stop\"}],"
			 "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":7,"
			 "\"prompt_tokens_details\":{\"cached_tokens\":900},\"completion_tokens_details\":{\"reasoning_tokens\":5}}}",
			 NULL),
	   "{\"title\":\"User - General Discussion\",\"turns\":" TWO_TURNS
	   ",\"input_tokens\":1000,\"output_tokens\":7,\"cache_read_tokens\":900,\"model\":null,\"stop_reason\":\"stop\"}",
	   "Chat Completions: cached tokens are among the prompt tokens; reasoning tokens among the completion tokens");
	is(parse("{\"choices\":[{\"message\":{\"content\":\"user: hi\\nassistant: hello\"},\"finish_reason\":\"stop\"}],"
			 "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":7,\"prompt_tokens_details\":{\"cached_tokens\":50}}}",
			 NULL),
	   "{\"title\":\"User - General Discussion\",\"turns\":" TWO_TURNS
	   ",\"input_tokens\":10,\"output_tokens\":7,\"cache_read_tokens\":10,\"model\":null,\"stop_reason\":\"stop\"}",
	   "Chat Completions: more cached than prompt tokens is taken at the prompt tokens");
	is(parse("{\"type\":\"message\",\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":2147483000,"
			 "\"cache_read_input_tokens\":1000,\"output_tokens\":0},"
			 "\"content\":[{\"type\":\"text\",\"text\":\"user: hi\\nassistant: hello\"}]}", NULL),
	   "ERROR(1): response reports more tokens than can be stored: 2147483000 in, 0 out, 1000 read from the cache, "
	   "0 written to it",
	   "Messages: the cache's tokens count toward the bound");
	is(parse("{\"type\":\"message\",\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":100,"
			 "\"cache_read_input_tokens\":3000000000,\"output_tokens\":50},"
			 "\"content\":[{\"type\":\"text\",\"text\":\"user: hi\\nassistant: hello\"}]}", NULL),
	   "ERROR(1): response reports more tokens than can be stored: 100 in, 50 out, 3000000000 read from the cache, "
	   "0 written to it",
	   "Messages: a refusal for the cache's tokens names them");
	is(parse_as("{\"type\":\"message\",\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":50,"
				"\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":900,\"output_tokens\":20},"
				"\"content\":[{\"type\":\"text\",\"text\":\"user: hi\\nassistant: hello\"}]}", NULL, true),
	   "{\"title\":\"User - General Discussion\",\"turns\":" TWO_TURNS
	   ",\"input_tokens\":50,\"output_tokens\":20,\"model\":null,\"stop_reason\":\"end_turn\"}",
	   "as 1.1 reads it: a Messages response's own input tokens, no cache counts");
	is(parse("{\"choices\":[{\"message\":{\"content\":\"user: hi\\nassistant: hello\"},\"finish_reason\":\"stop\"}],"
			 "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":7,\"prompt_tokens_details\":{\"cached_tokens\":3000000000}}}",
			 NULL),
	   "{\"title\":\"User - General Discussion\",\"turns\":" TWO_TURNS
	   ",\"input_tokens\":10,\"output_tokens\":7,\"model\":null,\"stop_reason\":\"stop\"}",
	   "Chat Completions: a cached count past what a log stores is not read (as response_usage reads it)");
	is(parse("{\"type\":\"message\",\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":5,"
			 "\"cache_read_input_tokens\":\"many\",\"cache_creation_input_tokens\":-3,\"output_tokens\":2},"
			 "\"content\":[{\"type\":\"text\",\"text\":\"user: hi\\nassistant: hello\"}]}", NULL),
	   "{\"title\":\"User - General Discussion\",\"turns\":" TWO_TURNS
	   ",\"input_tokens\":5,\"output_tokens\":2,\"model\":null,\"stop_reason\":\"end_turn\"}",
	   "Messages: cache counts that are not counts are left out");
	is(parse("{\"model\":\"llama\",\"choices\":[{\"message\":{\"content\":"
			 "[{\"type\":\"text\",\"text\":\"user: a\\n\"},{\"type\":\"text\",\"text\":\"assistant: b\"}]},"
			 "\"finish_reason\":\"stop\"}]}", NULL),
	   "{\"title\":\"User - General Discussion\",\"turns\":[{\"role\":\"user\",\"content\":\"a\"},"
	   "{\"role\":\"assistant\",\"content\":\"b\"}],\"input_tokens\":null,\"output_tokens\":null,"
	   "\"model\":\"llama\",\"stop_reason\":\"stop\"}",
	   "Chat Completions: content as text parts, no usage");
	is(parse("{\"choices\":[{\"message\":{\"content\":\"user: a\\nassistant: b\"},\"finish_reason\":\"length\"}]}", NULL),
	   "ERROR(3): response was truncated at the token limit", "finish_reason length is refused as truncated");
	is(parse("{\"choices\":[{\"message\":{\"content\":\"{\\\"turns\\\": [}\"},\"finish_reason\":\"stop\"}]}", NULL),
	   "ERROR(4): response holds no conversation", "Chat Completions: malformed JSON in the text");
	is(parse("{\"choices\":[{\"message\":{\"content\":null,\"refusal\":\"I cannot help\"},\"finish_reason\":\"stop\"}]}", NULL),
	   "ERROR(4): response is a refusal", "Chat Completions: a refusal");
	is(parse("{\"choices\":[{\"message\":{\"content\":null},\"finish_reason\":\"stop\"}]}", NULL),
	   "ERROR(4): response holds no conversation", "Chat Completions: null content");
	is(parse("{\"choices\":[]}", NULL), "ERROR(1): response has no message in its first choice", "no choices");
	is(parse("{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}", NULL),
	   "ERROR(1): response has no message in its first choice", "a stream chunk is not a response");
	is(parse("{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}", NULL),
	   "ERROR(2): response is an API error: \"requests\"", "OpenAI error object");
	is(parse("{\"error\":{\"message\":\"bad key\",\"type\":null,\"code\":\"invalid_api_key\"}}", NULL),
	   "ERROR(2): response is an API error: \"invalid_api_key\"", "OpenAI error object: code when no type");
	is(parse("{\"object\":\"error\",\"message\":\"model not found\",\"type\":\"NotFoundError\",\"code\":404}", NULL),
	   "ERROR(2): response is an API error: \"NotFoundError\"", "OpenAI-compatible server error object");
	is(parse("{\"error\":\"boom\"}", NULL), "ERROR(2): response is an API error", "error as a string");
	return unit_done();
}
