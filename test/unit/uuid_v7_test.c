/*
 * uuid_v7_test.c — unit tests of the time-ordered UUIDs (src/core/uuid_v7.c).
 */
#include <string.h>

#include "unit.h"
#include "uuid_v7.h"

int
main(void)
{
	static const unsigned char zeros[8] = {0},
				ones[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	/* 2025-01-01 00:00:00.000500 UTC: 1735689600000 ms = 0x0194_1F29_7C00, half a millisecond */
	uint64_t	stamp = td_uuid_v7_stamp(UINT64_C(1735689600000500));
	static const unsigned char expect_zeros[16] = {
		0x01, 0x94, 0x1f, 0x29, 0x7c, 0x00, 0x78, 0x00,
		0x80, 0, 0, 0, 0, 0, 0, 0
	};
	static const unsigned char expect_ones[16] = {
		0x01, 0x94, 0x1f, 0x29, 0x7c, 0x00, 0x78, 0x00,
		0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	unsigned char u[16],
				v[16];
	uint64_t	last = 0;
	int			grows = 1;

	ok(stamp == (UINT64_C(1735689600000) << 12 | 2048), "stamp: milliseconds, then half of 4096");
	ok(td_uuid_v7_stamp(UINT64_C(1735689600000999)) == (UINT64_C(1735689600000) << 12 | 4091),
	   "the fraction stays below 4096");
	td_uuid_v7(stamp, zeros, u);
	ok(memcmp(u, expect_zeros, 16) == 0, "layout: time, version 7, fraction, variant 10, zero random bits");
	td_uuid_v7(stamp, ones, u);
	ok(memcmp(u, expect_ones, 16) == 0, "layout: the variant keeps two bits of the first random byte");
	ok(td_uuid_v7_next(10, 20) == 20, "the clock moved on: its stamp");
	ok(td_uuid_v7_next(20, 20) == 21 && td_uuid_v7_next(20, 5) == 21,
	   "the clock stood still or went back: one past the last stamp");
	for (int i = 0; i < 10000 && grows; i++)
	{
		uint64_t	next = td_uuid_v7_next(last, td_uuid_v7_stamp(UINT64_C(1735689600000000) + (uint64_t) (i / 7)));

		td_uuid_v7(last, ones, u);
		td_uuid_v7(next, zeros, v);
		grows = next > last && (i == 0 || memcmp(u, v, 16) < 0);
		last = next;
	}
	ok(grows, "10,000 ids made 7 per microsecond sort in the order they were made, whatever their random bits");
	return unit_done();
}
