/*
 * quality_defects.h — defect verdicts of a conversation (pure C core of the
 * "defects", "defectDetails" and "defectSeverity" members of
 * quality_metrics, and of quality_defects).
 *
 * Codes, in the order they are listed:
 *   leaked_placeholder   a template placeholder left in a turn: "{{" up to
 *                        TD_PLACEHOLDER_MAX_BYTES bytes on one line "}}"
 *                        (render.c's {{name}}, {{name.member}},
 *                        {{name ? 'a' : 'b'}}, and anything else in double
 *                        braces), or a Jinja "{% ... %}" block
 *   special_token        a chat-format token left in a turn: <|...|> (e.g.
 *                        <|im_end|>), <think>, </think>, [INST], [/INST],
 *                        <<SYS>>, <</SYS>>, <s>, </s>
 *   refusal              an assistant turn holds a refusal or model
 *                        disclaimer (phrase list in quality_defects.c,
 *                        matched on normalised words: case, punctuation and
 *                        apostrophes ignored, contractions expanded)
 *   truncated_last_turn  the last turn stops mid-sentence or leaves a code
 *                        fence open (see quality_thresholds.h)
 *   empty_turn           a turn whose content is missing, empty, or only
 *                        white space / invisible characters (Unicode)
 *   looping_turn         a turn repeats itself (Gopher repetition measures
 *                        per turn, see quality_thresholds.h)
 *   duplicate_turns      a turn has the same words as an earlier one
 *   role_order           a role that is not user, assistant or system (any
 *                        case); system past the first turn; the first other
 *                        turn not from the expected first role (user unless
 *                        the expectation says otherwise); two turns in a
 *                        row from the same role
 *   one_sided            two or more turns, none from the user or none
 *                        from the assistant (role_order reports the turns
 *                        out of order too)
 *   too_few_turns        fewer than TD_DEFECT_MIN_TURNS turns, or turns
 *                        that are not an array
 *   length_mismatch      far fewer or more turns than expected (only with
 *                        an expectation)
 *   duplicate_in_batch   never found in turns: a completion whose item
 *                        asks for dedupe marks a near copy of an earlier
 *                        conversation of its batch (batch_duplicate())
 * Soft codes (pending_review, not needs_revision): refusal,
 * truncated_last_turn, length_mismatch, duplicate_in_batch; see
 * quality_thresholds.h.
 *
 * Each detail is {"turn": n (1-based) or null for the whole conversation,
 * "measure": name, "value": what was found, "threshold": the limit or
 * null}; a code found on several turns has an array of details, one per
 * turn, in turn order.
 */
#ifndef TD_QUALITY_DEFECTS_H
#define TD_QUALITY_DEFECTS_H

#include <stdbool.h>
#include <stdint.h>

#include "quality.h"
#include "td_doc.h"
#include "td_json.h"
#include "td_mem.h"
#include "td_text.h"
#include "td_words.h"

typedef enum td_defect
{
	TD_DEFECT_LEAKED_PLACEHOLDER,
	TD_DEFECT_SPECIAL_TOKEN,
	TD_DEFECT_REFUSAL,
	TD_DEFECT_TRUNCATED_LAST_TURN,
	TD_DEFECT_EMPTY_TURN,
	TD_DEFECT_LOOPING_TURN,
	TD_DEFECT_DUPLICATE_TURNS,
	TD_DEFECT_ROLE_ORDER,
	TD_DEFECT_ONE_SIDED,
	TD_DEFECT_TOO_FEW_TURNS,
	TD_DEFECT_LENGTH_MISMATCH,
	TD_DEFECT_DUPLICATE_IN_BATCH,	/* never found in turns: set by a completion */
	TD_DEFECT_COUNT
} td_defect;

/* The code of a defect ("leaked_placeholder", ...). */
extern const char *td_defect_code(td_defect d);

/* Is the defect soft (pending_review rather than needs_revision)? */
extern bool td_defect_is_soft(td_defect d);

/* One line describing the defect (for the reference and quality_defect_codes). */
extern const char *td_defect_description(td_defect d);

