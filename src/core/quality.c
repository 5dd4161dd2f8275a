/*
 * quality.c — conversation quality scoring, Engine A of the original system.
 * See quality.h.  Lengths count characters (code points), not bytes; the
 * case-insensitive comparisons fold ASCII letters only.
 */
#include "quality.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quality_defects.h"
#include "quality_vocabulary.h"
#include "td_doc.h"
#include "td_swar.h"
#include "td_text.h"
#include "td_utf8.h"

#define W_TURNS 0.30
#define W_LENGTH 0.25
#define W_STRUCTURE 0.30
#define W_COHERENCE 0.15
#define REASON_SIZE 128

/* Messages gathered while scoring (string constants). */
typedef struct findings
{
	const char **issues;
	size_t		nissues;
	const char **suggestions;
	size_t		nsuggestions;
	size_t		cap[2];
	bool		wanted;			/* false: scoring alone, skip the messages */
} findings;

/* One turn with its length in characters. */
typedef struct qturn
{
	const char *role;
	size_t		role_len;
	const char *content;
	size_t		len;			/* bytes */
	size_t		chars;			/* code points */
	unsigned	marks;			/* td_qturn_marks */
	size_t		trim_b,			/* content without surrounding white space */
				trim_e;
	bool		has_timestamp;
} qturn;

/* Everything computed about one conversation. */
typedef struct scored
{
	td_quality_scores s;
	char		reason_buf[4][REASON_SIZE];
	double		overall;
	double		uniqueness;
	long		n;
	long		dups;			/* turns repeating an earlier one (coherence, signals) */
} scored;

/* Append a message to a list (at most one per turn and component: bounded by the input). */
static void
add(findings *f, const char ***list, size_t *count, size_t *cap, const char *message)
{
	if (!f->wanted)
		return;
	if (*count == *cap)
	{
		*cap = *cap ? *cap * 2 : 8;
		*list = td_realloc(*list, *cap * sizeof(const char *));
	}
	(*list)[(*count)++] = message;
}

#define NO_NUMBER LONG_MIN

/* Append text to a reason of len bytes (clipped to REASON_SIZE); returns its new length. */
static size_t
reason_put(char *reason, size_t len, const char *text)
{
	while (*text && len + 1 < REASON_SIZE)
		reason[len++] = *text++;
	reason[len] = '\0';
	return len;
}

/* Append a whole number to a reason of len bytes (none for NO_NUMBER); returns its new length. */
static size_t
reason_put_long(char *reason, size_t len, long x)
{
	char		digits[24];
	int			k = (int) sizeof(digits) - 1;
	unsigned long u = x < 0 ? 0UL - (unsigned long) x : (unsigned long) x;

	if (x == NO_NUMBER)
		return len;
	digits[k] = '\0';
	do
		digits[--k] = (char) ('0' + u % 10);
	while ((u /= 10) != 0);
	if (x < 0)
		digits[--k] = '-';
	return reason_put(reason, len, digits + k);
}

/*
 * Write a component's reason, unless scoring alone: text, a number, text,
 * a number, text (NO_NUMBER: none; printf is too slow for every call).
 */
static void
explain(const findings *f, char *reason, const char *a, long x, const char *b, long y, const char *c)
{
	size_t		len;

	if (!f->wanted)
		return;
	reason[0] = '\0';
	len = reason_put(reason, 0, a);
	len = reason_put_long(reason, len, x);
	len = reason_put(reason, len, b);
	len = reason_put_long(reason, len, y);
	(void) reason_put(reason, len, c);
}

#define ISSUE(f, m) add((f), &(f)->issues, &(f)->nissues, &(f)->cap[0], (m))
#define SUGGEST(f, m) add((f), &(f)->suggestions, &(f)->nsuggestions, &(f)->cap[1], (m))

/* JavaScript Math.round(x * 10) / 10. */
static double
round1(double x)
{
	return floor(x * 10.0 + 0.5) / 10.0;
}

