/*
 * slug.c — the persona part of a readable conversation id (see slug.h).
 * It does what the SQL of 1.0 did --
 *   btrim(left(regexp_replace(translate(lower(persona),
 *         'àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿ', 'aaaaaaaceeeeiiiinoooooouuuuyy'),
 *         '[^a-z0-9]+', '_', 'g'), 40), '_')
 * -- in one pass that stops after 40 characters (the caller lower-cases).
 */
#include "slug.h"

#include "td_words.h"

/*
 * Base letters of U+00E0..U+00FF as translate() maps them; 0 for the
 * characters it leaves (ð, ÷, þ), which then count as "other".
 */
static const char latin1_base[32] = {
	'a', 'a', 'a', 'a', 'a', 'a', 'a', 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
	0, 'n', 'o', 'o', 'o', 'o', 'o', 0, 'o', 'u', 'u', 'u', 'u', 'y', 0, 'y'
};

/* See slug.h. */
void
td_slug_init(td_slug *slug)
{
	slug->len = 0;
	slug->in_run = false;
	slug->text[0] = '\0';
}

/* The slug character of code point c: a letter or digit, or 0 for "other". */
static char
slug_char(uint32_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return (char) c;
	if (c >= 0xE0 && c <= 0xFF)
		return latin1_base[c - 0xE0];
	return 0;
}

/* See slug.h. */
bool
td_slug_add(td_slug *slug, const char *s, size_t len)
{
	size_t		pos = 0;

	while (pos < len && slug->len < TD_SLUG_MAX)
	{
		uint32_t	c;
		char		out;

		pos += td_utf8_decode(s + pos, len - pos, &c);	/* a bad byte: U+FFFD */
		out = slug_char(c);
		if (out != 0)
		{
			slug->text[slug->len++] = out;
			slug->in_run = false;
		}
		else if (!slug->in_run)
		{
			slug->text[slug->len++] = '_';
			slug->in_run = true;
		}
	}
	return slug->len >= TD_SLUG_MAX;
}

/* See slug.h. */
const char *
td_slug_finish(td_slug *slug)
{
	size_t		start = 0;
	size_t		end = slug->len;

	while (start < end && slug->text[start] == '_')
		start++;
	while (end > start && slug->text[end - 1] == '_')
		end--;
	slug->text[end] = '\0';
	return slug->text + start;
}
