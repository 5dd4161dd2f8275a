/*
 * eta.h — batch progress and time-remaining estimation (pure C core).
 *
 * The estimate uses the recent throughput of the job, smoothed per counter
 * shard (one shard per worker backend, in practice): each final event
 * (an item completed or failed for good) updates the shard's exponentially
 * weighted mean interval between events, measured on the job's active clock,
 * which stops while the job is paused.  The job's recent rate is the sum of
 * the shard rates, a silent shard's rate decaying as 1 / (time since its last
 * event).  While the recent rate agrees with the job's average rate (active
 * time only), the steadier average is used; otherwise the recent rate, with
 * items in flight counted as half done.
 */
#ifndef TD_ETA_H
#define TD_ETA_H

#include <stdbool.h>

#define TD_ETA_ALPHA 0.2		/* weight of the newest interval */
#define TD_ETA_SHARDS 32

/* One counter shard's rate state; NaN fields mean "no event yet". */
typedef struct td_eta_shard
{
	double		interval_ewma;	/* seconds between final events */
	double		last_active;	/* active clock at the last event */
} td_eta_shard;

/* What the estimate needs about a job. */
typedef struct td_eta_input
{
	long		total;
	long		completed;		/* finished successfully */
	long		failed;			/* failed for good */
	long		cancelled;
	long		in_flight;
	double		active_now;		/* active clock now, seconds */
	bool		final;			/* completed, failed or cancelled */
	int			nshards;
	const td_eta_shard *shards;
} td_eta_input;

/* The shard's new smoothed interval after a final event at active_now. */
extern double td_eta_observe(double interval_ewma, double last_active, double active_now);

/* Seconds remaining; 0 once final; negative when unknown (nothing finished). */
extern double td_eta_estimate(const td_eta_input *in);

/* Final events per active second over the whole job so far (0 if none). */
extern double td_eta_average_rate(const td_eta_input *in);

/* Items per second the estimate assumes (0 when unknown). */
extern double td_eta_rate(const td_eta_input *in);

/*
 * Active seconds of a job at time at (all times in seconds on one clock; NaN
 * for an absent time): from started_at to completed_at (or at), minus the
 * time paused before (paused_time) and the pause under way since paused_at.
 * 0 for a job that has not started.
 */
extern double td_active_seconds(double started_at, double paused_time, double paused_at,
								double completed_at, double at);

/* Percent of items in a final state, in hundredths, rounded half up. */
extern long td_progress_hundredths(long finished, long total);

#endif							/* TD_ETA_H */
