/*
 * td_pglz.c — decoding of PostgreSQL's pglz format (see td_pglz.h).
 *
 * A group of eight items far enough from both ends (its tags all readable,
 * its longest result fitting) takes the fast path: a run of literals is
 * one 8-byte copy, however long the run (the bytes past it are written
 * again by what follows), and a match is copied as PostgreSQL copies it,
 * memcpy by memcpy, doubling while it overlaps what it copies.  Anything
 * else takes the careful path, an item at a time with every bound checked,
 * as pglz_decompress does.
 */
#include "td_pglz.h"

#include <stdbool.h>
#include <string.h>

#include "td_mem.h"

/*
 * Bytes of data a group needs for the fast path: before its last literal
 * run at most seven tags of 3 bytes, then the run's 8-byte load (29),
 * rounded up.
 */
#define GROUP_SRC 32
#define CHECK_EVERY 65536		/* bytes written between two looks for a cancel */

/*
 * Copy a match of len bytes from off bytes back (off > 0, at least off
 * bytes written before dp), writing nothing past dp + len: while the
 * source overlaps the bytes being written, the pattern is copied off
 * bytes at a time, off doubling each time.
 */
static inline void
copy_match(uint8_t *dp, size_t off, size_t len)
{
	const uint8_t *from = dp - off;

	while (off < len)
	{
		memcpy(dp, from, off);
		dp += off;
		len -= off;
		off += off;
	}
	memcpy(dp, from, len);
}

/*
 * A match of len bytes from off bytes back that does not overlap what it
 * writes (off >= len), len at most 16: two loads that may overlap, then
 * two stores, nothing written past dp + len.
 */
static inline void
copy_short(uint8_t *dp, const uint8_t *from, size_t len)
{
	uint64_t	a,
				b;

	if (len >= 8)
	{
		memcpy(&a, from, 8);
		memcpy(&b, from + len - 8, 8);
		memcpy(dp, &a, 8);
		memcpy(dp + len - 8, &b, 8);
	}
	else if (len >= 4)
	{
		uint32_t	c,
					d;

		memcpy(&c, from, 4);
		memcpy(&d, from + len - 4, 4);
		memcpy(dp, &c, 4);
		memcpy(dp + len - 4, &d, 4);
	}
	else
	{
		dp[0] = from[0];
		dp[1] = from[1];
		dp[2] = from[2];
	}
}

/*
 * The fast path over the items of a group (ctrl, left of them) whose tags
 * all lie before src's end: each taken while it fits before dst's end (a
 * run of literals with 8 bytes of room, a match whole).  Returns how many
 * items are left for the careful path (ctrl and the pointers moved past
 * the ones taken), or -1 for a corrupt match.
 */
static inline int
group_fast(unsigned *ctrlp, unsigned left, const uint8_t **spp, uint8_t **dpp,
		   const uint8_t *dst, const uint8_t *dend)
{
	const uint8_t *sp = *spp;
	uint8_t    *dp = *dpp;
	unsigned	ctrl = *ctrlp;

	while (left > 0)
	{
		unsigned	run = (unsigned) __builtin_ctz(ctrl | (1u << left));	/* literals before the next match */
		size_t		len,
					off;

		if (run > 0)
		{
			if (dend - dp < 8)
				break;
			memcpy(dp, sp, 8);
			dp += run;
			sp += run;
			left -= run;
			ctrl >>= run;
			if (left == 0)
				break;
		}
		len = (size_t) (sp[0] & 0x0f) + 3;
		off = ((size_t) (sp[0] & 0xf0) << 4) | sp[1];
		if (len == 18)
			len += sp[2];
		if (len > (size_t) (dend - dp))
			break;
		if (off == 0 || off > (size_t) (dp - dst))
			return -1;
		sp += len >= 18 ? 3 : 2;
		if (off >= len && len <= 16)
			copy_short(dp, dp - off, len);
		else
			copy_match(dp, off, len);
		dp += len;
		left--;
		ctrl >>= 1;
	}
	*spp = sp;
	*dpp = dp;
	*ctrlp = ctrl;
	return (int) left;
}

/* See td_pglz.h. */
int32_t
td_pglz_decode(const uint8_t *src, int32_t slen, uint8_t *dst, int32_t rawsize)
{
	const uint8_t *sp = src,
			   *send;
	uint8_t    *dp = dst,
			   *dend;
	size_t		check = CHECK_EVERY;	/* the bytes written at the next look for a cancel */

	if (slen < 0 || rawsize < 0)
		return -1;
	send = src + slen;
	dend = dst + rawsize;
	while (sp < send && dp < dend)
	{
		unsigned	ctrl = *sp++;
		int			left = 8;

		if ((size_t) (dp - dst) >= check)
		{
			TD_CHECK_FOR_INTERRUPTS();
			check = (size_t) (dp - dst) + CHECK_EVERY;
		}
		if (send - sp >= GROUP_SRC && (left = group_fast(&ctrl, 8, &sp, &dp, dst, dend)) < 0)
			return -1;
		for (; left > 0 && sp < send && dp < dend; left--, ctrl >>= 1)
		{
			size_t		len,
						off;

			if (!(ctrl & 1))
			{
				*dp++ = *sp++;
				continue;
			}
			if (send - sp < 2)
				return -1;		/* a tag cut off */
			len = (size_t) (sp[0] & 0x0f) + 3;
			off = ((size_t) (sp[0] & 0xf0) << 4) | sp[1];
			sp += 2;
			if (len == 18)
			{
				if (sp >= send)
					return -1;
				len += *sp++;
			}
			if (off == 0 || off > (size_t) (dp - dst))
				return -1;
			if (len > (size_t) (dend - dp))
				len = (size_t) (dend - dp);	/* the result ends inside the match */
			copy_match(dp, off, len);
			dp += len;
		}
	}
	return dp == dend && sp == send ? rawsize : -1;
}
