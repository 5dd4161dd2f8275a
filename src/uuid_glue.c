/*
 * uuid_glue.c — train_data.uuid_v7(): the default id of conversations and
 * their turns, a time-ordered UUID (the pure core in core/uuid_v7.c).
 *
 * The time is the wall clock when the id is made (not the transaction's
 * start), with a fraction of the millisecond, and one backend's ids only
 * grow even when the clock does not; the 62 other bits come from
 * pg_strong_random, as gen_random_uuid's do.  They are drawn 512 bytes at
 * a time (64 ids), not 8: one call of the strong generator costs about as
 * much as the rest of making an id, and a completion makes one id per turn.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "uuid_v7.h"

PG_FUNCTION_INFO_V1(train_data_uuid_v7);

/* The stamp of this backend's last id. */
static uint64 last_stamp = 0;

/* Strong random bytes drawn ahead, and how many of them are left. */
#define RANDOM_POOL_SIZE 512
static unsigned char random_pool[RANDOM_POOL_SIZE];
static int	random_left = 0;

/* The next 8 strong random bytes of the pool, drawing it again when used up. */
static const unsigned char *
next_random8(void)
{
	if (random_left < 8)
	{
		if (!pg_strong_random(random_pool, sizeof(random_pool)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate random values")));
		random_left = RANDOM_POOL_SIZE;
	}
	random_left -= 8;
	return random_pool + random_left;
}

/* uuid_v7() returns uuid */
Datum
train_data_uuid_v7(PG_FUNCTION_ARGS)
{
	int64		unix_micros = GetCurrentTimestamp() +
		(int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
	pg_uuid_t  *uuid = palloc(sizeof(pg_uuid_t));
	const unsigned char *random = next_random8();

	last_stamp = td_uuid_v7_next(last_stamp, td_uuid_v7_stamp(unix_micros < 0 ? 0 : (uint64) unix_micros));
	td_uuid_v7(last_stamp, random, uuid->data);
	PG_RETURN_UUID_P(uuid);
}
