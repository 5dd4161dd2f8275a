/*
 * td_text.h — small text helpers shared by the pure C cores: white space,
 * trimming, values quoted in messages, and the error a core reports.
 */
#ifndef TD_TEXT_H
#define TD_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "td_mem.h"

/*
 * Longest user value, in characters, that an error message quotes whole;
 * a longer one is clipped to its first TD_CLIP_CHARS characters followed by
 * "...".  The one limit of the C code (the glue's td_clip_for_message uses
 * it too) and of the SQL helper train_data.clip_for_message.
 */
#define TD_CLIP_CHARS 64

/* ASCII white space as JavaScript's trim() and \s see it (inline: called per byte). */
static inline bool
td_is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Narrow s[*b..*e) past the white space at both ends. */
extern void td_trim(const char *s, size_t *b, size_t *e);

/* ASCII word character, as JavaScript's \b sees it: a letter, a digit or '_'. */
static inline bool
td_is_ascii_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * Does s[i..len) start with word (lower case), ASCII case ignored, and end
 * there as a whole word (no word character after it)?
 */
extern bool td_ascii_word_at(const char *s, size_t len, size_t i, const char *word, size_t wlen);

/* Order of byte strings: memcmp order, a prefix first (-1, 0 or 1). */
extern int	td_bytes_cmp(const char *a, size_t a_len, const char *b, size_t b_len);

/* Append s[0..len) (UTF-8) as a message quotes it: clipped, see TD_CLIP_CHARS. */
extern void td_buf_put_clipped(td_buf *buf, const char *s, size_t len);

/*
 * An error a core reports to its caller: a status (the core's own enum, 0
 * meaning none), a lower-case message and an optional detail sentence.
 * The core initialises the buffers; the caller frees them with
 * td_error_free.
 */
typedef struct td_error
{
	int			status;
	td_buf		message;
	td_buf		detail;
} td_error;

/* Start an error with no status and empty texts. */
extern void td_error_init(td_error *err);

/* Set status, message and detail (may be NULL); returns false. */
extern bool td_error_set(td_error *err, int status, const char *message, const char *detail);

/* Release the buffers of an error. */
extern void td_error_free(td_error *err);

#endif							/* TD_TEXT_H */
