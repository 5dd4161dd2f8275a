/*
 * render_test.c — unit tests of the template renderer (src/core/render.c).
 */
#include <string.h>

#include "render.h"
#include "unit.h"

/* Render with JSON-text arguments; the result object or "ERROR: message". */
static const char *
render(const char *tmpl, const char *params, const char *vars, bool html)
{
	static char result[65536];
	td_arena	arena;
	td_json_error jerr;
	td_json    *p = NULL,
			   *v = NULL;
	td_render_error err;
	td_buf		out;

	td_arena_init(&arena);
	if (params)
		p = td_json_parse(&arena, params, strlen(params), &jerr);
	if (vars)
		v = td_json_parse(&arena, vars, strlen(vars), &jerr);
	td_buf_init(&out);
	if (td_render(tmpl, strlen(tmpl), p, v, html, &out, &err))
		snprintf(result, sizeof(result), "%s", out.data);
	else
		snprintf(result, sizeof(result), "ERROR: %s", err.message.data);
	td_error_free(&err);
	td_buf_free(&out);
	td_arena_free(&arena);
	return result;
}

/* Check that the result contains a fragment. */
static void
has(const char *got, const char *fragment, const char *desc)
{
	ok(strstr(got, fragment) != NULL, desc);
	if (strstr(got, fragment) == NULL)
		printf("#   wanted: %s\n#   got:    %.300s\n", fragment, got);
}

