/*
 * td_text.c — text helpers shared by the pure C cores (see td_text.h).
 */
#include "td_text.h"

#include <string.h>

#include "td_utf8.h"

/* See td_text.h. */
bool
td_ascii_word_at(const char *s, size_t len, size_t i, const char *word, size_t wlen)
{
	if (i + wlen > len)
		return false;
	for (size_t k = 0; k < wlen; k++)
	{
		char		c = s[i + k];

		if ((c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c) != word[k])
			return false;
	}
	return i + wlen == len || !td_is_ascii_word(s[i + wlen]);
}

/* See td_text.h. */
void
td_trim(const char *s, size_t *b, size_t *e)
{
	while (*b < *e && td_is_space(s[*b]) && TD_CHECK_FOR_INTERRUPTS_EXPR())
		(*b)++;
	while (*e > *b && td_is_space(s[*e - 1]) && TD_CHECK_FOR_INTERRUPTS_EXPR())
		(*e)--;
}

/* See td_text.h. */
int
td_bytes_cmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
	int			c = (a_len && b_len) ? memcmp(a, b, a_len < b_len ? a_len : b_len) : 0;

	if (c != 0)
		return c < 0 ? -1 : 1;
	return (a_len > b_len) - (a_len < b_len);
}

/* See td_text.h. */
void
td_buf_put_clipped(td_buf *buf, const char *s, size_t len)
{
	size_t		cut = td_utf8_prefix(s, len, TD_CLIP_CHARS);

	td_buf_append(buf, s, cut);
	if (cut < len)
		td_buf_puts(buf, "...");
}

/* See td_text.h. */
void
td_error_init(td_error *err)
{
	err->status = 0;
	td_buf_init(&err->message);
	td_buf_init(&err->detail);
}

/* See td_text.h. */
bool
td_error_set(td_error *err, int status, const char *message, const char *detail)
{
	err->status = status;
	td_buf_puts(&err->message, message);
	if (detail)
		td_buf_puts(&err->detail, detail);
	return false;
}

/* See td_text.h. */
void
td_error_free(td_error *err)
{
	td_buf_free(&err->message);
	td_buf_free(&err->detail);
}
