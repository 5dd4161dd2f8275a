/*
 * eta.c — batch progress and time-remaining estimation (pure C core).
 * See eta.h for the model.
 */
#include "eta.h"

#include <math.h>

/* Relative difference under which recent and average rates agree. */
#define TD_ETA_AGREEMENT 0.15

/* Shortest interval counted, so that simultaneous events stay finite. */
#define TD_ETA_MIN_INTERVAL 1e-3

/* See eta.h.  The first event of a shard measures from the job's start. */
double
td_eta_observe(double interval_ewma, double last_active, double active_now)
{
	double		since = isnan(last_active) ? 0.0 : last_active;
	double		dt = active_now - since;

	if (dt < TD_ETA_MIN_INTERVAL)
		dt = TD_ETA_MIN_INTERVAL;
	if (isnan(interval_ewma))
		return dt;
	return TD_ETA_ALPHA * dt + (1.0 - TD_ETA_ALPHA) * interval_ewma;
}

/* Final events per active second over the whole job so far (0 if none). */
double
td_eta_average_rate(const td_eta_input *in)
{
	long		finished = in->completed + in->failed;

	return (finished > 0 && in->active_now > 0) ? finished / in->active_now : 0.0;
}

/*
 * See eta.h: the sum of the shard rates, silent shards decaying.  When that
 * recent rate agrees with the job's average rate (within TD_ETA_AGREEMENT),
 * the throughput is taken to be steady and the average, which is less noisy,
 * is used instead.
 */
double
td_eta_rate(const td_eta_input *in)
{
	double		rate = 0.0;
	double		average;

	for (int i = 0; i < in->nshards; i++)
	{
		const td_eta_shard *s = &in->shards[i];
		double		interval = s->interval_ewma;
		double		silence;

		if (isnan(interval) || isnan(s->last_active))
			continue;
		silence = in->active_now - s->last_active;
		if (silence > interval)
			interval = silence;
		if (interval < TD_ETA_MIN_INTERVAL)
			interval = TD_ETA_MIN_INTERVAL;
		rate += 1.0 / interval;
	}
	average = td_eta_average_rate(in);
	if (rate <= 0.0 || fabs(rate / average - 1.0) <= TD_ETA_AGREEMENT)
		return average;
	return rate;
}

/* See eta.h. */
double
td_eta_estimate(const td_eta_input *in)
{
	long		remaining;
	double		work,
				rate;

	if (in->final)
		return 0.0;
	if (in->completed + in->failed == 0)
		return -1.0;
	remaining = in->total - in->completed - in->failed - in->cancelled;
	if (remaining <= 0)
		return 0.0;
	rate = td_eta_rate(in);
	if (rate <= 0.0)
		return -1.0;
	work = remaining;
	if (rate != td_eta_average_rate(in))	/* the average already counts them */
		work -= 0.5 * (in->in_flight < remaining ? in->in_flight : remaining);
	return work / rate;
}

/* See eta.h. */
double
td_active_seconds(double started_at, double paused_time, double paused_at,
				  double completed_at, double at)
{
	double		end = isnan(completed_at) ? at : completed_at;
	double		active;

	if (isnan(started_at))
		return 0.0;
	active = end - started_at - (isnan(paused_time) ? 0.0 : paused_time);
	if (!isnan(paused_at))
		active -= end - paused_at;
	return active > 0.0 ? active : 0.0;
}

/* See eta.h: 100 * finished / total in hundredths, 0 for an empty job. */
long
td_progress_hundredths(long finished, long total)
{
	if (total <= 0)
		return 0;
	if (finished > total)
		finished = total;
	return (finished * 20000 + total) / (2 * total);
}
