/*
 * export_test.c — unit tests of the training-file line writer
 * (src/core/export.c): every shape and include flag on one fixture, exact
 * expected lines, and the escaping of every control character.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_document.h"
#include "td_json.h"
#include "unit.h"

#define T(str) ((td_text) {(str), sizeof(str) - 1})
#define NO_TEXT ((td_text) {NULL, 0})


static const td_export_turn turns[] = {
	{T("user"), T("Hello, \"Ann\" here"), T("5")},
	{T("assistant"), T("Hi Ann."), T("0")},
	{T("user"), T("Bye"), NO_TEXT},
	{T("assistant"), T("Bye!\nSee you."), T("4")},
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
	c.id = T("c7000000-0000-0000-0000-000000000001");
	c.status = T("approved");
	c.category = T("[\"finance\", \"savings\"]");
	c.category_list = T("finance, savings");
	c.total_turns = T("4");
	c.token_count = T("9");
	c.parameters = T("{\"persona\": \"Ann\"}");
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

/*
 * The document of format f holding convs, its records joined with "\n" as
 * export_conversations returns them, in a static buffer.
 */
static const char *
document(td_export_format f, const td_export_options *base, const td_export_conversation *convs, int n)
{
	static char result[8192];
	td_export_options o = *base;
	td_export_writer w;
	td_buf		out,
				record;

	o.format = f;
	o.export_date = T("2025-03-01T12:00:00.000000Z");
	td_export_writer_init(&w, &o);
	td_buf_init(&out);
	td_export_header(&w, n, &out);
	for (int i = 0; i < n; i++)
	{
		td_buf_init(&record);
		td_export_record(&w, &convs[i], &record);
		if (record.len > 0)		/* CSV: a conversation without turns has no row */
		{
			if (out.len > 0)
				td_buf_putc(&out, '\n');
			td_buf_append(&out, record.data, record.len);
			if (i < n - 1)
				td_buf_puts(&out, td_export_separator(&w));
		}
		td_buf_free(&record);
	}
	if (n > 0 && f == TD_FORMAT_JSON)
		td_buf_putc(&out, '\n');
	td_export_footer(&w, &out);
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
	"{\"role\":\"user\",\"content\":\"Bye\"},{\"role\":\"assistant\",\"content\":\"Bye!\\nSee you.\"}]"

/*
 * A record that would grow past the writer's limit is refused before the
 * text that does not fit is written, at every step of the record, with
 * lengths that do not wrap (a limit of 600 bytes stands for the 1 GB one).
 */
static void
check_limit(void)
{
	td_export_conversation c = fixture();
	td_export_options o = td_export_defaults();
	td_export_writer w;
	td_buf		out;
	char		big[1000];
	td_export_turn t = {T("user"), {big, 600}, NO_TEXT};

	memset(big, 'x', sizeof(big));
	ok(TD_EXPORT_MAX_RECORD == 0x3FFFFFFF - 4, "the real limit: 1 GB less a value's header");

	td_export_writer_init(&w, &o);
	w.limit = 600;
	td_buf_init(&out);
	td_buf_puts(&out, "HDR!");	/* what the caller keeps before the record */
	td_export_begin(&w, &c, &out);
	ok(!w.too_long, "a short start fits");
	td_export_put_turn(&w, &c, &t, &out);
	ok(w.too_long, "a turn that takes the record past the limit is refused");
	ok(out.len - 4 <= 600, "and not written");
	td_export_put_turn(&w, &c, &turns[0], &out);
	td_export_end(&w, &c, &out);
	ok(w.too_long && out.len - 4 <= 600, "nothing is written after the refusal");

	td_buf_free(&out);
	td_buf_init(&out);
	td_export_begin(&w, &c, &out);
	ok(!w.too_long, "the next record starts afresh");
	t.content = (td_text) {big, ((size_t) -1) - 3};	/* a length whose sums wrap; never read */
	td_export_put_turn(&w, &c, &t, &out);
	ok(w.too_long, "a length near SIZE_MAX is refused, not wrapped");
	td_buf_free(&out);

	td_export_writer_init(&w, &o);
	w.limit = 600;
	c.title = (td_text) {big, 700};
	td_buf_init(&out);
	td_export_begin(&w, &c, &out);
	ok(w.too_long && out.len == 0, "a conversation whose own fields do not fit is refused at its start");
	td_buf_free(&out);

	o.format = TD_FORMAT_CSV;
	c = fixture();
	td_export_writer_init(&w, &o);
	w.limit = 400;
	td_buf_init(&out);
	td_export_begin(&w, &c, &out);
	for (int i = 0; i < 4 && !w.too_long; i++)
		td_export_put_turn(&w, &c, &turns[0], &out);
	ok(w.too_long && out.len <= 400, "CSV: the rows of a conversation count together");
	td_buf_free(&out);
}

/*
 * CSV: a field that starts with = + - @, a tab or a carriage return gets a
 * single quote in front, inside its quotes; other fields are as they were.
 */
static void
check_formulas(void)
{
	static const struct
	{
		const char *content;
		const char *field;
	}			cases[] = {
		{"=1+2", "\"'=1+2\""}, {"+1", "\"'+1\""}, {"-2", "\"'-2\""}, {"@SUM(A1)", "\"'@SUM(A1)\""},
		{"\tx", "\"'\tx\""}, {"\rx", "\"'\rx\""}, {"=\"q\"", "\"'=\"\"q\"\"\""},
		{"a=1", "\"a=1\""}, {" =1", "\" =1\""}, {"'=1", "\"'=1\""}, {"", "\"\""},
	};
	td_export_conversation c = fixture();
	td_export_options o = td_export_defaults();

	o.format = TD_FORMAT_CSV;
	o.include_metadata = false;
	o.include_quality_scores = false;
	o.include_timestamps = false;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		td_export_turn t = {T("user"), {cases[i].content, strlen(cases[i].content)}, NO_TEXT};
		char		want[256],
					desc[128];
		td_buf		out;

		c.turns = &t;
		c.nturns = 1;
		c.title = T("-title");
		td_buf_init(&out);
		td_export_line(&c, &o, &out);
		snprintf(want, sizeof(want), "\"c7000000-0000-0000-0000-000000000001\",\"'-title\",\"approved\",\"template\","
				 "\"1\",\"user\",%s,\"\"", cases[i].field);
		snprintf(desc, sizeof(desc), "CSV field %zu (and a title starting with -)", i);
		is(out.data, want, desc);
		td_buf_free(&out);
	}
}