/* See quality.h. */
double
td_quality_overall(const td_quality_scores *s)
{
	double		sum = 0.0;

	sum += s->turn_count / 10.0 * 10.0 * W_TURNS;
	sum += s->response_length / 10.0 * 10.0 * W_LENGTH;
	sum += s->structure / 10.0 * 10.0 * W_STRUCTURE;
	sum += s->coherence / 10.0 * 10.0 * W_COHERENCE;
	return round1(sum);
}

/* ASCII lower case of one byte. */
static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
}

/* A word with its length (a list that has_any_word looks for ends with a NULL word). */
typedef struct listed_word
{
	const char *w;
	size_t		len;
} listed_word;

#define LISTED(s) {s, sizeof(s) - 1}

/* The role each turn is expected from, by turn number: even user, odd assistant. */
static const listed_word turn_roles[2] = {LISTED("user"), LISTED("assistant")};

/*
 * Is one of the words (lower case, starting with a letter; a word may
 * hold spaces) at text[i], a position where a word starts, as a whole
 * word ignoring case?  firsts: bit c - 'a' of each word's first letter.
 */
static inline bool
word_starts_here(const char *text, size_t len, size_t i, const listed_word *words, uint32_t firsts)
{
	char		c = lower(text[i]);

	if (c < 'a' || c > 'z' || !(firsts & (UINT32_C(1) << (c - 'a'))))
		return false;
	for (const listed_word *w = words; w->w; w++)
		if (w->w[0] == c && td_ascii_word_at(text, len, i, w->w, w->len))
			return true;
	return false;
}

/*
 * Does text contain any of the words (lower case, starting with a letter;
 * a word may hold spaces) as a whole word, ignoring case?  The positions
 * where a word starts (a letter, digit or _ with none of them before it)
 * are found sixteen bytes at a time (SSE2), the rest eight at a time;
 * each whose letter begins one of the words is compared with those words.
 */
static bool
has_any_word(const char *text, size_t len, const listed_word *words)
{
	uint32_t	firsts = 0;		/* bit c - 'a' of each word's first letter */
	uint64_t	before = 0;		/* bit 7 set: the byte before the block is a word character */
	size_t		p = 0;

	for (const listed_word *w = words; w->w; w++)
		firsts |= UINT32_C(1) << (w->w[0] - 'a');
#if defined(__SSE2__)
	for (unsigned prev = 0; p + 16 <= len; p += 16)
	{
		unsigned	word = td_alnum16(text + p, NULL) | td_byte16_eq(text + p, '_'),
					starts = word & ~((word << 1) | prev);

		if ((p & 4095) == 0)
			TD_CHECK_FOR_INTERRUPTS();	/* every 4 KiB */
		prev = (word >> 15) & 1;
		before = (uint64_t) prev << 7;
		for (; starts != 0; starts &= starts - 1)
			if (word_starts_here(text, len, p + td_ctz64(starts), words, firsts))
				return true;
	}
#endif
	for (; p < len; p += 8)
	{
		uint64_t	raw = len - p >= 8 ? td_load_le(text + p, 8) : td_load_le(text + p, len - p),	/* one load */
					word = td_ascii_alnum_bytes(raw) | (td_bytes_zero(raw ^ ('_' * TD_ONES)) & TD_HIGHS),
					starts = word & ~((word << 8) | before);

		TD_CHECK_FOR_INTERRUPTS();
		before = word >> 56;	/* the last byte's high bit, as the next block's byte 0 */
		for (; starts != 0; starts &= starts - 1)
			if (word_starts_here(text, len, p + td_ctz64(starts) / 8, words, firsts))
				return true;
	}
	return false;
}

/* Bytes content_cmp compares between two ticks. */
#define CONTENT_CMP_CHUNK 4096

