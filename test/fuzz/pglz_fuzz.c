/*
 * pglz_fuzz.c — libFuzzer target for the pglz decoder (src/core/td_pglz.c):
 * any bytes are a stream (the first two give the size asked for, up to
 * 64 KiB), read where libFuzzer gives it (its end is the end of the
 * allocation) and decoded into a buffer of exactly the size asked for, so
 * that AddressSanitizer sees any byte read or written past either.  The
 * result must be what a plain reading of the format, an item and a byte
 * at a time, gives: the same refusal, or the same bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "td_pglz.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The format read plainly: -1 for what td_pglz.h calls corrupt, else rawsize. */
static int32_t
plain_decode(const uint8_t *sp, const uint8_t *send, uint8_t *dst, int32_t rawsize)
{
	uint8_t    *dp = dst,
			   *dend = dst + rawsize;

	while (sp < send && dp < dend)
	{
		unsigned	ctrl = *sp++;

		for (int k = 0; k < 8 && sp < send && dp < dend; k++, ctrl >>= 1)
		{
			size_t		len,
						off;

			if (!(ctrl & 1))
			{
				*dp++ = *sp++;
				continue;
			}
			if (send - sp < 2 || ((sp[0] & 0x0f) == 0x0f && send - sp < 3))
				return -1;
			len = (size_t) (sp[0] & 0x0f) + 3 + ((sp[0] & 0x0f) == 0x0f ? sp[2] : 0);
			off = ((size_t) (sp[0] & 0xf0) << 4) | sp[1];
			sp += (sp[0] & 0x0f) == 0x0f ? 3 : 2;
			if (off == 0 || off > (size_t) (dp - dst))
				return -1;
			for (; len > 0 && dp < dend; len--, dp++)
				*dp = *(dp - off);
		}
	}
	return dp == dend && sp == send ? rawsize : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int32_t		rawsize,
				a,
				b;
	uint8_t    *ours,
			   *plain;

	if (size < 2)
		return 0;
	rawsize = (int32_t) (data[0] | (data[1] << 8));
	ours = malloc(rawsize > 0 ? (size_t) rawsize : 1);
	plain = malloc(rawsize > 0 ? (size_t) rawsize : 1);
	a = td_pglz_decode(data + 2, (int32_t) (size - 2), ours, rawsize);
	b = plain_decode(data + 2, data + size, plain, rawsize);
	if (a != b || (a >= 0 && memcmp(ours, plain, (size_t) rawsize) != 0))
		abort();
	free(ours);
	free(plain);
	return 0;
}
