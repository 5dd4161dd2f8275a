/*
 * td_fold.c — the code point a word is hashed by (see td_fold.h).
 *
 * A review of the thirty-sixth session found the same conversation in NFC
 * and in NFD at an estimated similarity of 0.14, and in fullwidth letters
 * at 0: a word was hashed by its code points as written.  Now a letter
 * with a canonical decomposition is hashed as its base letter (the first
 * code point of the decomposition: td_fold_table.h, for U+00C0 to U+07FF
 * and U+1E00 to U+1FFF), a combining mark (canonical combining class above
 * 0 there, and the combining blocks U+1AB0 and U+1DC0) is left out, and
 * fullwidth ASCII (U+FF01 to U+FF5E) is ASCII.  Accents are thus ignored:
 * "café" and "cafe" are one word, and so are Russian "й" and "и" — for near
 * copies and repetition a small loss, next to missing every copy an editor
 * or a keyboard normalised otherwise.  Not folded: other compatibility
 * forms (ligatures, superscripts), Hangul syllables against their jamo
 * (NFD Korean), the combining marks for symbols (U+20D0, U+FE20), which
 * td_words reads as separators, and the few Greek letters whose base is a
 * spacing diaeresis (U+0385, U+1FC1, U+1FED, U+1FEE).
 */
#include "td_fold.h"

#include "td_fold_table.h"

/* See td_fold.h. */
uint32_t
td_fold_cp(uint32_t cp)
{
	uint16_t	f;

	if (cp < 0xC0)
		return cp;
	if (cp < 0x800)
		f = fold_2byte[cp - 0xC0];
	else if (cp >= 0x1E00 && cp < 0x2000)
		f = fold_1e00[cp - 0x1E00];
	else if ((cp >= 0x1AB0 && cp <= 0x1AFF) || (cp >= 0x1DC0 && cp <= 0x1DFF))
		return TD_FOLD_DROP;
	else if (cp >= 0xFF01 && cp <= 0xFF5E)
		return cp - 0xFEE0;
	else
		return cp;
	if (f == 0xFFFF)
		return TD_FOLD_DROP;
	return f != 0 ? f : cp;
}
