/*
 * uuid_text.c — parse the text form of a UUID (pure C, no backend headers).
 *
 * Used to validate user ids that arrive through settings and JWT claims,
 * where an error must name the setting rather than the type input function.
 */
#include "uuid_text.h"

/* Value of one hexadecimal digit, or -1. */
static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse s[0..len) into out.  Grammar (as uuid_in): optional '{' ... '}',
 * 32 hex digits, a '-' allowed after each complete group of four digits
 * but not at the end.
 */
bool
td_uuid_parse(const char *s, size_t len, unsigned char out[TD_UUID_LEN])
{
	size_t		i = 0;
	size_t		end = len;
	int			digits = 0;

	if (len >= 2 && s[0] == '{')
	{
		if (s[len - 1] != '}')
			return false;
		i = 1;
		end = len - 1;
	}

	while (i < end && digits < 2 * TD_UUID_LEN)
	{
		int			hi = hex_value(s[i]);
		int			lo = (i + 1 < end) ? hex_value(s[i + 1]) : -1;

		if (hi < 0 || lo < 0)
			return false;
		out[digits / 2] = (unsigned char) (hi << 4 | lo);
		digits += 2;
		i += 2;

		/* an optional hyphen after each group of four digits, never last */
		if (i < end && s[i] == '-' && digits % 4 == 0 &&
			digits < 2 * TD_UUID_LEN)
			i++;
	}
	return digits == 2 * TD_UUID_LEN && i == end;
}
