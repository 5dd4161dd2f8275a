/*
 * validate_test.c — unit tests of the OpenAI-style line checks
 * (src/core/validate.c): a good example, and each error alone; what the
 * cookbook counts of a line (its roles, its estimated tokens).
 */
#include <string.h>

#include "validate.h"
#include "unit.h"

/* The errors of a NUL-terminated line. */
static unsigned
errors(const char *line)
{
	return td_validate_line(line, strlen(line), NULL);
}

/* What td_validate_line counts of a NUL-terminated line. */
static td_line_facts
facts(const char *line)
{
	td_line_facts f;

	(void) td_validate_line(line, strlen(line), &f);
	return f;
}

/* The facts' checks: roles, and tokens as the cookbook counts them. */
static void
facts_tests(void)
{
	td_line_facts f;

	/* 3 + (3 + 1 + "Be kind." 2) + (3 + 1 + "Hi" 1) + (3 + 1 + "Hello" 2) */
	f = facts("{\"messages\":[{\"role\":\"system\",\"content\":\"Be kind.\"},{\"role\":\"user\",\"content\":\"Hi\"},"
			  "{\"role\":\"assistant\",\"content\":\"Hello\"}]}");
	ok(f.messages && f.system && f.user && f.tokens == 20, "a good example's facts: 20 tokens");
	/* characters, not bytes: five of three bytes each are 2 tokens; a name is its tokens and 1 */
	f = facts("{\"messages\":[{\"role\":\"assistant\",\"content\":\"\u65e5\u672c\u8a9e\u3067\u3059\"},"
			  "{\"role\":\"function\",\"name\":\"f\",\"content\":\"42\"}]}");
	ok(f.messages && !f.system && !f.user && f.tokens == 3 + 6 + 7, "characters and a name");
	/* a message that is not an object still costs its 3 */
	f = facts("{\"messages\":[\"x\"]}");
	ok(f.messages && f.tokens == 6, "a message that is not an object");
	f = facts("{\"messages\":[]}");
	ok(!f.messages && f.tokens == 0, "no messages, no facts");
	f = facts("{\"messages\":");
	ok(!f.messages && !f.user && f.tokens == 0, "not JSON, no facts");
	ok(td_text_tokens("", 0) == 0 && td_text_tokens("abcd", 4) == 1 && td_text_tokens("abcde", 5) == 2,
	   "a quarter of the characters, rounded up");
}

int
main(void)
{
	ok(errors("{\"messages\":[{\"role\":\"system\",\"content\":\"Be kind.\"},{\"role\":\"user\",\"content\":\"Hi\"},"
			  "{\"role\":\"assistant\",\"content\":\"Hello\",\"weight\":1}]}") == 0, "a good example");
	ok(errors("{\"messages\":[") == TD_LINE_NOT_JSON, "not JSON");
	ok(errors("[1]") == TD_LINE_DATA_TYPE, "not an object");
	ok(errors("{\"conversations\":[]}") == TD_LINE_MISSING_MESSAGES, "no messages");
	ok(errors("{\"messages\":[]}") == TD_LINE_MISSING_MESSAGES, "empty messages");
	/* each check on its own, as the cookbook's: a missing key hides no other error */
	ok(errors("{\"messages\":[{\"role\":\"user\"},{\"role\":\"assistant\",\"content\":\"x\"}]}") ==
	   (TD_LINE_MESSAGE_MISSING_KEY | TD_LINE_MISSING_CONTENT), "a message without content");
	ok(errors("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\"}]}") ==
	   (TD_LINE_MESSAGE_MISSING_KEY | TD_LINE_MISSING_CONTENT), "an assistant message without content is the assistant's");
	ok(errors("{\"messages\":[{\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\"}]}") ==
	   (TD_LINE_MESSAGE_MISSING_KEY | TD_LINE_UNRECOGNIZED_ROLE), "a message without a role");
	ok(errors("{\"messages\":[\"x\",{\"role\":\"assistant\",\"content\":\"y\"}]}") ==
	   TD_LINE_MESSAGE_MISSING_KEY, "a message that is not an object");
	ok(errors("{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"mood\":1},{\"role\":\"assistant\",\"content\":\"y\"}]}") ==
	   TD_LINE_MESSAGE_UNRECOGNIZED_KEY, "an unrecognized key");
	ok(errors("{\"messages\":[{\"role\":\"human\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\"}]}") ==
	   TD_LINE_UNRECOGNIZED_ROLE, "an unrecognized role");
	ok(errors("{\"messages\":[{\"role\":\"user\",\"content\":\"\"},{\"role\":\"assistant\",\"content\":null}]}") ==
	   TD_LINE_MISSING_CONTENT, "empty and null content");
	ok(errors("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}") == TD_LINE_MISSING_ASSISTANT, "no assistant message");
	/* the cookbook's: a function call stands for empty content, a function may answer */
	ok(errors("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"\","
			  "\"function_call\":{\"name\":\"f\",\"arguments\":\"{}\"}},{\"role\":\"function\",\"name\":\"f\","
			  "\"content\":\"42\"}]}") == 0, "a function call and its answer");
	ok(errors("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"\","
			  "\"function_call\":{}}]}") == TD_LINE_MISSING_CONTENT, "an empty function call is no content");
	ok(errors("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":null,"
			  "\"function_call\":{\"name\":\"f\"}}]}") == TD_LINE_MISSING_CONTENT, "content must still be a string");
	/* not the cookbook's: a weight the fine-tuning API refuses */
	ok(errors("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\",\"weight\":0},"
			  "{\"role\":\"user\",\"content\":\"z\"},{\"role\":\"assistant\",\"content\":\"w\",\"weight\":1.0}]}") == 0,
	   "weights 0 and 1 on assistant messages");
	ok(errors("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\",\"weight\":0.5}]}") ==
	   TD_LINE_INVALID_WEIGHT, "a weight of 0.5");
	ok(errors("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\",\"weight\":\"1\"}]}") ==
	   TD_LINE_INVALID_WEIGHT, "a weight that is a string");
	ok(errors("{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"weight\":1},{\"role\":\"assistant\",\"content\":\"y\"}]}") ==
	   TD_LINE_INVALID_WEIGHT, "a weight on a user message");
	ok(strcmp(td_line_error_name(8), "invalid_weight") == 0, "the weight's error name");
	ok(strcmp(td_line_error_name(2), "missing_messages_list") == 0 && td_line_error_name(TD_LINE_ERROR_COUNT) == NULL,
	   "error names");
	facts_tests();
	return unit_done();
}
