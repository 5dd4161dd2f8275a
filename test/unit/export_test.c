/*
 * export_test.c — unit tests of the training-file line writer
 * (src/core/export.c): every shape and include flag on one fixture, exact
 * expected lines, and the escaping of every control character.
 */
#include <stdio.h>
#include <string.h>

#include "export.h"
#include "td_json.h"
#include "unit.h"

#define T(str) ((td_text) {(str), sizeof(str) - 1})
#define NO_TEXT ((td_text) {NULL, 0})

static const td_export_turn turns[] = {
	{T("user"), T("Hello, \"Ann\" here")},
	{T("assistant"), T("Hi Ann.")},
	{T("user"), T("Bye")},
	{T("assistant"), T("Bye!")},
};

/* The fixture conversation. */
static td_export_conversation
fixture(void)
{
	td_export_conversation c;

	memset(&c, 0, sizeof(c));
	c.conversation_id = T("tpl_ann_000001");
	c.title = T("Ann - saving (calm)");
	c.tier = T("template");
	c.quality_score = T("8.5");
	c.created_at = T("2025-01-01T10:00:00.000000Z");
	c.updated_at = T("2025-01-02T10:00:00.000000Z");
	c.review_history = T("[{\"action\": \"approved\", \"comment\": \"a, b: \\\"c\\\" \\\\\"}]");
	c.persona = T("Ann");
	c.emotion = T("calm");
	c.topic = T("");
	c.turns = turns;
	c.nturns = 4;
	return c;
}

/* The line of c under o, in a static buffer. */
static const char *
line(const td_export_conversation *c, const td_export_options *o)
{
	static char result[4096];
	td_buf		out;

	td_buf_init(&out);
	td_export_line(c, o, &out);
	snprintf(result, sizeof(result), "%.*s", (int) out.len, out.data);
	td_buf_free(&out);
	return result;
}

/* Check a line exactly, printing both on a mismatch. */
static void
is(const char *got, const char *want, const char *desc)
{
	if (strcmp(got, want) != 0)
		printf("# got:  %s\n# want: %s\n", got, want);
	ok(strcmp(got, want) == 0, desc);
}

#define MSGS "\"messages\":[{\"role\":\"user\",\"content\":\"Hello, \\\"Ann\\\" here\"},{\"role\":\"assistant\",\"content\":\"Hi Ann.\"}," \
	"{\"role\":\"user\",\"content\":\"Bye\"},{\"role\":\"assistant\",\"content\":\"Bye!\"}]"

int
main(void)
{
	td_export_conversation c = fixture();
	td_export_options o = td_export_defaults();

	is(line(&c, &o), "{" MSGS ",\"metadata\":{\"conversation_id\":\"tpl_ann_000001\",\"title\":\"Ann - saving (calm)\","
	   "\"tier\":\"template\",\"quality_score\":8.5,\"created_at\":\"2025-01-01T10:00:00.000000Z\","
	   "\"updated_at\":\"2025-01-02T10:00:00.000000Z\",\"persona\":\"Ann\",\"emotion\":\"calm\"}}",
	   "original shape, default flags: empty topic left out");

	o.include_quality_scores = false;
	o.include_timestamps = false;
	o.include_approval_history = true;
	o.include_parent_references = true;
	is(line(&c, &o), "{" MSGS ",\"metadata\":{\"conversation_id\":\"tpl_ann_000001\",\"title\":\"Ann - saving (calm)\","
	   "\"tier\":\"template\",\"review_history\":[{\"action\":\"approved\",\"comment\":\"a, b: \\\"c\\\" \\\\\"}],\"persona\":\"Ann\",\"emotion\":\"calm\"}}",
	   "history included, no parent to reference, scores and timestamps left out");

	c.parent_id = T("c7000000-0000-0000-0000-000000000002");
	c.parent_type = T("conversation");
	c.quality_score = NO_TEXT;
	o.include_quality_scores = true;
	o.include_approval_history = false;
	is(line(&c, &o), "{" MSGS ",\"metadata\":{\"conversation_id\":\"tpl_ann_000001\",\"title\":\"Ann - saving (calm)\","
	   "\"tier\":\"template\",\"quality_score\":null,\"parent_id\":\"c7000000-0000-0000-0000-000000000002\","
	   "\"parent_type\":\"conversation\",\"persona\":\"Ann\",\"emotion\":\"calm\"}}",
	   "parent references; a NULL score is null");

	o.include_metadata = false;
	is(line(&c, &o), "{" MSGS "}", "no metadata");

	o = td_export_defaults();
	o.shape = TD_SHAPE_OPENAI;
	is(line(&c, &o), "{" MSGS "}", "openai shape: messages only");
	o.system_message = T("You are a financial planner.");
	o.last_turn_only = true;
	is(line(&c, &o), "{\"messages\":[{\"role\":\"system\",\"content\":\"You are a financial planner.\"},"
	   "{\"role\":\"user\",\"content\":\"Hello, \\\"Ann\\\" here\"},{\"role\":\"assistant\",\"content\":\"Hi Ann.\",\"weight\":0},"
	   "{\"role\":\"user\",\"content\":\"Bye\"},{\"role\":\"assistant\",\"content\":\"Bye!\",\"weight\":1}]}",
	   "openai shape: system message, weight 1 on the last assistant turn only");

	o.shape = TD_SHAPE_SHAREGPT;
	is(line(&c, &o), "{\"conversations\":[{\"from\":\"human\",\"value\":\"Hello, \\\"Ann\\\" here\"},"
	   "{\"from\":\"gpt\",\"value\":\"Hi Ann.\"},{\"from\":\"human\",\"value\":\"Bye\"},{\"from\":\"gpt\",\"value\":\"Bye!\"}]}",
	   "sharegpt shape");

	/* every control character, quotes, backslashes, emoji, CJK */
	{
		char		content[64];
		td_export_turn hard[1];
		size_t		n = 0;
		td_arena	arena;
		td_json_error err;
		td_json    *v;
		td_buf		out;
		const td_json *got;

		for (int ch = 1; ch < 0x20; ch++)
			content[n++] = (char) ch;
		memcpy(content + n, "\"\\/\x7f\xf0\x9f\x98\x80\xe5\xb9\xb4", 11);
		n += 11;
		hard[0].role = T("user");
		hard[0].content = (td_text) {content, n};
		c = fixture();
		c.turns = hard;
		c.nturns = 1;
		o = td_export_defaults();
		o.include_metadata = false;
		td_buf_init(&out);
		td_export_line(&c, &o, &out);
		td_arena_init(&arena);
		v = td_json_parse(&arena, out.data, out.len, &err);
		ok(v != NULL, "a line with every control character parses");
		got = v ? td_json_get(td_json_get(v, "messages")->items[0], "content") : NULL;
		ok(got != NULL && got->len == n && memcmp(got->str, content, n) == 0, "and the content comes back byte for byte");
		ok(memchr(out.data, '\n', out.len) == NULL && memchr(out.data, '\r', out.len) == NULL, "no raw line break in a line");
		ok(strstr(out.data, "\\u0001") != NULL && strstr(out.data, "\\u001f") != NULL && strstr(out.data, "\\\\") != NULL,
		   "control characters as \\u00XX, backslash doubled");
		ok(strstr(out.data, "\xf0\x9f\x98\x80\xe5\xb9\xb4") != NULL, "emoji and CJK kept as they are");
		td_arena_free(&arena);
		td_buf_free(&out);
	}
	return unit_done();
}
