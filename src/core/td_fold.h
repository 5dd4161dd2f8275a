/*
 * td_fold.h — the code point a word is hashed by (td_words.c): a letter's
 * base when it has a canonical decomposition, nothing for a combining mark,
 * ASCII for fullwidth ASCII, so that the same text in NFC, NFD or fullwidth
 * forms gives the same words.  See td_fold.c.
 */
#ifndef TD_FOLD_H
#define TD_FOLD_H

#include <stdint.h>

/* td_fold_cp's answer for a code point a word leaves out (a combining mark). */
#define TD_FOLD_DROP UINT32_MAX

/* The code point to hash for cp, or TD_FOLD_DROP (not lower-cased: td_lower_cp after). */
extern uint32_t td_fold_cp(uint32_t cp);

#endif							/* TD_FOLD_H */