/* What the template expects of a conversation (all optional). */
typedef struct td_quality_expect
{
	long		min_turns;		/* 0: no bound */
	long		max_turns;		/* 0: no bound */
	const char *first_role;		/* "user" or "assistant"; NULL: "user" */
} td_quality_expect;

/* Status of a td_error from td_quality_expect_parse. */
#define TD_EXPECT_BAD 1

/*
 * Read an expectation: NULL or JSON null (none); a number T (the expected
 * turn count: at least T × TD_LENGTH_MIN_RATIO, at most T ×
 * TD_LENGTH_MAX_RATIO turns); or an object with any of "turns" (as the
 * number), "minTurns", "maxTurns" (bounds; override those of "turns") and
 * "firstRole" ("user" or "assistant"); other members are ignored.  Counts
 * are integers 1..TD_EXPECT_MAX_TURNS.  False with err set (status
 * TD_EXPECT_BAD) when malformed.
 */
extern bool td_quality_expect_parse(const td_json *v, td_quality_expect *e, td_error *err);

/* A bit per defect found (1 << td_defect). */
typedef uint32_t td_defect_mask;

/*
 * The defects of n turns (is_array false: the input was not an array);
 * expect may be NULL.  With details, the report keeps what triggered each
 * defect for td_defect_report_write.  When signal_refusal_turns is not
 * NULL it receives quality_metrics' older refusalTurns signal (turns
 * holding one of its phrases), found on the same walk over the words.
 * Free the report with td_defect_report_free.
 */
typedef struct td_defect_report td_defect_report;
extern td_defect_report *td_defect_report_make(const td_qturn *turns, long n, bool is_array,
											   const td_quality_expect *expect, bool details,
											   long *signal_refusal_turns);

/*
 * The words of one turn as the detectors read them (td_words.h: hashes,
 * byte spans), characters of words [0, i) in cprefix[i], and whether word
 * i is also a whole white-space word: ASCII letters and digits only, with
 * white space or the text's edge on both sides.
 */
typedef struct td_turn_words
{
	const td_word *words;
	const uint32_t *cprefix;
	const uint32_t *whole;
	size_t		n;
} td_turn_words;

/* Called with each turn, in order: its text and its words (NULL: none read, an empty turn). */
typedef void (*td_turn_words_fn) (void *arg, const char *text, size_t len, const td_turn_words *words);

/* td_defect_report_make, handing each turn's words to fn(arg, ...) as they are read. */
extern td_defect_report *td_defect_report_make_with(const td_qturn *turns, long n, bool is_array,
													const td_quality_expect *expect, bool details,
													long *signal_refusal_turns, td_turn_words_fn fn, void *arg);

/*
 * Release the memory the detectors keep across calls if a large text made
 * it grow past what a session keeps; a call does it at its end, the
 * backend also when a transaction aborts (a call cut short by an error).
 * Never while a call is in progress.
 */
extern void td_defect_kept_trim(void);

/* The defects of a report. */
extern td_defect_mask td_defect_report_mask(const td_defect_report *r);

/* The members a report writes. */
typedef enum td_report_member
{
	TD_REPORT_DEFECTS = 1,		/* "defects": the codes */
	TD_REPORT_DETAILS = 2,		/* "defectDetails" */
	TD_REPORT_SEVERITY = 4,		/* "defectSeverity" */
	TD_REPORT_ALL = 7
} td_report_member;

/*
 * Write the members of the report that members (td_report_member bits)
 * names, in that order, into the object being written (a report made with
 * details); a caller writing its keys in jsonb's order writes each where
 * it sorts.
 */
extern void td_defect_report_write(const td_defect_report *r, struct td_doc *doc, unsigned members);

extern void td_defect_report_free(td_defect_report *r);

/*
 * The same writing JSON text: when out is not NULL appends
 * ,"defects":[...],"defectDetails":{...},"defectSeverity":"none"|"soft"|"hard"
 * (members of an object being written, so a comma first).
 */
extern td_defect_mask td_quality_defects(const td_qturn *turns, long n, bool is_array,
										 const td_quality_expect *expect, td_buf *out);

/* "none", "soft" (only soft defects) or "hard". */
extern const char *td_defect_severity(td_defect_mask mask);

#endif							/* TD_QUALITY_DEFECTS_H */
