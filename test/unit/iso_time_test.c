/*
 * iso_time_test.c — unit tests of the ISO 8601 shape check of the export
 * filters' dates (src/core/iso_time.c).
 */
#include <string.h>

#include "iso_time.h"
#include "unit.h"

/* The kind of a C string. */
static td_iso_time
kind(const char *s)
{
	return td_iso_time_kind(s, strlen(s));
}

int
main(void)
{
	ok(kind("2026-12-05") == TD_ISO_LOCAL, "a date alone has no zone");
	ok(kind("2026-12-05T07:00") == TD_ISO_LOCAL, "hours and minutes");
	ok(kind("2026-12-05 07:00:30") == TD_ISO_LOCAL, "a space for the T, seconds");
	ok(kind("2026-12-05t07:00:30.123456789") == TD_ISO_LOCAL, "a fraction of up to 9 digits");
	ok(kind("2026-12-05T07:00:30.1234567890") == TD_ISO_INVALID, "not of 10");
	ok(kind("2026-12-05T07:00:30.") == TD_ISO_INVALID, "nor of none");
	ok(kind("2026-12-05T07:00Z") == TD_ISO_ZONED, "Z");
	ok(kind("2026-12-05T07:00:00.5+05:30") == TD_ISO_ZONED, "+HH:MM");
	ok(kind("2026-12-05T07:00-0330") == TD_ISO_ZONED, "-HHMM");
	ok(kind("2026-12-05T07:00+14") == TD_ISO_ZONED, "+HH");
	ok(kind("2026-12-05T07:00+5") == TD_ISO_INVALID, "not +H");
	ok(kind("2026-12-05T07:00+05:3") == TD_ISO_INVALID, "nor +HH:M");
	ok(kind("2026-12-05Z") == TD_ISO_INVALID, "no zone after a date alone");
	ok(kind("11/12/2026") == TD_ISO_INVALID, "an order DateStyle decides");
	ok(kind("2026-1-05") == TD_ISO_INVALID, "two-digit months");
	ok(kind("today") == TD_ISO_INVALID && kind("now") == TD_ISO_INVALID && kind("infinity") == TD_ISO_INVALID,
	   "no words");
	ok(kind("2026-12-05T07") == TD_ISO_INVALID, "minutes with the hour");
	ok(kind("2026-12-05T07:00 America/New_York") == TD_ISO_INVALID, "no zone names");
	ok(kind("") == TD_ISO_INVALID && kind("2026") == TD_ISO_INVALID && kind("2026-12-0") == TD_ISO_INVALID,
	   "nothing cut short");
	ok(td_iso_time_kind("2026-12-05T07:00:00Zjunk", 20) == TD_ISO_ZONED, "reads only its length");
	ok(kind("2026-13-45T25:61") == TD_ISO_LOCAL, "ranges are PostgreSQL's to check");
	return unit_done();
}
