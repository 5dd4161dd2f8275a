/*
 * text_test.c — unit tests of the shared text helpers (src/core/td_text.c),
 * td_utf8_prefix, td_utf8_count and td_utf8_survey (built twice: with SSE2
 * and without).
 */
#include <stdint.h>
#include <string.h>

#include "td_text.h"
#include "td_utf8.h"
#include "unit.h"

/* A value as a message quotes it, in a static buffer. */
static const char *
clipped(const char *s)
{
	static char result[512];
	td_buf		b;

	td_buf_init(&b);
	td_buf_put_clipped(&b, s, strlen(s));
	snprintf(result, sizeof(result), "%s", b.data);
	td_buf_free(&b);
	return result;
}

/*
 * td_utf8_count and td_utf8_survey against a byte-by-byte reference over
 * every prefix of a 300-byte text at every starting offset: ASCII runs
 * (longer and shorter than the 32- and 64-byte steps), 2- and 4-byte
 * sequences, the edges of the continuation range (0x7F, 0x80, 0xBF, 0xC0,
 * 0xFF), each mark once and bytes of every value past byte 200, so that
 * prefixes hold every subset of the marks at lengths below, at and past
 * each step.
 */
static bool
counts_agree(void)
{
	char		text[300];
	uint32_t	x = 2024;

	for (int i = 0; i < 300; i++)
	{
		x = x * 1103515245u + 12345u;
		text[i] = (i >= 40 && i < 44) ? "\xf0\x9f\x98\x80"[i - 40] :
			(i >= 70 && i < 100 && i % 2 == 0) ? '\xc3' : (i >= 70 && i < 100) ? '\xa9' :
			(i >= 120 && i < 130) ? "\x7f\x80\xbf\xc0\xff"[i % 5] :
			i == 20 ? '{' : i == 63 ? '<' : i == 64 ? '[' : i == 150 ? '`' : i == 170 ? '~' :
			(i >= 200) ? (char) (x >> 24) : (char) ('a' + i % 26);
	}
	for (size_t from = 0; from < 300; from++)
		for (size_t len = 0; from + len <= 300; len++)
		{
			size_t		expected = 0,
						chars;
			unsigned	marks = 0;

			for (size_t k = from; k < from + len; k++)
			{
				expected += ((unsigned char) text[k] & 0xC0) != 0x80;
				marks |= text[k] == '{' ? TD_MARK_BRACE : text[k] == '<' ? TD_MARK_ANGLE :
					text[k] == '[' ? TD_MARK_BRACKET : text[k] == '`' || text[k] == '~' ? TD_MARK_BACKQUOTE : 0;
			}
			if (td_utf8_count(text + from, len) != expected ||
				td_utf8_survey(text + from, len, &chars) != marks || chars != expected)
			{
				printf("# counts differ at offset %zu, length %zu\n", from, len);
				return false;
			}
		}
	return true;
}

int
main(void)
{
	char		ascii[200];
	char		wide[400];
	size_t		b = 0,
				e;
	const char *padded = " \t\n\v\fx y\r ";
	td_error	err;

	memset(ascii, 'a', sizeof(ascii));
	ascii[TD_CLIP_CHARS] = '\0';
	ok(strcmp(clipped(ascii), ascii) == 0, "64 characters are quoted whole");
	ascii[TD_CLIP_CHARS] = 'b';
	ascii[TD_CLIP_CHARS + 1] = '\0';
	ok(strlen(clipped(ascii)) == TD_CLIP_CHARS + 3 && strcmp(clipped(ascii) + TD_CLIP_CHARS, "...") == 0,
	   "65 characters: the first 64 and ...");

	for (int i = 0; i < 100; i++)	/* "é" is two bytes */
		memcpy(wide + 2 * i, "\xc3\xa9", 2);
	wide[200] = '\0';
	ok(td_utf8_prefix(wide, 200, TD_CLIP_CHARS) == 2 * TD_CLIP_CHARS, "prefix counts characters, not bytes");
	ok(strlen(clipped(wide)) == 2 * TD_CLIP_CHARS + 3, "a clipped multibyte value keeps 64 whole characters");
	ok(td_utf8_prefix("ab", 2, 5) == 2, "a short value is whole");
	ok(td_utf8_prefix("\x80\x80\x80", 3, 1) == 3, "stray continuation bytes are never split off");
	ok(td_utf8_prefix("", 0, 0) == 0, "empty value");
	ok(counts_agree(), "count and survey: code points and marks equal a byte-by-byte count at every length and offset");

	e = strlen(padded);
	td_trim(padded, &b, &e);
	ok(b == 5 && e == 8, "trim skips JavaScript's ASCII white space at both ends");
	ok(!td_is_space('x') && !td_is_space('\0') && td_is_space('\v'), "is_space");

	td_error_init(&err);
	ok(!td_error_set(&err, 3, "bad value", NULL) && err.status == 3 &&
	   strcmp(err.message.data, "bad value") == 0 && err.detail.len == 0, "error_set returns false and records");
	td_error_free(&err);
	return unit_done();
}