/* Order of turns by trimmed content, ASCII case folded (qsort of pointers). */
static int
content_cmp(const void *a, const void *b)
{
	const qturn *x = *(const qturn *const *) a;
	const qturn *y = *(const qturn *const *) b;
	size_t		len = x->trim_e - x->trim_b;
	const char *px = x->content + x->trim_b;
	const char *py = y->content + y->trim_b;

	TD_CHECK_FOR_INTERRUPTS();
	if (len != y->trim_e - y->trim_b)
		return len < y->trim_e - y->trim_b ? -1 : 1;
	/*
	 * A chunk at a time, each a tick (two turns of megabytes alike but for
	 * their last byte took seconds between checks, a review of 1.2): one
	 * whose bytes are equal is equal folded too; one that differs is
	 * compared folded, byte by byte.
	 */
	for (size_t at = 0; at < len; at += CONTENT_CMP_CHUNK)
	{
		size_t		n = len - at < CONTENT_CMP_CHUNK ? len - at : CONTENT_CMP_CHUNK;

		TD_CHECK_FOR_INTERRUPTS();
		if (memcmp(px + at, py + at, n) == 0)
			continue;
		for (size_t i = at; i < at + n; i++)
		{
			unsigned char cx = (unsigned char) lower(px[i]);
			unsigned char cy = (unsigned char) lower(py[i]);

			if (cx != cy)
				return cx < cy ? -1 : 1;
		}
	}
	return 0;
}

/* Are two turns' trimmed contents the same, ASCII case folded? */
static bool
same_content(const qturn *x, const qturn *y)
{
	return x->trim_e - x->trim_b == y->trim_e - y->trim_b && content_cmp(&x, &y) == 0;
}

#define DUP_PAIRWISE_MAX 32		/* up to this many turns, compare every pair */

/*
 * Number of turns that repeat an earlier one (total − distinct): a few
 * turns compared pair by pair (most pairs differ in length), more by sorting.
 */
static long
duplicate_count(const qturn *turns, long n)
{
	const qturn **sorted;
	long		dups = 0;

	if (n <= DUP_PAIRWISE_MAX)
	{
		for (long i = 1; i < n; i++)
			for (long j = 0; j < i; j++)
				if (same_content(&turns[i], &turns[j]))
				{
					dups++;
					break;
				}
		return dups;
	}
	sorted = td_malloc((size_t) n * sizeof(qturn *));
	for (long i = 0; i < n; i++)
		sorted[i] = &turns[i];
	td_sort(sorted, (size_t) n, sizeof(qturn *), content_cmp);
	for (long i = 1; i < n; i++)
		if (content_cmp(&sorted[i], &sorted[i - 1]) == 0)
			dups++;
	td_free(sorted);
	return dups;
}

/* Turn count component. */
static double
score_turns(long n, findings *f, scored *r)
{
	explain(f, r->reason_buf[0], "", n, " turns", NO_NUMBER, "");
	if (n >= 8 && n <= 16)
		return 10;
	if (n >= 6 && n <= 20)
	{
		SUGGEST(f, n < 8 ? "Consider adding turns: 8 to 16 is optimal" : "Consider reducing turns: 8 to 16 is optimal");
		return 7;
	}
	ISSUE(f, n < 8 ? "Too few turns: 8 to 16 is optimal" : "Too many turns: 8 to 16 is optimal");
	return n >= 4 && n <= 24 ? 4 : 2;
}

/* Response length component. */
static double
score_length(const qturn *turns, long n, findings *f, scored *r)
{
	double		total = 0,
				avg;
	bool		extreme = false;

	if (n == 0)
	{
		explain(f, r->reason_buf[1], "no turns", NO_NUMBER, "", NO_NUMBER, "");
		return 0;
	}
	for (long i = 0; i < n; i++)
	{
		total += (double) turns[i].chars;
		if (turns[i].chars < 20 || turns[i].chars > 1000)
			extreme = true;
	}
	avg = total / n;
	explain(f, r->reason_buf[1], "average turn length ", (long) rint(avg), " characters", NO_NUMBER, "");	/* %.0f */
	if (extreme)
		SUGGEST(f, "Some turns are shorter than 20 or longer than 1000 characters");
	if (avg >= 100 && avg <= 500)
		return 10;
	if (avg >= 50 && avg <= 800)
	{
		SUGGEST(f, "Average turn length outside the optimal 100 to 500 characters");
		return 7;
	}
	ISSUE(f, avg < 100 ? "Turns are too short on average" : "Turns are too long on average");
	return avg >= 20 && avg <= 1200 ? 4 : 2;
}

