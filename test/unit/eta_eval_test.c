/*
 * eta_eval_test.c — the evaluation harness of the time-remaining estimate
 * (src/core/eta.c), and its unit tests.
 *
 * Replays simulated completion traces (steady rate, warm-up, slow-down,
 * pause/resume, failures with retries) of 400 items on 4 workers and
 * compares, every 5 s between 10 % and 90 % progress while the job is not
 * paused, the native estimate and the original formula
 * elapsed / processed * (total - processed) with the actual time left.
 * Prints the mean absolute percentage error (MAPE) of each and checks that
 * the native estimate is the better one on every trace.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eta.h"
#include "unit.h"

#define ITEMS 400
#define WORKERS 4
#define STEP 0.05
#define MAX_ATTEMPTS 3

typedef struct trace
{
	const char *name;
	double		warmup_factor;	/* first 20 % of items take this much longer */
	double		slowdown_factor;	/* items after 50 % take this much longer */
	double		pause_at_progress;	/* pause when this fraction is done (0: none) */
	double		pause_seconds;
	double		failure_rate;	/* probability an attempt fails */
} trace;

/* Deterministic pseudo-random numbers in [0, 1). */
static unsigned long long rng_state;
static double
rnd(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double) (rng_state >> 11) / 9007199254740992.0;
}

typedef struct item
{
	int			attempts;
	double		available_at;
	int			state;			/* 0 queued, 1 running, 2 done, 3 failed */
} item;

typedef struct worker
{
	int			item;			/* -1 when idle */
	double		ends_at;
	bool		will_fail;
} worker;

typedef struct sample
{
	double		t;
	double		native;
	double		original;
} sample;

/* Duration of an attempt at item i. */
static double
duration(const trace *tr, int i)
{
	double		d = 10.0 * (0.8 + 0.4 * rnd());

	if (i < ITEMS / 5)
		d *= tr->warmup_factor;
	if (i >= ITEMS / 2)
		d *= tr->slowdown_factor;
	return d;
}

/* Run one trace; returns MAPE of native and original through the pointers. */
static void
run_trace(const trace *tr, double *mape_native, double *mape_original)
{
	static item items[ITEMS];
	static sample samples[100000];
	worker		workers[WORKERS];
	td_eta_shard shards[WORKERS];
	long		completed = 0,
				failed = 0;
	int			nsamples = 0;
	double		t = 0,
				paused_total = 0,
				pause_start = -1,
				next_sample = 5;
	bool		paused = false,
				pause_done = tr->pause_at_progress <= 0;
	double		end_time;
	double		sum_native = 0,
				sum_original = 0;

	rng_state = 42;
	memset(items, 0, sizeof(items));
	for (int w = 0; w < WORKERS; w++)
	{
		workers[w].item = -1;
		shards[w].interval_ewma = NAN;
		shards[w].last_active = NAN;
	}

	while (completed + failed < ITEMS)
	{
		double		active = t - paused_total - (paused ? t - pause_start : 0);
		long		in_flight = 0;

		/* finish attempts that end now */
		for (int w = 0; w < WORKERS; w++)
		{
			worker	   *wk = &workers[w];
			item	   *it;

			if (wk->item < 0 || wk->ends_at > t)
				continue;
			it = &items[wk->item];
			if (wk->will_fail && it->attempts < MAX_ATTEMPTS)
			{
				it->state = 0;
				it->available_at = t + (1 << (it->attempts - 1));
			}
			else
			{
				it->state = wk->will_fail ? 3 : 2;
				if (wk->will_fail)
					failed++;
				else
					completed++;
				shards[w].interval_ewma = td_eta_observe(shards[w].interval_ewma, shards[w].last_active, active);
				shards[w].last_active = active;
			}
			wk->item = -1;
		}

		/* pause and resume */
		if (!pause_done && !paused && completed + failed >= tr->pause_at_progress * ITEMS)
		{
			paused = true;
			pause_start = t;
		}
		if (paused && t - pause_start >= tr->pause_seconds)
		{
			paused = false;
			paused_total += t - pause_start;
			pause_done = true;
		}

		/* idle workers claim the next available item by position */
		for (int w = 0; w < WORKERS && !paused; w++)
		{
			if (workers[w].item >= 0)
				continue;
			for (int i = 0; i < ITEMS; i++)
				if (items[i].state == 0 && items[i].available_at <= t)
				{
					double		d = duration(tr, i);

					items[i].state = 1;
					items[i].attempts++;
					workers[w].item = i;
					workers[w].will_fail = rnd() < tr->failure_rate;
					workers[w].ends_at = t + (workers[w].will_fail ? 0.3 * d : d);
					break;
				}
		}
		for (int w = 0; w < WORKERS; w++)
			in_flight += workers[w].item >= 0;

		/* sample both estimates */
		if (t >= next_sample)
		{
			long		done = completed + failed;

			next_sample += 5;
			if (!paused && done >= ITEMS / 10 && done <= ITEMS * 9 / 10 && nsamples < 100000)
			{
				td_eta_input in = {ITEMS, completed, failed, 0, in_flight,
				t - paused_total, false, WORKERS, shards};

				samples[nsamples].t = t;
				samples[nsamples].native = td_eta_estimate(&in);
				samples[nsamples].original = t / done * (ITEMS - done);
				nsamples++;
			}
		}
		t += STEP;
	}
	end_time = t;
	for (int i = 0; i < nsamples; i++)
	{
		double		actual = end_time - samples[i].t;

		sum_native += fabs(samples[i].native - actual) / actual;
		sum_original += fabs(samples[i].original - actual) / actual;
	}
	*mape_native = 100.0 * sum_native / nsamples;
	*mape_original = 100.0 * sum_original / nsamples;
}

