/*
 * uuid_v7.c — time-ordered UUIDs (RFC 9562 version 7); see uuid_v7.h.
 */
#include "uuid_v7.h"

/* Bits of the sub-millisecond fraction in a stamp. */
#define FRACTION_BITS 12

/* See uuid_v7.h. */
uint64_t
td_uuid_v7_stamp(uint64_t unix_micros)
{
	uint64_t	ms = unix_micros / 1000;
	uint64_t	fraction = (unix_micros % 1000) * (1u << FRACTION_BITS) / 1000;

	return (ms & ((UINT64_C(1) << 48) - 1)) << FRACTION_BITS | fraction;
}

/* See uuid_v7.h. */
uint64_t
td_uuid_v7_next(uint64_t last, uint64_t now)
{
	return now > last ? now : last + 1;
}

/* See uuid_v7.h. */
void
td_uuid_v7(uint64_t stamp, const unsigned char random[8], unsigned char out[16])
{
	uint64_t	ms = stamp >> FRACTION_BITS;

	for (int i = 0; i < 6; i++)
		out[i] = (unsigned char) (ms >> (8 * (5 - i)));
	out[6] = (unsigned char) (0x70 | ((stamp >> 8) & 0x0F));
	out[7] = (unsigned char) stamp;
	out[8] = (unsigned char) (0x80 | (random[0] & 0x3F));
	for (int i = 1; i < 8; i++)
		out[8 + i] = random[i];
}