/* Structure component. */
static double
score_structure(const qturn *turns, long n, bool is_array, findings *f, scored *r)
{
	double		score = 10;
	bool		no_timestamp = false;

	if (!is_array)
	{
		ISSUE(f, "Turns are not an array");
		explain(f, r->reason_buf[2], "turns are not an array", NO_NUMBER, "", NO_NUMBER, "");
		return 0;
	}
	if (n < 2)
	{
		score -= 5;
		ISSUE(f, "A conversation needs at least 2 turns");
	}
	for (long i = 0; i < n; i++)
	{
		const listed_word *expected = &turn_roles[i % 2];

		if (turns[i].role == NULL)
		{
			score -= 2;
			ISSUE(f, "A turn has no role");
		}
		else if (turns[i].role_len != expected->len || memcmp(turns[i].role, expected->w, expected->len) != 0)
		{
			score -= 3;
			ISSUE(f, i % 2 == 0 ? "A turn expected from the user is not" : "A turn expected from the assistant is not");
		}
		if (turns[i].trim_b == turns[i].trim_e)
		{
			score -= 2;
			ISSUE(f, "A turn has empty content");
		}
		if (!turns[i].has_timestamp)
			no_timestamp = true;
	}
	if (no_timestamp && n > 0)
		SUGGEST(f, "Turns have no timestamps");
	explain(f, r->reason_buf[2], "roles and contents of ", n, " turns", NO_NUMBER, "");
	return score < 0 ? 0 : score;
}

/* Coherence component. */
static double
score_coherence(const qturn *turns, long n, findings *f, scored *r)
{
	static const listed_word greetings[] = {LISTED("hello"), LISTED("hi"), LISTED("hey"), LISTED("greetings"),
		LISTED("good morning"), LISTED("good afternoon"), LISTED("good evening"), {NULL, 0}};
	static const listed_word closings[] = {LISTED("bye"), LISTED("goodbye"), LISTED("thank"), LISTED("thanks"),
	LISTED("appreciate"), LISTED("farewell"), {NULL, 0}};
	double		score = 10;
	long		short_turns = 0,
				dups;

	if (n == 0)
	{
		explain(f, r->reason_buf[3], "no turns", NO_NUMBER, "", NO_NUMBER, "");
		return 0;
	}
	for (long i = 0; i < n; i++)
		if (turns[i].chars < 10)
			short_turns++;
	score -= short_turns < 3 ? short_turns : 3;
	dups = r->dups = duplicate_count(turns, n);
	if (dups > 0)
	{
		score -= dups < 2 ? dups : 2;
		SUGGEST(f, "Some turns repeat each other");
	}
	if (!f->wanted)				/* the rest only explains the score */
		return score < 0 ? 0 : score;
	if (!has_any_word(turns[0].content, turns[0].len, greetings))
		SUGGEST(f, "The first turn has no greeting");
	if (n >= 6 && !has_any_word(turns[n - 1].content, turns[n - 1].len, closings))
		SUGGEST(f, "The last turn has no closing");
	explain(f, r->reason_buf[3], "", short_turns, " short and ", dups, " repeated turns");
	return score < 0 ? 0 : score;
}

/* Vocabulary diversity: distinct / total words longer than 3 characters. */
static double
uniqueness(const td_vocabulary *v)
{
	return floor((double) v->distinct_long / (double) (v->total_long ? v->total_long : 1) * 100.0 + 0.5) / 10.0;
}

/* Write {"score": ..., "reason": ..., "weight": ..., "maxScore": 10} (its keys declared, in jsonb's order). */
static void
put_component(td_doc *doc, const char *name, double score, double weight, const char *reason)
{
	static const char *const keys[] = {"score", "reason", "weight", "maxScore"};

	td_doc_key(doc, name);
	td_doc_begin_keyed(doc, keys);
	td_doc_key(doc, "score");
	doc->ops->number(doc, score);
	td_doc_key(doc, "reason");
	td_doc_string(doc, reason);
	td_doc_key(doc, "weight");
	doc->ops->number(doc, weight);
	td_doc_key(doc, "maxScore");
	doc->ops->integer(doc, 10);
	doc->ops->end_object(doc);
}