/*
 * Markdown: user text in the heading and the metadata list cannot make
 * structure: markup characters are backslash-escaped, line breaks become
 * spaces; the export's own values and the dialogue are as they were.
 */
static void
check_markdown_escaping(void)
{
	td_export_conversation c = fixture();
	td_export_options o = td_export_defaults();
	td_buf		out;

	o.format = TD_FORMAT_MARKDOWN;
	o.include_timestamps = false;
	o.include_quality_scores = false;
	c.title = T("*Bold* [link](http://x) <b>#1</b> a_b `c` | ~d~ &amp; \\ ##\n# Injected\r\n---");
	c.persona = T("Ann\n## Fake heading");
	c.topic = T("saving");
	c.category_list = T("[x](y)");
	c.turns = NULL;
	c.nturns = 0;
	td_buf_init(&out);
	td_export_line(&c, &o, &out);
	is(out.data,
	   "\n## Conversation: \\*Bold\\* \\[link\\](http://x) \\<b\\>\\#1\\</b\\> a\\_b \\`c\\` \\| \\~d\\~ \\&amp; \\\\ \\#\\#"
	   " \\# Injected  ---\n"
	   "\n"
	   "- **ID:** c7000000-0000-0000-0000-000000000001\n"
	   "- **Tier:** template\n"
	   "- **Status:** approved\n"
	   "- **Persona:** Ann \\#\\# Fake heading\n"
	   "- **Emotion:** calm\n"
	   "- **Topic:** saving\n"
	   "- **Categories:** \\[x\\](y)\n"
	   "- **Total Turns:** 4\n"
	   "- **Total Tokens:** 9\n"
	   "\n"
	   "### Dialogue\n"
	   "\n---",
	   "Markdown: title and metadata escaped");
	td_buf_free(&out);
}

