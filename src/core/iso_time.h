/*
 * iso_time.h — is a text a date and time written as ISO 8601 (the form an
 * export filter's dateFrom and dateTo take), and does it name its zone?
 *
 * Accepted: YYYY-MM-DD, optionally followed by T (or t, or a space) and
 * HH:MM, optionally :SS and a fraction of 1 to 9 digits, optionally a zone
 * (Z, z, +HH, +HH:MM, +HHMM, or with -).  Only the shape is checked: the
 * values' ranges (month 13, hour 25) are left to PostgreSQL's reading.
 * Everything else — DateStyle-dependent orders (11/12/2026), words (today,
 * now, infinity), a zone after a date alone — is not ISO 8601 here.
 */
#ifndef TD_ISO_TIME_H
#define TD_ISO_TIME_H

#include <stddef.h>

typedef enum td_iso_time
{
	TD_ISO_INVALID,				/* not of the shape above */
	TD_ISO_LOCAL,				/* no zone: the caller decides which (UTC for the filters) */
	TD_ISO_ZONED				/* with its zone */
} td_iso_time;

/* The kind of the len bytes at s. */
extern td_iso_time td_iso_time_kind(const char *s, size_t len);

#endif