/* Write a list of messages. */
static void
put_messages(td_doc *doc, const char *name, const char *const *list, size_t n)
{
	td_doc_key(doc, name);
	doc->ops->begin_array(doc);
	for (size_t i = 0; i < n; i++)
		td_doc_string(doc, list[i]);
	doc->ops->end_array(doc);
}

/* Count the "{{" each closed by a later "}}" (memchr finds the candidates). */
static long
placeholder_count(const char *s, size_t len)
{
	const char *p = s,
			   *end = s + len;
	long		n = 0;

	while (p + 1 < end && (p = memchr(p, '{', (size_t) (end - p - 1))) != NULL)
	{
		const char *q;

		TD_CHECK_FOR_INTERRUPTS();
		if (p[1] != '{')
		{
			p++;
			continue;
		}
		for (q = p + 2; q + 1 < end; q++)
		{
			if ((q = memchr(q, '}', (size_t) (end - q - 1))) == NULL)
				return n;
			if (q[1] == '}')
				break;
		}
		if (q + 1 >= end)
			return n;
		n++;
		p = q + 2;
	}
	return n;
}

/*
 * Extra defect signals (never part of the overall score); refusal_turns
 * comes from the defect detectors' walk (quality_defects.h).
 */
static const char *const signal_keys[] = {"refusalTurns", "repeatedTurns", "roleImbalance", "repeatedNgrams",
"truncatedLastTurn", "unresolvedPlaceholders"};

static void
put_signals(const qturn *turns, long n, const td_vocabulary *v, long dups, long refusal_turns, td_doc *doc)
{
	long		placeholders = 0,
				users = 0,
				assistants = 0;
	bool		truncated = false;

	for (long i = 0; i < n; i++)
	{
		if (turns[i].marks & TD_MARK_BRACE)
			placeholders += placeholder_count(turns[i].content, turns[i].len);
		if (turns[i].role && turns[i].role_len == 4 && memcmp(turns[i].role, "user", 4) == 0)
			users++;
		else if (turns[i].role && turns[i].role_len == 9 && memcmp(turns[i].role, "assistant", 9) == 0)
			assistants++;
	}
	if (n > 0 && turns[n - 1].trim_e > turns[n - 1].trim_b)
	{
		char		last = turns[n - 1].content[turns[n - 1].trim_e - 1];

		truncated = strchr(".!?\"')]*", last) == NULL && (unsigned char) last < 0x80;
	}
	td_doc_key(doc, "signals");
	td_doc_begin_keyed(doc, signal_keys);
	td_doc_key(doc, "refusalTurns");
	doc->ops->integer(doc, refusal_turns);
	td_doc_key(doc, "repeatedTurns");
	doc->ops->integer(doc, dups);
	td_doc_key(doc, "roleImbalance");
	doc->ops->integer(doc, users > assistants ? users - assistants : assistants - users);
	td_doc_key(doc, "repeatedNgrams");
	doc->ops->integer(doc, v->repeated_ngrams);
	td_doc_key(doc, "truncatedLastTurn");
	doc->ops->boolean(doc, truncated);
	td_doc_key(doc, "unresolvedPlaceholders");
	doc->ops->integer(doc, placeholders);
	doc->ops->end_object(doc);
}

/* The scoring input with character counts. */
static qturn *
count_turns(const td_qturn *in, long n)
{
	qturn	   *out = td_malloc((n ? n : 1) * sizeof(qturn));

	for (long i = 0; i < n; i++)
	{
		out[i].role = in[i].role;
		out[i].role_len = in[i].role_len;
		out[i].content = in[i].content ? in[i].content : "";
		out[i].len = in[i].content ? in[i].len : 0;
		out[i].chars = in[i].surveyed ? in[i].chars : td_utf8_count(out[i].content, out[i].len);
		out[i].marks = td_qturn_marks(&in[i]);
		out[i].has_timestamp = in[i].has_timestamp;
		out[i].trim_b = 0;
		out[i].trim_e = out[i].len;
		td_trim(out[i].content, &out[i].trim_b, &out[i].trim_e);
	}
	return out;
}

