/*
 * td_pglz.h — decoding of PostgreSQL's pglz compression format (the format
 * of a value stored compressed with default_toast_compression = pglz), in
 * plain memory: the same bytes as PostgreSQL's pglz_decompress asked for a
 * complete result, and the same refusal of data that is corrupt, but
 * literal runs and matches copied a word or a block at a time instead of a
 * byte and a branch at a time.
 *
 * The format: a control byte, then eight items, its bits from the lowest
 * telling which; a 0 bit is a literal byte, a 1 bit a match of 3 to 273
 * bytes given in a tag of 2 or 3 bytes: the length minus 3 in the first
 * byte's low 4 bits (15 there meaning that a third byte adds 0 to 255
 * more), the offset back into what is already written in the first
 * byte's high 4 bits and the second byte.
 */
#ifndef TD_PGLZ_H
#define TD_PGLZ_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode the slen bytes at src into exactly rawsize bytes at dst (nothing
 * is written past dst + rawsize).  Returns rawsize, or -1 when the data is
 * corrupt: a match reaching back before the start or at offset 0, a tag
 * cut off by the end of the data, or the data and the result not ending
 * together, a negative size — the cases where PostgreSQL's
 * pglz_decompress returns -1.  One pass; a cancel is looked for every
 * 64 KiB written (TD_CHECK_FOR_INTERRUPTS, whose handler runs at every
 * TD_INTERRUPT_INTERVAL'th look, as everywhere in the cores).
 */
extern int32_t td_pglz_decode(const uint8_t *src, int32_t slen, uint8_t *dst, int32_t rawsize);

#endif							/* TD_PGLZ_H */