/*
 * A Markdown turn quotes every line, a line ending at LF, CR or CR LF; a
 * text of 200,000 lines ended by CR alone comes out line for line (read
 * once: the next LF is remembered, not searched for again per line).
 */
static void
check_markdown_lines(void)
{
	td_export_turn t;
	td_buf		out,
				want;
	size_t		n = 200000;
	char	   *cr_only = malloc(2 * n);

	memset(&t, 0, sizeof(t));
	t.role = T("user");
	t.content = T("a\rb\r\nc\n\nd\r");
	td_buf_init(&out);
	td_export_markdown_turn(NULL, &t, &out);
	is(out.data, "\n**User:**\n> a\n> b\n> c\n> \n> d\n> \n", "Markdown: CR, CR LF, LF and empty lines each quoted");
	td_buf_free(&out);

	for (size_t i = 0; i < n; i++)
	{
		cr_only[2 * i] = 'x';
		cr_only[2 * i + 1] = '\r';
	}
	t.content = (td_text) {cr_only, 2 * n};
	td_buf_init(&out);
	td_buf_init(&want);
	td_export_markdown_turn(NULL, &t, &out);
	td_buf_puts(&want, "\n**User:**\n");
	for (size_t i = 0; i < n; i++)
		td_buf_puts(&want, "> x\n");
	td_buf_puts(&want, "> \n");
	ok(out.len == want.len && memcmp(out.data, want.data, out.len) == 0, "Markdown: 200,000 lines ended by CR alone");
	td_buf_free(&out);
	td_buf_free(&want);
	free(cr_only);
}

/*
 * A JSON record lays out the levels of the document a line each down to
 * 32, and writes the members of deeper ones on one line: parameters
 * nested 12,000 deep (24,000 bytes) make a record of linear size, where
 * indenting every level wrote about 144 MB (a review of 1.2).
 */