/* Occurrences of needle in haystack. */
static int
count(const char *haystack, const char *needle)
{
	int			n = 0;

	for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

int
main(void)
{
	const char *r;
	static char big[30000];

	r = render("Hi {{name}}!", "{\"name\":\"Ann\"}", "[{\"name\":\"name\",\"type\":\"text\"}]", false);
	ok(strcmp(r, "{\"resolved\":\"Hi Ann!\",\"parameters\":{\"name\":\"Ann\"},\"missing_required\":[],"
			  "\"errors\":[],\"warnings\":[],\"success\":true}") == 0, "simple substitution, whole result");

	r = render("{{ a }}|{{b.c}}|{{f ? 'yes' : 'no'}}|{{g?'y':'n'}}", "{\"a\":1.50,\"b\":{\"c\":true},\"f\":\"0\",\"g\":0}", NULL, false);
	has(r, "\"resolved\":\"1.50|true|yes|n\"", "trim, dot path, truthiness of \"0\" and 0");

	r = render("{{o}} {{arr}}", "{\"o\":{\"k\":\"v\"},\"arr\":[1,\"x\"]}", NULL, false);
	has(r, "\"resolved\":\"{\\\"k\\\":\\\"v\\\"} [1,\\\"x\\\"]\"", "objects and arrays substitute as JSON");

	r = render("{{x}} and {{y.z}}", "{\"x\":null,\"y\":{}}", NULL, false);
	has(r, "\"resolved\":\"{{x}} and {{y.z}}\"", "null and missing members stay");
	has(r, "unresolved placeholders: {{x}}, {{y.z}}", "unresolved placeholders are warned about");

	/* a number given for a text variable is held to the text limit */
	{
		static char digits[10020];

		memset(digits, 0, sizeof(digits));
		strcpy(digits, "{\"a\":1");
		memset(digits + strlen(digits), '0', 10000);
		strcat(digits, "}");
		r = render("{{a}}", digits, "[{\"name\":\"a\",\"type\":\"text\"}]", false);
		has(r, "is longer than 10000 characters", "a number of 10,001 digits for a text variable is refused");
	}

	/* a value that quotes a placeholder, or joins the template's text into
	 * one, is data: only the template's own placeholders are warned about */
	r = render("Explain {{q}} x}} {{gone}}", "{\"q\":\"the syntax {{name}} and {{y\"}", NULL, false);
	has(r, "\"unresolved placeholders: {{gone}}\"]", "placeholders in values are not warned about");
	ok(count(r, "unresolved") == 1, "one unresolved warning, of the template's placeholder");
	r = render("{{z}} {{z}} {{w}} {{z}}", "{}", NULL, false);
	has(r, "\"unresolved placeholders: {{z}}, {{w}}\"]", "each unresolved placeholder listed once");
	r = render("{{q}}", "{\"q\":\"{{name}}\"}", "[{\"name\":\"q\",\"type\":\"text\"}]", false);
	has(r, "\"warnings\":[]", "a value that is a placeholder is not warned about");

	r = render("{{t}} {{e ? '<b>' : ''}}", "{\"t\":\"<a href='/x'>&\\\"\",\"e\":[]}", NULL, true);
	has(r, "\"resolved\":\"&lt;a href=&#x27;&#x2F;x&#x27;&gt;&amp;&quot; &lt;b&gt;\"", "HTML escaping of values and literals; [] is truthy");

	r = render("{{topic}}", "{}", "[{\"name\":\"topic\",\"type\":\"text\",\"defaultValue\":\"money\"}]", false);
	has(r, "\"resolved\":\"money\"", "default applied");
	has(r, "\"parameters\":{\"topic\":\"money\"}", "default shows in parameters");

	r = render("{{topic}}", "{\"topic\":\"\"}", "[{\"name\":\"topic\",\"type\":\"text\",\"defaultValue\":\"money\"}]", false);
	has(r, "\"resolved\":\"money\"", "empty string gets the default");

	r = render("{{a}} {{b}}", "{}", "[{\"name\":\"a\",\"type\":\"text\"},{\"name\":\"b\",\"type\":\"number\"}]", false);
	has(r, "\"missing_required\":[\"a\",\"b\"]", "required without default");
	has(r, "\"resolved\":null", "no resolution on errors");
	has(r, "\"success\":false", "failure");
	has(r, "parameter \\\"a\\\" is required but was not provided", "required message");

	r = render("{{n}}", "{\"n\":\"12abc\"}", "[{\"name\":\"n\",\"type\":\"number\"}]", false);
	has(r, "must be a number", "non-numeric string");
	r = render("{{n}}", "{\"n\":\" -1.5e3 \"}", "[{\"name\":\"n\",\"type\":\"number\"}]", false);
	has(r, "\"success\":true", "numeric string with spaces and exponent");
	r = render("{{n}}", "{\"n\":\"Infinity\"}", "[{\"name\":\"n\",\"type\":\"number\"}]", false);
	has(r, "must be a finite number", "Infinity");
	r = render("{{n}}", "{\"n\":1e400}", "[{\"name\":\"n\",\"type\":\"number\"}]", false);
	has(r, "must be a finite number", "overflowing number");
	r = render("{{n}}", "{\"n\":-1000000000000001}", "[{\"name\":\"n\",\"type\":\"number\"}]", false);
	has(r, "must be between -1e15 and 1e15", "out of range");
	r = render("{{n}}", "{\"n\":1000000000000000}", "[{\"name\":\"n\",\"type\":\"number\"}]", false);
	has(r, "\"success\":true", "1e15 itself is allowed");
	r = render("{{n}}", "{\"n\":true}", "[{\"name\":\"n\",\"type\":\"number\"}]", false);
	has(r, "must be a number", "boolean is not a number");

	r = render("{{d}}", "{\"d\":\"c\"}", "[{\"name\":\"d\",\"type\":\"dropdown\",\"options\":[\"a\",\"b\"]}]", false);
	has(r, "parameter \\\"d\\\" must be one of: a, b", "dropdown value not an option");
	has(r, "\"actual_value\":\"c\"", "actual value reported");
	has(r, "\"expected_type\":\"dropdown\"", "expected type reported");

	/* another user's dropdown of many long options, or a long name: the message is clipped */
	r = render("{{d}}", "{\"d\":\"z\"}",
			   "[{\"name\":\"d\",\"type\":\"dropdown\",\"options\":[\"o1\",\"o2\",\"o3\",\"o4\",\"o5\",\"o6\","
			   "\"o7\",\"o8\",\"o9\",\"o10\",\"o11\",\"oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo12\"]}]",
			   false);
	has(r, "must be one of: o1, o2, o3, o4, o5, o6, o7, o8, o9, o10 and 2 more\"", "options listed: the first 10, the rest counted");
	r = render("{{d}}", "{\"d\":\"z\"}",
			   "[{\"name\":\"d\",\"type\":\"dropdown\",\"options\":[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]}]",
			   false);
	has(r, "must be one of: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"", "an option clipped to 64 characters");
	r = render("{{vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv}}", "{}",
			   "[{\"name\":\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\",\"type\":\"text\"}]",
			   false);
	has(r, "\"message\":\"parameter \\\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv...\\\" is required",
		"a long variable name clipped in the message");

	r = render("{{t}}", "{\"t\":{\"x\":1}}", "[{\"name\":\"t\",\"type\":\"text\"}]", false);
	has(r, "must be text", "object for a text variable");

	memset(big, 'x', 10001);
	big[10001] = '\0';
	{
		static char params[30100];

		snprintf(params, sizeof(params), "{\"t\":\"%s\"}", big);
		r = render("{{t}}", params, "[{\"name\":\"t\",\"type\":\"text\"}]", false);
		has(r, "is longer than 10000 characters", "text over the limit");
		/* 10000 two-byte characters are within the limit */
		for (int i = 0; i < 10000; i++)
			memcpy(big + 2 * i, "\xc3\xa9", 2);
		big[20000] = '\0';
		snprintf(params, sizeof(params), "{\"t\":\"%s\"}", big);
		r = render("x", params, "[{\"name\":\"t\",\"type\":\"text\"}]", false);
		has(r, "\"success\":true", "limit counts characters, not bytes");
	}

	r = render("{{a}}", "{\"a\":1,\"zz\":2}", "[{\"name\":\"a\",\"type\":\"number\"}]", false);
	has(r, "parameter \\\"zz\\\" is not declared by the template", "undeclared parameter warned");

	r = render("{{a b}} {{x}}", "{}", NULL, false);
	has(r, "template contains an unsafe expression: {{a b}}", "unsafe expression");
	has(r, "\"resolved\":null", "unsafe fails the render");

	/*
	 * Many small problems: the first 20 of a kind, then a count (a template
	 * of 1,000,000 "{{-}}" made 125 MB of errors).
	 */
	{
		static char tmpl[25 * 5 + 1],
					params[30 * 10 + 3];
		size_t		len = 1;

		for (int i = 0; i < 25; i++)
			memcpy(tmpl + 5 * i, "{{-}}", 5);
		params[0] = '{';
		for (int i = 0; i < 30; i++)
			len += (size_t) snprintf(params + len, sizeof(params) - len, "%s\"p%02d\":1", i ? "," : "", i);
		params[len++] = '}';
		r = render(tmpl, params, "[]", false);
		ok(count(r, "unsafe expression: {{-}}") == 20, "20 unsafe expressions listed");
		has(r, "5 more unsafe expressions in the template", "the other 5 counted");
		r = render("x", params, "[]", false);
		ok(count(r, "is not declared by the template") == 20, "20 undeclared parameters listed");
		has(r, "10 more parameters are not declared by the template", "the other 10 counted");
	}
	r = render("{{a.b.c}}", "{}", NULL, false);
	has(r, "unsafe expression: {{a.b.c}}", "two-level path is unsafe");
	r = render("{{x ? 'a' : \"b\"}}", "{}", NULL, false);
	has(r, "unsafe expression", "double-quoted literal is unsafe");
	r = render("{{constructor}}", "{}", NULL, false);
	has(r, "\"success\":true", "identifier-looking names are safe");

	r = render("{ {a}} {{}} {{a}b}} }} {{", "{\"a\":1}", NULL, false);
	has(r, "\"resolved\":\"{ {a}} {{}} {{a}b}} }} {{\"", "non-placeholders left alone");

	r = render("x", "[1]", NULL, false);
	ok(strcmp(r, "ERROR: parameters must be a JSON object") == 0, "parameters must be an object");
	r = render("x", "{}", "{}", false);
	ok(strcmp(r, "ERROR: variables must be a JSON array") == 0, "variables must be an array");
	r = render("x", "{}", "[{\"type\":\"text\"}]", false);
	ok(strcmp(r, "ERROR: variable 1 has no name") == 0, "variable without name");
	r = render("x", "{}", "[{\"name\":\"a\",\"type\":\"text\"},{\"name\":\"a\",\"type\":\"text\"}]", false);
	ok(strcmp(r, "ERROR: variable \"a\" is declared twice") == 0, "duplicate variable");
	r = render("x", "{}", "[{\"name\":\"d\",\"type\":\"dropdown\",\"options\":[]}]", false);
	ok(strcmp(r, "ERROR: dropdown variable \"d\" has no options") == 0, "dropdown without options");

	/* linear time: a pathological template of 200,000 "{" renders at once */
	{
		static char braces[200001];

		memset(braces, '{', 200000);
		braces[200000] = '\0';
		r = render(braces, "{}", NULL, false);
		ok(strncmp(r, "{\"resolved\":\"{{{{", 16) == 0, "200,000 opening braces render unchanged");
	}

	/* the rendered text is limited: 12,000 copies of a 1,000-byte parameter */
	{
		static char tmpl[5 * 12000 + 1];
		static char params[1000 + 16];

		for (int i = 0; i < 12000; i++)
			memcpy(tmpl + 5 * i, "{{p}}", 5);
		snprintf(params, sizeof(params), "{\"p\":\"%01000d\"}", 0);
		r = render(tmpl, params, NULL, false);
		ok(strcmp(r, "ERROR: rendered template exceeds the limit of 4 MB") == 0, "12 MB of rendered text is refused");
		tmpl[5 * 4000] = '\0';
		r = render(tmpl, params, NULL, false);
		ok(strncmp(r, "{\"resolved\":\"0000", 17) == 0, "4,000,000 bytes are under the limit and render");
	}
	return unit_done();
}
