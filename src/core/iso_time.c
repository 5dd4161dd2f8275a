/*
 * iso_time.c — the shape of an ISO 8601 date and time (see iso_time.h).
 */
#include "iso_time.h"

#include <stdbool.h>

/* Are the n bytes at s (within end) digits? */
static bool
digits(const char *s, const char *end, size_t n)
{
	if ((size_t) (end - s) < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* The zone at p (to end), whole: Z, or a sign and HH, HH:MM or HHMM. */
static bool
zone(const char *p, const char *end)
{
	if (end - p == 1 && (*p == 'Z' || *p == 'z'))
		return true;
	if (p == end || (*p != '+' && *p != '-') || !digits(p + 1, end, 2))
		return false;
	p += 3;
	if (p == end)
		return true;
	if (*p == ':')
		p++;
	return digits(p, end, 2) && p + 2 == end;
}

/* See iso_time.h. */
td_iso_time
td_iso_time_kind(const char *s, size_t len)
{
	const char *end = s + len;
	const char *p = s;

	if (len < 10 || !digits(p, end, 4) || p[4] != '-' || !digits(p + 5, end, 2) || p[7] != '-' || !digits(p + 8, end, 2))
		return TD_ISO_INVALID;
	p += 10;
	if (p == end)
		return TD_ISO_LOCAL;
	if ((*p != 'T' && *p != 't' && *p != ' ') || !digits(p + 1, end, 2) || end - p < 6 || p[3] != ':'
		|| !digits(p + 4, end, 2))
		return TD_ISO_INVALID;
	p += 6;
	if (p < end && *p == ':')
	{
		if (!digits(p + 1, end, 2))
			return TD_ISO_INVALID;
		p += 3;
		if (p < end && *p == '.')
		{
			size_t		n = 0;

			p++;
			while (p < end && *p >= '0' && *p <= '9' && n < 10)
				p++, n++;
			if (n == 0 || n > 9)
				return TD_ISO_INVALID;
		}
	}
	if (p == end)
		return TD_ISO_LOCAL;
	return zone(p, end) ? TD_ISO_ZONED : TD_ISO_INVALID;
}