/* The four components (findings collected in f). */
static void
score_components(const qturn *t, long n, bool is_array, findings *f, scored *r)
{
	r->n = n;
	r->s.turn_count = score_turns(n, f, r);
	r->s.response_length = score_length(t, n, f, r);
	r->s.structure = score_structure(t, n, is_array, f, r);
	r->s.coherence = score_coherence(t, n, f, r);
	r->overall = td_quality_overall(&r->s);
}

/* Set up empty findings. */
static void
findings_init(findings *f, bool wanted)
{
	memset(f, 0, sizeof(*f));
	f->wanted = wanted;
}

/* Release findings. */
static void
findings_free(findings *f)
{
	td_free(f->issues);
	td_free(f->suggestions);
}

/* See quality.h. */
double
td_quality_score_turns(const td_qturn *turns, long n, bool is_array)
{
	qturn	   *t = count_turns(turns, n);
	findings	f;
	scored		r;

	memset(&r, 0, sizeof(r));
	findings_init(&f, false);
	score_components(t, n, is_array, &f, &r);
	findings_free(&f);
	td_free(t);
	return r.overall;
}

/* See quality.h. */
td_qturn *
td_quality_json_turns(const td_json *turns, long *n)
{
	td_qturn   *out;

	*n = (turns && turns->type == TD_JSON_ARRAY) ? (long) turns->count : 0;
	out = td_malloc((*n ? *n : 1) * sizeof(td_qturn));
	for (long i = 0; i < *n; i++)
	{
		const td_json *t = turns->items[i];
		const td_json *role = td_json_get(t, "role");
		const td_json *content = td_json_get(t, "content");
		const td_json *ts = td_json_get(t, "timestamp");

		out[i].role = (role && role->type == TD_JSON_STRING) ? role->str : NULL;
		out[i].role_len = out[i].role ? role->len : 0;
		out[i].content = (content && content->type == TD_JSON_STRING) ? content->str : "";
		out[i].len = (content && content->type == TD_JSON_STRING) ? content->len : 0;
		out[i].has_timestamp = ts != NULL && ts->type != TD_JSON_NULL;
		td_qturn_survey(&out[i]);
	}
	return out;
}

/* See quality.h. */
void
td_qturn_survey(td_qturn *t)
{
	t->marks = td_utf8_survey(t->content ? t->content : "", t->content ? t->len : 0, &t->chars);
	t->surveyed = true;
}

/* See quality.h. */
void
td_quality_metrics_turns(const td_qturn *turns, long n, bool is_array, td_buf *out, double *overall)
{
	td_quality_metrics_expect(turns, n, is_array, NULL, out, overall);
}

/* See quality.h. */
void
td_quality_metrics_expect(const td_qturn *turns, long n, bool is_array, const td_quality_expect *expect,
						  td_buf *out, double *overall)
{
	td_doc_text text;

	td_doc_text_init(&text, out);
	td_quality_metrics_doc(turns, n, is_array, expect, &text.doc, overall);
}

/* See quality.h. */
void
td_quality_kept_trim(void)
{
	td_defect_kept_trim();
	td_vocabulary_kept_trim();
}

/* Bytes of all the turns' contents. */
static size_t
total_bytes(const qturn *t, long n)
{
	size_t		bytes = 0;

	for (long i = 0; i < n; i++)
		bytes += t[i].len;
	return bytes;
}

/* A turn's words, as the detectors read them, into the vocabulary (td_turn_words_fn). */
static void
vocabulary_turn(void *arg, const char *text, size_t len, const td_turn_words *words)
{
	td_vocabulary_turn((td_vocabulary *) arg, text, len, words);
}

/*
 * The metrics document's keys, declared in jsonb's order (shorter first,
 * then bytewise) and written in that order: the jsonb writer lays the
 * document out as it goes.
 */
static const char *const metrics_keys[] = {"issues", "defects", "overall", "signals", "accuracy", "coherence",
	"relevance", "confidence", "uniqueness", "methodology", "naturalness", "suggestions", "defectDetails",
"trainingValue", "defectSeverity", "scoreBreakdown"};
static const char *const breakdown_keys[] = {"coherence", "structure", "turnCount", "responseLength"};

