/*
 * quality_thresholds.h — every threshold of the defect verdicts
 * (quality_defects.c), with the measure it applies to and where it comes
 * from.  "Gopher" is the MassiveText repetition filter (Rae et al. 2021,
 * Table A1, datatrove defaults), "FineWeb"/"C4" the datatrove filters of
 * those names (../shared/spec/QUALITY.md); "own" values were calibrated on
 * the corpus of test/unit/quality_eval_test.c (clean conversations of 2 to
 * 24 turns in five languages, and copies with one planted defect each).
 *
 * Severity.  A hard defect sends a completion to needs_revision; a soft
 * one (TD_DEFECT_SOFT below) to pending_review, because the detector is a
 * heuristic a person should confirm:
 *   refusal              phrase lists also match legitimate answers of a
 *                        support assistant ("I'm unable to refund ...");
 *                        QUALITY.md 3.5: "flag, not auto-reject";
 *   truncated_last_turn  a turn may end without punctuation on purpose
 *                        (a list, a URL, a signature);
 *   length_mismatch      the template's count is a wish, not a rule.
 * Every other defect is hard.
 */
#ifndef TD_QUALITY_THRESHOLDS_H
#define TD_QUALITY_THRESHOLDS_H

/* --- looping_turn: repetition within one turn (Gopher, per turn) ---------- */

/*
 * Duplicate lines / lines of the turn (lines that are not blank; a line
 * counts as a duplicate when an earlier line of the turn has the same
 * words).  Gopher 0.30; own: only for turns of at least 4 lines (a 2-line
 * turn with one repeat is 0.5 and is not a loop).
 */
#define TD_LOOP_DUP_LINE_FRAC 0.30
#define TD_LOOP_MIN_LINES 4

/* Duplicate paragraphs (split on blank lines) / paragraphs: Gopher 0.30; own minimum 3 paragraphs. */
#define TD_LOOP_DUP_PARA_FRAC 0.30
#define TD_LOOP_MIN_PARAS 3

/*
 * Duplicate sentences / sentences (split after . ! ? … 。！？ and line
 * ends): the line rule of Gopher applied to sentences, since model output
 * loops within a paragraph; Gopher 0.30; own minimum 4 sentences.
 */
#define TD_LOOP_DUP_SENTENCE_FRAC 0.30
#define TD_LOOP_MIN_SENTENCES 4

/*
 * Characters of the most frequent repeated word 2-, 3-, 4-gram × its count
 * / characters of the turn's words (Gopher 0.20, 0.18, 0.16).  Only an
 * n-gram seen at least twice counts (Gopher takes the most common one even
 * when it occurs once, which on a 30-word turn is above any threshold).
 */
#define TD_LOOP_TOP2_FRAC 0.20
#define TD_LOOP_TOP3_FRAC 0.18
#define TD_LOOP_TOP4_FRAC 0.16

/*
 * Characters of words in duplicated 5- to 10-grams (Gopher's
 * non-overlapping walk) / characters of the turn's words: Gopher 0.15,
 * 0.14, 0.13, 0.12, 0.11, 0.10.
 */
#define TD_LOOP_DUP5_FRAC 0.15
#define TD_LOOP_DUP6_FRAC 0.14
#define TD_LOOP_DUP7_FRAC 0.13
#define TD_LOOP_DUP8_FRAC 0.12
#define TD_LOOP_DUP9_FRAC 0.11
#define TD_LOOP_DUP10_FRAC 0.10

/*
 * The n-gram rules apply to turns of at least this many words (own: below
 * it one repeated phrase of a short answer passes the fractions; Gopher
 * applies them to documents of 50 words or more).
 */
#define TD_LOOP_MIN_WORDS 24

/*
 * The top n-gram rules (TD_LOOP_TOP2_FRAC ...) apply to turns of at least
 * this many words: Gopher's own minimum for a document.  On a shorter
 * answer the subject's name said three times passes the fraction (a review
 * of the thirty-sixth session: "emergency fund" three times in 28 words,
 * 0.251 of 2-gram characters; a clean Chinese answer of 40 ideographs,
 * 0.205), while a loop in a short turn is caught by the duplicated 5- to
 * 10-gram and sentence rules.
 */
#define TD_LOOP_TOP_MIN_WORDS 50

/*
 * The top n-gram rules count an n-gram seen at least this many times.  Own:
 * Gopher takes the most common n-gram whatever its count; on a turn of a few
 * dozen words a phrase said twice is ordinary speech ("the money you cannot
 * lose, then the money you can grow": 0.205 of a 24-word answer passed the
 * 3-gram fraction), while a loop says it again and again.
 */
#define TD_LOOP_TOP_MIN_COUNT 3

/*
 * A word of more than this many characters is a loop of characters
 * ("hahaha…", "0000…"): C4 drops lines with a word over 1,000 characters
 * (QUALITY.md 3.3).  Code is not read for it (a review of 1.2 found
 * 6,000-character "words" passing).
 */
#define TD_LOOP_MAX_WORD_CHARS 1000

/* --- duplicate_turns ------------------------------------------------------ */

/*
 * Two turns with the same words (case, punctuation and white space
 * ignored) and at least this many characters of words: own (a repeated
 * "Thank you!" or "Yes." of a user is a normal conversation; QUALITY.md
 * 3.5 proposes identical normalised text).
 */
#define TD_DUP_TURN_MIN_CHARS 12

/* --- truncated_last_turn --------------------------------------------------- */

/*
 * The last turn ends in a letter, a digit or one of , ; : - ( / & + = (not
 * in terminal punctuation . ! ? … " ' ) ] } * ` » ” ’ 。！？」』 or an
 * emoji or symbol), or leaves a ``` code fence open.  C4 keeps lines ending
 * in terminal punctuation; FineWeb's rule is a fraction of lines (< 0.12),
 * for pages; a conversation's last turn is one unit, so the rule applies to
 * it alone.  Own: turns of fewer than this many words are not judged (a
 * closing "Bye" or "Ok").
 */
#define TD_TRUNC_MIN_WORDS 3

/* --- length_mismatch (the template's turn count) --------------------------- */

/*
 * Far shorter / longer than an expected count T: fewer than T × MIN_RATIO
 * or more than T × MAX_RATIO turns (own: "far" is half or double; explicit
 * minTurns / maxTurns bounds apply as given).
 */
#define TD_LENGTH_MIN_RATIO 0.5
#define TD_LENGTH_MAX_RATIO 2.0

/* Largest turn count an expectation may name. */
#define TD_EXPECT_MAX_TURNS 10000

/* --- too_few_turns --------------------------------------------------------- */

/* Fewer turns than a conversation needs (parse_response's TD_MIN_TURNS; Bedrock: ≥ 2 messages). */
#define TD_DEFECT_MIN_TURNS 2

/* --- leaked_placeholder ---------------------------------------------------- */

/*
 * Longest text between "{{" and "}}" (or "{%" and "%}") taken as a
 * placeholder, in bytes, on one line: own (render.c's placeholders are a
 * name, name.member or a short ternary).
 */
#define TD_PLACEHOLDER_MAX_BYTES 120

#endif							/* TD_QUALITY_THRESHOLDS_H */
