/*
 * td_utf8.h — UTF-8 helpers for the pure C cores.
 */
#ifndef TD_UTF8_H
#define TD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s[0..len), or 0 if invalid. */
extern size_t td_utf8_seq_len(const unsigned char *s, size_t len);

/* True if s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
extern bool td_utf8_valid(const char *s, size_t len);

/* Number of code points in valid UTF-8 s[0..len). */
extern size_t td_utf8_count(const char *s, size_t len);

/*
 * The ASCII bytes a quality check searches for (td_utf8_survey): a bit for
 * each that the text holds.
 */
#define TD_MARK_BRACE 1u			/* '{': placeholders */
#define TD_MARK_ANGLE 2u			/* '<': chat-format tokens */
#define TD_MARK_BRACKET 4u		/* '[': chat-format tokens */
#define TD_MARK_BACKQUOTE 8u		/* '`' or '~': code fences and spans */
#define TD_MARKS_ALL 15u

/*
 * One pass over s[0..len) (valid UTF-8): its code points into *chars, and
 * which of the TD_MARK_* bytes it holds, so that the searches for them
 * run only where they can find something.
 */
extern unsigned td_utf8_survey(const char *s, size_t len, size_t *chars);

/*
 * Bytes of the first max_chars characters of s[0..len) (all of it when it
 * has no more); never splits a character, even in invalid UTF-8.
 */
extern size_t td_utf8_prefix(const char *s, size_t len, size_t max_chars);

/* Append code point cp (valid, not a surrogate) as UTF-8 to out; returns bytes written. */
extern size_t td_utf8_encode(unsigned int cp, char out[4]);

#endif							/* TD_UTF8_H */