/* See quality.h. */
void
td_quality_metrics_doc(const td_qturn *turns, long n, bool is_array, const td_quality_expect *expect,
					   td_doc *doc, double *overall)
{
	scored		r;
	findings	f;
	td_vocabulary v;
	qturn	   *t = count_turns(turns, n);
	const char *confidence,
			   *training;
	long		refusal_turns = 0;
	td_defect_report *defects;

	memset(&r, 0, sizeof(r));
	findings_init(&f, true);
	score_components(t, n, is_array, &f, &r);
	/* the detectors' walk over the words gives the refusal signal and, as it goes, the vocabulary */
	td_vocabulary_begin(&v, total_bytes(t, n));
	defects = td_defect_report_make_with(turns, n, is_array, expect, true, &refusal_turns, vocabulary_turn, &v);
	td_vocabulary_end(&v);
	r.uniqueness = uniqueness(&v);
	confidence = (r.overall >= 8 && f.nissues == 0) ? "high" : (r.overall >= 6 && f.nissues <= 2) ? "medium" : "low";
	training = (r.overall >= 8 && n >= 8 && n <= 16) ? "high" : r.overall >= 6 ? "medium" : "low";

	td_doc_begin_keyed(doc, metrics_keys);
	put_messages(doc, "issues", f.issues, f.nissues);
	td_defect_report_write(defects, doc, TD_REPORT_DEFECTS);
	td_doc_key(doc, "overall");
	doc->ops->number(doc, r.overall);
	put_signals(t, n, &v, r.dups, refusal_turns, doc);
	td_doc_key(doc, "accuracy");
	doc->ops->number(doc, round1(r.s.coherence));
	td_doc_key(doc, "coherence");
	doc->ops->number(doc, round1(r.s.coherence));
	td_doc_key(doc, "relevance");
	doc->ops->number(doc, round1(r.s.structure));
	td_doc_key(doc, "confidence");
	td_doc_string(doc, confidence);
	td_doc_key(doc, "uniqueness");
	doc->ops->number(doc, r.uniqueness);
	td_doc_key(doc, "methodology");
	doc->ops->number(doc, round1(r.s.turn_count));
	td_doc_key(doc, "naturalness");
	doc->ops->number(doc, round1(r.s.response_length));
	put_messages(doc, "suggestions", f.suggestions, f.nsuggestions);
	td_defect_report_write(defects, doc, TD_REPORT_DETAILS);
	td_doc_key(doc, "trainingValue");
	td_doc_string(doc, training);
	td_defect_report_write(defects, doc, TD_REPORT_SEVERITY);
	td_doc_key(doc, "scoreBreakdown");
	td_doc_begin_keyed(doc, breakdown_keys);
	put_component(doc, "coherence", r.s.coherence, W_COHERENCE, r.reason_buf[3]);
	put_component(doc, "structure", r.s.structure, W_STRUCTURE, r.reason_buf[2]);
	put_component(doc, "turnCount", r.s.turn_count, W_TURNS, r.reason_buf[0]);
	put_component(doc, "responseLength", r.s.response_length, W_LENGTH, r.reason_buf[1]);
	doc->ops->end_object(doc);
	doc->ops->end_object(doc);
	td_defect_report_free(defects);

	*overall = r.overall;
	findings_free(&f);
	td_free(t);
}

/* See quality.h. */
void
td_quality_metrics(const td_json *turns, td_buf *out, double *overall)
{
	td_quality_metrics_json_expect(turns, NULL, out, overall);
}

/* See quality.h. */
void
td_quality_metrics_json_expect(const td_json *turns, const td_quality_expect *expect, td_buf *out, double *overall)
{
	long		n;
	td_qturn   *t = td_quality_json_turns(turns, &n);

	td_quality_metrics_expect(t, n, turns && turns->type == TD_JSON_ARRAY, expect, out, overall);
	td_free(t);
}

/* See quality.h. */
double
td_quality_score(const td_json *turns)
{
	long		n;
	td_qturn   *t = td_quality_json_turns(turns, &n);
	double		overall = td_quality_score_turns(t, n, turns && turns->type == TD_JSON_ARRAY);

	td_free(t);
	return overall;
}
