/*
 * counter_shards.h — adding to a batch job's live counters
 * (batch_job_counters) in a shard no other transaction holds.
 */
#ifndef TD_COUNTER_SHARDS_H
#define TD_COUNTER_SHARDS_H

#include "postgres.h"

/*
 * Add completed, failed, cancelled and in_flight to job's live counters
 * and, for a final event, update the shard's rate.  Call it connected to
 * SPI; it runs as its caller, under her row-level security.
 */
extern void td_add_to_counters(Datum job, int32 completed, int32 failed, int32 cancelled, int32 in_flight,
							   bool final_event);

/*
 * The engine's common case of td_add_to_counters, without a statement: add
 * add[0..3] (completed, failed, cancelled, in flight) to the shard of this
 * backend's process id, unless another transaction holds it; false when
 * nothing was written and the statements must do it (counter_update.c).
 */
extern bool td_counters_update_native(Datum job, const int32 *add, bool final_event);

#endif							/* TD_COUNTER_SHARDS_H */
