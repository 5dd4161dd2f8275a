/*
 * json_test.c — unit tests of the JSON reader and writer (src/core/td_json.c)
 * and the UTF-8 helpers (src/core/td_utf8.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "td_json.h"
#include "td_utf8.h"
#include "unit.h"

/* Parse text and write it back compactly; "ERR@offset:message" on failure. */
static const char *
roundtrip(const char *text)
{
	static char result[4096];
	td_arena	arena;
	td_json_error err;
	td_json    *v;

	td_arena_init(&arena);
	v = td_json_parse(&arena, text, strlen(text), &err);
	if (v == NULL)
		snprintf(result, sizeof(result), "ERR@%zu:%s", err.offset, err.message);
	else
	{
		td_buf		out;

		td_buf_init(&out);
		td_json_write(&out, v);
		snprintf(result, sizeof(result), "%s", out.data);
		td_buf_free(&out);
	}
	td_arena_free(&arena);
	return result;
}

/* Compare and report. */
static void
expect(const char *input, const char *expected)
{
	const char *got = roundtrip(input);
	char		desc[300];

	snprintf(desc, sizeof(desc), "%s -> %s", input, expected);
	ok(strcmp(got, expected) == 0, desc);
	if (strcmp(got, expected) != 0)
		printf("#   got: %s\n", got);
}

/* A byte-by-byte JSON string escaper, the reference for td_json_write_string. */
static void
escape_slowly(td_buf *out, const char *s, size_t len)
{
	td_buf_putc(out, '"');
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char		tmp[8];

		if (c == '"' || c == '\\')
		{
			td_buf_putc(out, '\\');
			td_buf_putc(out, (char) c);
		}
		else if (c < 0x20)
		{
			const char *named = c == '\b' ? "\\b" : c == '\f' ? "\\f" : c == '\n' ? "\\n" :
				c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;

			if (named)
				td_buf_puts(out, named);
			else
			{
				snprintf(tmp, sizeof(tmp), "\\u%04x", c);
				td_buf_puts(out, tmp);
			}
		}
		else
			td_buf_putc(out, (char) c);
	}
	td_buf_putc(out, '"');
}

/* Does td_json_write_string write what escape_slowly writes for text? */
static bool
escapes_alike(const char *text, size_t len)
{
	td_buf		fast,
				slow;
	bool		same;

	td_buf_init(&fast);
	td_buf_init(&slow);
	td_json_write_string(&fast, text, len);
	escape_slowly(&slow, text, len);
	same = fast.len == slow.len && memcmp(fast.data, slow.data, fast.len) == 0;
	td_buf_free(&fast);
	td_buf_free(&slow);
	return same;
}

/*
 * td_json_write_string against escape_slowly: every byte value that is
 * special (or near a boundary) at every offset of texts of 0 to 40 bytes.
 */
static bool
escape_agrees(void)
{
	for (int special = 1; special < 256; special++)
		for (size_t len = 1; len <= 40; len++)
			for (size_t at = 0; at < len; at++)
			{
				char		text[40];

				memset(text, 'a' + (int) (len % 26), len);
				text[at] = (char) special;
				if (!escapes_alike(text, len))
					return false;
			}
	return true;
}

/*
 * td_json_write_string against escape_slowly on 20,000 pseudo-random texts
 * of 0 to 299 bytes, a third of their bytes special, so escapes come side by
 * side and across every 8- and 16-byte boundary.
 */
static bool
escape_agrees_on_runs(void)
{
	static const char pool[] = "\"\\\n\x01\x1f\x7f\x80\xe4\xff" "ab";
	uint32_t	seed = 12345;

	for (int n = 0; n < 20000; n++)
	{
		char		text[300];
		size_t		len = (size_t) (n % 300);

		for (size_t i = 0; i < len; i++)
		{
			seed = seed * 1103515245u + 12345u;
			text[i] = (seed >> 16) % 3 == 0 ? pool[(seed >> 20) % (sizeof(pool) - 1)] : (char) ('a' + (seed >> 24) % 26);
		}
		if (!escapes_alike(text, len))
			return false;
	}
	return true;
}

static int	interrupts = 0;

/* An interrupt handler that counts its calls. */
static void
count_interrupt(void)
{
	interrupts++;
}