int
main(void)
{
	static const trace traces[] = {
		{"steady rate", 1.0, 1.0, 0, 0, 0},
		{"warm-up (first 20% 3x slower)", 3.0, 1.0, 0, 0, 0},
		{"slow-down (second half 2x slower)", 1.0, 2.0, 0, 0, 0},
		{"pause of 600 s at 40%", 1.0, 1.0, 0.4, 600, 0},
		{"15% failures with retries", 1.0, 1.0, 0, 0, 0.15},
	};
	double		total_native = 0,
				total_original = 0;

	printf("# %-36s %10s %10s\n", "trace (400 items, 4 workers)", "native", "original");
	for (size_t i = 0; i < sizeof(traces) / sizeof(traces[0]); i++)
	{
		double		n,
					o;
		char		desc[128];

		run_trace(&traces[i], &n, &o);
		printf("# %-36s %9.1f%% %9.1f%%\n", traces[i].name, n, o);
		/* a steady job is where the original formula is right: match it there */
		if (traces[i].warmup_factor == 1.0 && traces[i].slowdown_factor == 1.0 && traces[i].pause_seconds == 0)
		{
			snprintf(desc, sizeof(desc), "native estimate is as good as the original on: %s", traces[i].name);
			ok(n <= o + 0.05, desc);
		}
		else
		{
			snprintf(desc, sizeof(desc), "native estimate beats the original on: %s", traces[i].name);
			ok(n < o, desc);
		}
		total_native += n;
		total_original += o;
	}
	printf("# %-36s %9.1f%% %9.1f%%\n", "mean", total_native / 5, total_original / 5);
	ok(total_native < total_original, "native estimate beats the original on average");

	/* unit checks of the pieces */
	{
		td_eta_shard s = {NAN, NAN};
		td_eta_input in = {100, 0, 0, 0, 0, 10, false, 1, &s};

		ok(td_eta_estimate(&in) < 0, "unknown while nothing has finished");
		in.final = true;
		ok(td_eta_estimate(&in) == 0, "zero once final");
		in.final = false;
		s.interval_ewma = td_eta_observe(NAN, NAN, 10);
		s.last_active = 10;
		ok(fabs(s.interval_ewma - 10) < 1e-9, "first event measures from the start");
		ok(fabs(td_eta_observe(10, 10, 15) - (0.2 * 5 + 0.8 * 10)) < 1e-9, "smoothing weight 0.2");
		in.completed = 1;
		in.active_now = 10;
		ok(fabs(td_eta_estimate(&in) - 990) < 1e-6, "99 items at one per 10 s");
		in.in_flight = 2;
		ok(fabs(td_eta_estimate(&in) - 990) < 1e-6, "steady: the average rate already counts items in flight");
		/* the recent rate (one per second) differs from the average (one per 10 s) */
		s.interval_ewma = 1;
		ok(fabs(td_eta_estimate(&in) - 98) < 1e-6, "recent rate, items in flight half done");
		in.in_flight = 0;
		in.active_now = 14;
		ok(fabs(td_eta_estimate(&in) - 99 * 4) < 1e-6, "a silent shard's rate decays");
		ok(td_progress_hundredths(1, 3) == 3333, "1/3 is 33.33 %");
		ok(td_progress_hundredths(2, 3) == 6667, "2/3 is 66.67 %");
		ok(td_progress_hundredths(1, 8) == 1250, "1/8 is 12.50 %");
		ok(td_progress_hundredths(0, 0) == 0, "empty job is 0 %");
		ok(td_progress_hundredths(1000000, 1000000) == 10000, "all done is 100 %");
	}
	return unit_done();
}
