/*
 * uuid_text.h — parse the text form of a UUID (pure C, no backend headers).
 *
 * Accepts what PostgreSQL's uuid input accepts: 32 hexadecimal digits, upper
 * or lower case, optionally in braces, with an optional hyphen after any
 * group of four digits.
 */
#ifndef TD_UUID_TEXT_H
#define TD_UUID_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define TD_UUID_LEN 16

/* Parse s[0..len) into out; returns false (out undefined) if it is not a UUID. */
extern bool td_uuid_parse(const char *s, size_t len, unsigned char out[TD_UUID_LEN]);

#endif							/* TD_UUID_TEXT_H */