int
main(void)
{
	char		deep[1200];
	td_buf		b;

	expect("{\"a\": [1, -2.5e3, true, false, null], \"b\": \"x\"}",
		   "{\"a\":[1,-2.5e3,true,false,null],\"b\":\"x\"}");
	expect("  \"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\"  ", "\"\xc3\xa9\xf0\x9f\x98\x80\\n\\t\\\"\\\\/\"");
	expect("\"\\u0001\\u001f\\u007f\"", "\"\\u0001\\u001f\x7f\"");
	expect("[]", "[]");
	expect("{}", "{}");
	expect("[1,]", "ERR@3:invalid token");
	expect("{\"a\" 1}", "ERR@5:expected \":\" after a member name");
	expect("01", "ERR@1:unexpected text after the JSON value");
	expect("1.", "ERR@2:invalid number");
	expect("-", "ERR@1:invalid number");
	expect("\"abc", "ERR@4:unterminated string");
	expect("\"a\nb\"", "ERR@2:control character in string");
	expect("\"\\x\"", "ERR@2:invalid escape sequence");
	expect("\"\\ud800\"", "ERR@7:high surrogate not followed by a low surrogate");
	expect("\"\\udc00\"", "ERR@7:lone low surrogate in \\u escape");
	expect("\"\\u0000\"", "ERR@7:\\u0000 cannot be converted to text");
	expect("\"\xff\"", "ERR@1:invalid UTF-8");
	expect("\"\xc0\xaf\"", "ERR@1:invalid UTF-8");
	expect("\"\xed\xa0\x80\"", "ERR@1:invalid UTF-8");
	/* strings are copied a run at a time: errors still point at the byte */
	expect("\"ab\xff\"", "ERR@3:invalid UTF-8");
	expect("\"a\xc3\xa9\xc3\"", "ERR@4:invalid UTF-8");
	expect("\"ab\ncd\"", "ERR@3:control character in string");
	expect("\"a\xc3\xa9" "b\\nc\\\"d\"", "\"a\xc3\xa9" "b\\nc\\\"d\"");
	expect("tru", "ERR@0:invalid token");
	expect("NaN", "ERR@0:invalid token");
	expect("", "ERR@0:unexpected end of input");
	expect("[1] [2]", "ERR@4:unexpected text after the JSON value");

	/* a string of more than one 64 kB run, multibyte characters across the seams */
	{
		static char in[200010];
		size_t		n = 0;

		in[n++] = '"';
		while (n < 200000)
		{
			in[n++] = 'x';
			in[n++] = '\xc3';
			in[n++] = '\xa9';
		}
		in[n++] = '"';
		in[n] = '\0';
		{
			td_arena	arena;
			td_json_error err;
			td_json    *v;

			td_arena_init(&arena);
			v = td_json_parse(&arena, in, n, &err);
			ok(v && v->type == TD_JSON_STRING && v->len == n - 2 && memcmp(v->str, in + 1, n - 2) == 0,
			   "a 200 kB string of multibyte characters reads back whole");
			td_arena_free(&arena);
		}
	}

	/* the depth limit */
	memset(deep, '[', 300);
	deep[300] = '\0';
	expect(deep, "ERR@256:nesting too deep");

	/* lookups: last duplicate wins */
	{
		td_arena	arena;
		td_json_error err;
		td_json    *v;

		td_arena_init(&arena);
		v = td_json_parse(&arena, "{\"k\":1,\"k\":2}", 13, &err);
		ok(v && td_json_get(v, "k") && strcmp(td_json_get(v, "k")->str, "2") == 0, "duplicate key: last wins");
		ok(td_json_get(v, "missing") == NULL, "missing key is NULL");
		td_arena_free(&arena);
	}

	/* writer escapes every control character and keeps the rest */
	td_buf_init(&b);
	td_json_write_string(&b, "\b\f\r\x1b\xe4\xb8\xad", 7);
	ok(strcmp(b.data, "\"\\b\\f\\r\\u001b\xe4\xb8\xad\"") == 0, "writer escapes control characters, keeps CJK");
	td_buf_free(&b);

	/* deep merge: objects member by member, anything else replaced */
	{
		td_arena	arena;
		td_json_error err;
		const char *a = "{\"x\":1,\"o\":{\"p\":1,\"q\":2},\"l\":[1,2]}";
		const char *b = "{\"o\":{\"q\":3,\"r\":4},\"l\":[9],\"y\":null}";
		td_json    *va,
				   *vb;
		td_buf		out;

		td_arena_init(&arena);
		va = td_json_parse(&arena, a, strlen(a), &err);
		vb = td_json_parse(&arena, b, strlen(b), &err);
		td_buf_init(&out);
		td_json_write(&out, td_json_merge(&arena, va, vb));
		ok(strcmp(out.data, "{\"x\":1,\"o\":{\"p\":1,\"q\":3,\"r\":4},\"l\":[9],\"y\":null}") == 0,
		   "deep merge of objects, arrays replaced");
		td_buf_free(&out);
		ok(td_json_merge(&arena, va, NULL) == va, "merge with nothing keeps the base");
		td_arena_free(&arena);
	}

	ok(td_utf8_valid("h\xc3\xa9llo \xf0\x9f\x98\x80", 11), "valid UTF-8");
	ok(!td_utf8_valid("\xf4\x90\x80\x80", 4), "past U+10FFFF is invalid");
	ok(!td_utf8_valid("\xe0\x80\x80", 3), "overlong is invalid");
	ok(td_utf8_count("h\xc3\xa9\xf0\x9f\x98\x80", 7) == 3, "code points counted, not bytes");
	ok(escape_agrees(), "word-at-a-time escaping equals a byte-by-byte escaper for every special byte at every offset");
	ok(escape_agrees_on_runs(), "escaping equals a byte-by-byte escaper on 20,000 texts with escapes side by side");
	/* loops over input call the interrupt handler: a merge of two 20,000-key objects */
	{
		td_arena	arena;
		td_buf		a,
					b;
		td_json_error err;
		const td_json *m;

		td_arena_init(&arena);
		td_buf_init(&a);
		td_buf_init(&b);
		for (int i = 0; i < 20000; i++)
		{
			td_buf_puts(&a, i ? ",\"k" : "{\"k");
			td_buf_put_long(&a, i);
			td_buf_puts(&a, "\":1");
			td_buf_puts(&b, i ? ",\"k" : "{\"k");
			td_buf_put_long(&b, 19999 - i);
			td_buf_puts(&b, "\":2");
		}
		td_buf_putc(&a, '}');
		td_buf_putc(&b, '}');
		td_interrupt_handler = count_interrupt;
		m = td_json_merge(&arena, td_json_parse(&arena, a.data, a.len, &err), td_json_parse(&arena, b.data, b.len, &err));
		td_interrupt_handler = NULL;
		ok(m->count == 20000 && m->members[0].value->num == 2, "a merge of 20,000 shared keys keeps base order, patch values");
		ok(interrupts > 20, "parse and merge called the interrupt handler every 1,024 steps");
		td_buf_free(&a);
		td_buf_free(&b);
		td_arena_free(&arena);
	}
	return unit_done();
}
