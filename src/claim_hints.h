/*
 * claim_hints.h — what a session remembers of jobs between its claims, so
 * that a claim reads past what it need not: where a job's queued items
 * begin, that a job's items in flight all hold slots, and which jobs had
 * nothing to take.
 */
#ifndef TD_CLAIM_HINTS_H
#define TD_CLAIM_HINTS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* A job's entry in the claim order as read: the job and its row's xmin. */
typedef struct td_claim_entry
{
	pg_uuid_t	job;
	TransactionId xmin;			/* of its claimable_jobs row */
} td_claim_entry;

/* The entry of job with the xmin of its claimable_jobs row (padding zeroed: a hash key). */
extern td_claim_entry td_claim_entry_of(Datum job, TransactionId xmin);

/*
 * The lowest position at which an item of the entry's job may be queued,
 * as this session last found it under that entry (1 when not known).
 */
extern int32 td_claim_floor(const td_claim_entry *e);

/*
 * Remember that no item of the entry's job below position is queued: for
 * the session, or (found after the transaction wrote) for the transaction
 * until it or a subtransaction rolls back.
 */
extern void td_claim_floor_set(const td_claim_entry *e, int32 position, bool for_session);

/*
 * The xmin of job's row when this session last counted its items in flight
 * without a slot and found none, if lately; InvalidTransactionId if not.
 */
extern TransactionId td_claim_all_held(Datum job, TimestampTz now);

/* Remember what a count of the items in flight without a slot of job (its row's xmin) found. */
extern void td_claim_note_held(Datum job, TransactionId xmin, TimestampTz now, bool held);

/* Is the entry passed over at now (its last visit found nothing to take)? */
extern bool td_claim_passed_over(const td_claim_entry *e, TimestampTz now);

/* Remember a visit's outcome at now: pass over an entry that had nothing to take, forget one that gave. */
extern void td_claim_pass_over(const td_claim_entry *e, TimestampTz now, bool found_nothing);

#endif							/* TD_CLAIM_HINTS_H */
