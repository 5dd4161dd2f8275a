/*
 * uuid_v7.h — time-ordered UUIDs (RFC 9562 version 7), pure C.
 *
 * A version 7 UUID starts with the Unix time in milliseconds (48 bits, big
 * endian), then the version (7), 12 bits of sub-millisecond time (RFC 9562
 * §6.2, method 3), the variant (binary 10) and 62 random bits.  Ids made one
 * after another sort in the order they were made, so the rows inserted
 * together sit together in a btree index on them.
 *
 * A stamp is the time part as one number: milliseconds << 12 | the 12-bit
 * fraction of the millisecond.
 */
#ifndef TD_UUID_V7_H
#define TD_UUID_V7_H

#include <stdint.h>

/* The stamp of a time given in microseconds since the Unix epoch. */
extern uint64_t td_uuid_v7_stamp(uint64_t unix_micros);

/*
 * The stamp to use after last when the clock reads now: now, or last + 1
 * when the clock has not moved past last (so one process's ids only grow).
 */
extern uint64_t td_uuid_v7_next(uint64_t last, uint64_t now);

/* Write the UUID of stamp and 8 random bytes to out. */
extern void td_uuid_v7(uint64_t stamp, const unsigned char random[8], unsigned char out[16]);

#endif							/* TD_UUID_V7_H */
