/*
 * quality.h — conversation quality scoring (pure C core of quality_metrics
 * and quality_score): Engine A of the original system, exactly.
 *
 * Four components, each 0..10: turn count (weight 0.30), response length
 * (0.25), structure (0.30), coherence (0.15); overall = the weighted sum,
 * rounded to one decimal the way JavaScript's Math.round does (half up, in
 * binary floating point).  Extra defect signals go under "signals", and
 * the defect verdicts (quality_defects.h) under "defects", "defectDetails"
 * and "defectSeverity"; neither ever changes the overall score.
 */
#ifndef TD_QUALITY_H
#define TD_QUALITY_H

#include <stdbool.h>

#include "td_json.h"
#include "td_mem.h"
#include "td_utf8.h"

/* One turn: pointers into the caller's memory (need not be NUL-terminated). */
typedef struct td_qturn
{
	const char *role;			/* NULL when missing or not a string */
	size_t		role_len;
	const char *content;		/* "" when missing or not a string */
	size_t		len;			/* bytes */
	bool		has_timestamp;
	bool		surveyed;		/* chars and marks are set (td_qturn_survey) */
	unsigned	marks;			/* the TD_MARK_* bytes content holds */
	size_t		chars;			/* code points of content */
} td_qturn;

/*
 * Read a turn's content once for the checks that follow: its code points
 * and its marks (td_utf8_survey).  A turn not surveyed is read by each
 * check as it needs (every mark taken as present).
 */
extern void td_qturn_survey(td_qturn *t);

/* The marks of a turn: its own when surveyed, else all of them. */
static inline unsigned
td_qturn_marks(const td_qturn *t)
{
	return t->surveyed ? t->marks : TD_MARKS_ALL;
}

/* The four component scores, in weight order. */
typedef struct td_quality_scores
{
	double		turn_count;
	double		response_length;
	double		structure;
	double		coherence;
} td_quality_scores;

/* The composite: sum of score / 10 * 10 * weight, rounded to 1 decimal. */
extern double td_quality_overall(const td_quality_scores *s);

/*
 * Score n turns (is_array false: the input was not an array of turns) and
 * append the metrics object to out; *overall receives the composite.
 */
extern void td_quality_metrics_turns(const td_qturn *turns, long n, bool is_array,
									 td_buf *out, double *overall);

/* What a template expects of a conversation (quality_defects.h). */
struct td_quality_expect;

/* The same with an expectation of the template (NULL: none). */
extern void td_quality_metrics_expect(const td_qturn *turns, long n, bool is_array,
									  const struct td_quality_expect *expect, td_buf *out, double *overall);

/* The same written to a document writer (td_doc.h). */
struct td_doc;
extern void td_quality_metrics_doc(const td_qturn *turns, long n, bool is_array,
								   const struct td_quality_expect *expect, struct td_doc *doc, double *overall);

/*
 * Release what the scorer and the detectors keep across calls beyond what
 * a session keeps (td_defect_kept_trim, td_vocabulary_kept_trim): for the
 * backend when a transaction aborts, after a call an error cut short
 * before it trimmed its tables itself.  Never while a call is in progress.
 */
extern void td_quality_kept_trim(void);

/* The overall score alone (no metrics object: the fast path). */
extern double td_quality_score_turns(const td_qturn *turns, long n, bool is_array);

/*
 * The turns of a JSON value (an array of {role, content, timestamp?}; *n is
 * 0 for anything else): pointers into it, in an array the caller frees with
 * td_free.
 */
extern td_qturn *td_quality_json_turns(const td_json *turns, long *n);

/* The same for a JSON value: an array of {role, content, timestamp?}. */
extern void td_quality_metrics(const td_json *turns, td_buf *out, double *overall);
extern void td_quality_metrics_json_expect(const td_json *turns, const struct td_quality_expect *expect,
										   td_buf *out, double *overall);
extern double td_quality_score(const td_json *turns);

#endif							/* TD_QUALITY_H */