static void
check_deep_values(void)
{
	td_export_conversation c = fixture();
	td_export_options o = td_export_defaults();
	td_export_writer w;
	td_buf		out;
	size_t		depth = 12000;
	char	   *deep = malloc(2 * depth);
	const char *p;
	size_t		lines = 0;

	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	c.parameters = (td_text) {deep, 2 * depth};
	o.format = TD_FORMAT_JSON;
	o.export_date = T("2025-03-01T12:00:00.000000Z");
	td_export_writer_init(&w, &o);
	td_buf_init(&out);
	td_export_record(&w, &c, &out);
	for (size_t i = 0; i < out.len; i++)
		lines += out.data[i] == '\n';
	ok(out.len < 4 * 2 * depth, "JSON: a value 12,000 deep makes a record of linear size");
	p = strstr(out.data, "\"parameters\": [");
	ok(p != NULL && strstr(p, "\n" "                                                            "
						   "    [[[[") != NULL,
	   "JSON: the 32nd level on a line of its own, 64 spaces in, the deeper ones on it");
	ok(p != NULL && strstr(p, "]]]]\n" "                                                              ]") != NULL,
	   "JSON: the deepest levels closed on that line, the 31st on the next");
	ok(lines < 100, "JSON: the record's lines stop at the 32nd level");
	td_buf_free(&out);
	free(deep);
}

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
	   "{\"role\":\"user\",\"content\":\"Bye\"},{\"role\":\"assistant\",\"content\":\"Bye!\\nSee you.\",\"weight\":1}]}",
	   "openai shape: system message, weight 1 on the last assistant turn only");

	o.shape = TD_SHAPE_SHAREGPT;
	is(line(&c, &o), "{\"conversations\":[{\"from\":\"human\",\"value\":\"Hello, \\\"Ann\\\" here\"},"
	   "{\"from\":\"gpt\",\"value\":\"Hi Ann.\"},{\"from\":\"human\",\"value\":\"Bye\"},{\"from\":\"gpt\",\"value\":\"Bye!\\nSee you.\"}]}",
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

		memset(hard, 0, sizeof(hard));
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

	/* the documents: the fixture and a second conversation without turns */
	{
		td_export_conversation two[2];

		two[0] = fixture();
		two[1] = fixture();
		two[1].id = T("c7000000-0000-0000-0000-000000000002");
		two[1].conversation_id = T("edge_bo_000002");
		two[1].title = T("");
		two[1].tier = T("edge_case");
		two[1].quality_score = T("6.0");
		two[1].topic = NO_TEXT;
		two[1].category = T("[]");
		two[1].category_list = T("");
		two[1].total_turns = T("0");
		two[1].token_count = T("0");
		two[1].parameters = T("{}");
		two[1].nturns = 0;
		o = td_export_defaults();
		is(document(TD_FORMAT_JSON, &o, two, 2),
		   "{\n"
		   "  \"version\": \"1.0\",\n"
		   "  \"export_date\": \"2025-03-01T12:00:00.000000Z\",\n"
		   "  \"conversation_count\": 2,\n"
		   "  \"conversations\": [\n"
		   "    {\n"
		   "      \"conversation_id\": \"tpl_ann_000001\",\n"
		   "      \"title\": \"Ann - saving (calm)\",\n"
		   "      \"status\": \"approved\",\n"
		   "      \"tier\": \"template\",\n"
		   "      \"turns\": [\n"
		   "        {\n"
		   "          \"role\": \"user\",\n"
		   "          \"content\": \"Hello, \\\"Ann\\\" here\",\n"
		   "          \"token_count\": 5\n"
		   "        },\n"
		   "        {\n"
		   "          \"role\": \"assistant\",\n"
		   "          \"content\": \"Hi Ann.\"\n"
		   "        },\n"
		   "        {\n"
		   "          \"role\": \"user\",\n"
		   "          \"content\": \"Bye\"\n"
		   "        },\n"
		   "        {\n"
		   "          \"role\": \"assistant\",\n"
		   "          \"content\": \"Bye!\\nSee you.\",\n"
		   "          \"token_count\": 4\n"
		   "        }\n"
		   "      ],\n"
		   "      \"metadata\": {\n"
		   "        \"persona\": \"Ann\",\n"
		   "        \"emotion\": \"calm\",\n"
		   "        \"topic\": \"\",\n"
		   "        \"category\": [\n"
		   "          \"finance\",\n"
		   "          \"savings\"\n"
		   "        ],\n"
		   "        \"total_turns\": 4,\n"
		   "        \"token_count\": 9,\n"
		   "        \"quality_score\": 8.5,\n"
		   "        \"created_at\": \"2025-01-01T10:00:00.000000Z\",\n"
		   "        \"updated_at\": \"2025-01-02T10:00:00.000000Z\",\n"
		   "        \"parameters\": {\n"
		   "          \"persona\": \"Ann\"\n"
		   "        }\n"
		   "      }\n"
		   "    },\n"
		   "    {\n"
		   "      \"conversation_id\": \"edge_bo_000002\",\n"
		   "      \"title\": \"\",\n"
		   "      \"status\": \"approved\",\n"
		   "      \"tier\": \"edge_case\",\n"
		   "      \"turns\": [],\n"
		   "      \"metadata\": {\n"
		   "        \"persona\": \"Ann\",\n"
		   "        \"emotion\": \"calm\",\n"
		   "        \"topic\": null,\n"
		   "        \"category\": [],\n"
		   "        \"total_turns\": 0,\n"
		   "        \"token_count\": 0,\n"
		   "        \"quality_score\": 6.0,\n"
		   "        \"created_at\": \"2025-01-01T10:00:00.000000Z\",\n"
		   "        \"updated_at\": \"2025-01-02T10:00:00.000000Z\"\n"
		   "      }\n"
		   "    }\n"
		   "  ],\n"
		   "  \"summary\": {\n"
		   "    \"total_turns\": 4,\n"
		   "    \"average_quality_score\": 7.25,\n"
		   "    \"tier_distribution\": {\n"
		   "      \"template\": 1,\n"
		   "      \"edge_case\": 1\n"
		   "    }\n"
		   "  }\n"
		   "}",
		   "JSON, default flags: pretty, summary, turns without token counts, empty lists");
		is(document(TD_FORMAT_JSON, &o, two, 0),
		   "{\n"
		   "  \"version\": \"1.0\",\n"
		   "  \"export_date\": \"2025-03-01T12:00:00.000000Z\",\n"
		   "  \"conversation_count\": 0,\n"
		   "  \"conversations\": [],\n"
		   "  \"summary\": {\n"
		   "    \"total_turns\": 0,\n"
		   "    \"tier_distribution\": {}\n"
		   "  }\n"
		   "}",
		   "JSON of no conversation");
		is(document(TD_FORMAT_CSV, &o, two, 2),
		   "\xEF\xBB\xBF" "\"Conversation ID\",\"Title\",\"Status\",\"Tier\",\"Turn Number\",\"Role\",\"Content\",\"Quality Score\",\"Persona\",\"Emotion\",\"Topic\",\"Created At\",\"Updated At\",\"Token Count\"\n"
		   "\"c7000000-0000-0000-0000-000000000001\",\"Ann - saving (calm)\",\"approved\",\"template\",\"1\",\"user\",\"Hello, \"\"Ann\"\" here\",\"8.5\",\"Ann\",\"calm\",\"\",\"2025-01-01T10:00:00.000000Z\",\"2025-01-02T10:00:00.000000Z\",\"5\"\n"
		   "\"c7000000-0000-0000-0000-000000000001\",\"Ann - saving (calm)\",\"approved\",\"template\",\"2\",\"assistant\",\"Hi Ann.\",\"8.5\",\"Ann\",\"calm\",\"\",\"2025-01-01T10:00:00.000000Z\",\"2025-01-02T10:00:00.000000Z\",\"0\"\n"
		   "\"c7000000-0000-0000-0000-000000000001\",\"Ann - saving (calm)\",\"approved\",\"template\",\"3\",\"user\",\"Bye\",\"8.5\",\"Ann\",\"calm\",\"\",\"2025-01-01T10:00:00.000000Z\",\"2025-01-02T10:00:00.000000Z\",\"\"\n"
		   "\"c7000000-0000-0000-0000-000000000001\",\"Ann - saving (calm)\",\"approved\",\"template\",\"4\",\"assistant\",\"Bye!\n"
		   "See you.\",\"8.5\",\"Ann\",\"calm\",\"\",\"2025-01-01T10:00:00.000000Z\",\"2025-01-02T10:00:00.000000Z\",\"4\"",
		   "CSV, default flags: BOM, header, quoted fields, a row per turn, none for no turns");
		is(document(TD_FORMAT_MARKDOWN, &o, two, 2),
		   "# Training Conversations Export\n"
		   "\n"
		   "**Export Date:** 2025-03-01T12:00:00.000000Z\n"
		   "**Total Conversations:** 2\n"
		   "\n"
		   "---\n"
		   "\n"
		   "## Conversation: Ann - saving (calm)\n"
		   "\n"
		   "- **ID:** c7000000-0000-0000-0000-000000000001\n"
		   "- **Tier:** template\n"
		   "- **Status:** approved\n"
		   "- **Persona:** Ann\n"
		   "- **Emotion:** calm\n"
		   "- **Quality Score:** 8.50\n"
		   "- **Categories:** finance, savings\n"
		   "- **Created:** 2025-01-01T10:00:00.000000Z\n"
		   "- **Updated:** 2025-01-02T10:00:00.000000Z\n"
		   "- **Total Turns:** 4\n"
		   "- **Total Tokens:** 9\n"
		   "\n"
		   "### Dialogue\n"
		   "\n"
		   "**User:**\n"
		   "> Hello, \"Ann\" here\n"
		   "\n"
		   "*Tokens: 5*\n"
		   "\n"
		   "**Assistant:**\n"
		   "> Hi Ann.\n"
		   "\n"
		   "**User:**\n"
		   "> Bye\n"
		   "\n"
		   "**Assistant:**\n"
		   "> Bye!\n"
		   "> See you.\n"
		   "\n"
		   "*Tokens: 4*\n"
		   "\n"
		   "---\n"
		   "\n"
		   "## Conversation: Untitled\n"
		   "\n"
		   "- **ID:** c7000000-0000-0000-0000-000000000002\n"
		   "- **Tier:** edge_case\n"
		   "- **Status:** approved\n"
		   "- **Persona:** Ann\n"
		   "- **Emotion:** calm\n"
		   "- **Quality Score:** 6.00\n"
		   "- **Created:** 2025-01-01T10:00:00.000000Z\n"
		   "- **Updated:** 2025-01-02T10:00:00.000000Z\n"
		   "- **Total Turns:** 0\n"
		   "\n"
		   "### Dialogue\n"
		   "\n"
		   "---",
		   "Markdown, default flags");
		o.include_metadata = o.include_timestamps = o.include_quality_scores = false;
		o.include_parent_references = o.include_approval_history = true;
		is(document(TD_FORMAT_JSON, &o, two, 1),
		   "{\n"
		   "  \"version\": \"1.0\",\n"
		   "  \"export_date\": \"2025-03-01T12:00:00.000000Z\",\n"
		   "  \"conversation_count\": 1,\n"
		   "  \"conversations\": [\n"
		   "    {\n"
		   "      \"conversation_id\": \"tpl_ann_000001\",\n"
		   "      \"title\": \"Ann - saving (calm)\",\n"
		   "      \"status\": \"approved\",\n"
		   "      \"tier\": \"template\",\n"
		   "      \"turns\": [\n"
		   "        {\n"
		   "          \"role\": \"user\",\n"
		   "          \"content\": \"Hello, \\\"Ann\\\" here\",\n"
		   "          \"token_count\": 5\n"
		   "        },\n"
		   "        {\n"
		   "          \"role\": \"assistant\",\n"
		   "          \"content\": \"Hi Ann.\"\n"
		   "        },\n"
		   "        {\n"
		   "          \"role\": \"user\",\n"
		   "          \"content\": \"Bye\"\n"
		   "        },\n"
		   "        {\n"
		   "          \"role\": \"assistant\",\n"
		   "          \"content\": \"Bye!\\nSee you.\",\n"
		   "          \"token_count\": 4\n"
		   "        }\n"
		   "      ]\n"
		   "    }\n"
		   "  ]\n"
		   "}",
		   "JSON without metadata: no metadata, no summary");
		is(document(TD_FORMAT_CSV, &o, two, 1),
		   "\xEF\xBB\xBF" "\"Conversation ID\",\"Title\",\"Status\",\"Tier\",\"Turn Number\",\"Role\",\"Content\",\"Token Count\",\"Parent ID\",\"Parent Type\"\n"
		   "\"c7000000-0000-0000-0000-000000000001\",\"Ann - saving (calm)\",\"approved\",\"template\",\"1\",\"user\",\"Hello, \"\"Ann\"\" here\",\"5\",\"\",\"\"\n"
		   "\"c7000000-0000-0000-0000-000000000001\",\"Ann - saving (calm)\",\"approved\",\"template\",\"2\",\"assistant\",\"Hi Ann.\",\"0\",\"\",\"\"\n"
		   "\"c7000000-0000-0000-0000-000000000001\",\"Ann - saving (calm)\",\"approved\",\"template\",\"3\",\"user\",\"Bye\",\"\",\"\",\"\"\n"
		   "\"c7000000-0000-0000-0000-000000000001\",\"Ann - saving (calm)\",\"approved\",\"template\",\"4\",\"assistant\",\"Bye!\n"
		   "See you.\",\"4\",\"\",\"\"",
		   "CSV with parent references only");
		is(document(TD_FORMAT_MARKDOWN, &o, two, 1),
		   "# Training Conversations Export\n"
		   "\n"
		   "**Export Date:** 2025-03-01T12:00:00.000000Z\n"
		   "**Total Conversations:** 1\n"
		   "\n"
		   "---\n"
		   "\n"
		   "## Conversation: Ann - saving (calm)\n"
		   "\n"
		   "### Dialogue\n"
		   "\n"
		   "**User:**\n"
		   "> Hello, \"Ann\" here\n"
		   "\n"
		   "*Tokens: 5*\n"
		   "\n"
		   "**Assistant:**\n"
		   "> Hi Ann.\n"
		   "\n"
		   "**User:**\n"
		   "> Bye\n"
		   "\n"
		   "**Assistant:**\n"
		   "> Bye!\n"
		   "> See you.\n"
		   "\n"
		   "*Tokens: 4*\n"
		   "\n"
		   "---",
		   "Markdown without metadata");
	}
	check_limit();
	check_formulas();
	check_markdown_escaping();
	check_markdown_lines();
	check_deep_values();
	return unit_done();
}
