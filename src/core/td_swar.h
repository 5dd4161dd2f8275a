/*
 * td_swar.h — eight bytes at a time in a 64-bit register (SIMD within a
 * register), for the scans of the quality cores.  Bytes are taken little
 * endian whatever the machine, so that results never depend on it.
 */
#ifndef TD_SWAR_H
#define TD_SWAR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TD_ONES UINT64_C(0x0101010101010101)
#define TD_HIGHS UINT64_C(0x8080808080808080)

/* Up to 8 bytes at s as a little-endian number (missing bytes zero). */
static inline uint64_t
td_load_le(const char *s, size_t n)
{
	uint64_t	x = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(&x, s, n);			/* one load when n is 8 */
#else
	for (size_t i = 0; i < n; i++)
		x |= (uint64_t) (unsigned char) s[i] << (8 * i);
#endif
	return x;
}

/*
 * The high bit of each byte of x that lies in lo..hi (both below 0x80), for
 * bytes below 0x80; a byte of 0x80 or more may carry into the bytes above
 * it (never below), so callers mask what they need.
 */
static inline uint64_t
td_bytes_in(uint64_t x, unsigned lo, unsigned hi)
{
	return (x + (0x80 - lo) * TD_ONES) & ~(x + (0x7F - hi) * TD_ONES) & TD_HIGHS;
}

/* The high bit of each zero byte of x (exact: no carry between bytes). */
static inline uint64_t
td_bytes_zero(uint64_t x)
{
	return ~(((x & ~TD_HIGHS) + ~TD_HIGHS) | x) & TD_HIGHS;
}

/* ASCII capitals of the 8 bytes lower-cased (other bytes unchanged). */
static inline uint64_t
td_lower8(uint64_t x)
{
	uint64_t	upper = td_bytes_in(x & ~TD_HIGHS, 'A', 'Z') & ~x;	/* 7 bits a byte: no carry */

	return x | (upper >> 2);	/* 0x80 >> 2 = 0x20 */
}

/*
 * The high bit of each byte of x that is an ASCII letter or digit; exact
 * for every byte (the checks read 7 bits a byte: no carry).  Setting 0x20
 * lower-cases a letter and makes no other ASCII byte a lower-case letter.
 */
static inline uint64_t
td_ascii_alnum_bytes(uint64_t x)
{
	uint64_t	low7 = x & ~TD_HIGHS;

	return (td_bytes_in(low7, '0', '9') | td_bytes_in(low7 | (0x20 * TD_ONES), 'a', 'z')) & ~x & TD_HIGHS;
}

/* The number of UTF-8 continuation bytes (10xxxxxx) among the 8 of x. */
static inline unsigned
td_continuation_bytes(uint64_t x)
{
	return (unsigned) ((((x & ~(x << 1) & TD_HIGHS) >> 7) * TD_ONES) >> 56);
}

/* Trailing zero bits of a non-zero x. */
static inline unsigned
td_ctz64(uint64_t x)
{
#if defined(__GNUC__)
	return (unsigned) __builtin_ctzll(x);
#else
	unsigned	n = 0;

	while (!(x & 1))
		x >>= 1, n++;
	return n;
#endif
}

#if defined(__SSE2__)
#include <emmintrin.h>

/*
 * The ASCII letters and digits among the 16 bytes v, as a vector of 0xFF
 * lanes: a wrapping add moves each range ('a'..'z' after setting 0x20,
 * '0'..'9') to the bottom of the signed bytes, where one signed compare
 * finds it (no byte outside the range lands there).
 */
static inline __m128i
td_alnum_lanes(__m128i v)
{
	__m128i		letter = _mm_add_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8((char) (0x80 - 'a'))),
				digit = _mm_add_epi8(v, _mm_set1_epi8((char) (0x80 - '0')));

	return _mm_or_si128(_mm_cmplt_epi8(letter, _mm_set1_epi8((char) (0x80 + 26))),
						_mm_cmplt_epi8(digit, _mm_set1_epi8((char) (0x80 + 10))));
}

/*
 * The ASCII letters and digits among the 16 bytes at s, a bit per byte
 * (*high: the bytes of 0x80 or more, when not NULL); SSE2, for the
 * 16-byte scans (td_words.c's tokenizer, quality.c's greeting search).
 */
static inline unsigned
td_alnum16(const char *s, unsigned *high)
{
	__m128i		v = _mm_loadu_si128((const __m128i *) s);

	if (high)
		*high = (unsigned) _mm_movemask_epi8(v);
	return (unsigned) _mm_movemask_epi8(td_alnum_lanes(v));
}

/* The bytes equal to c among the 16 bytes at s, a bit per byte. */
static inline unsigned
td_byte16_eq(const char *s, char c)
{
	return (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *) s), _mm_set1_epi8(c)));
}
#endif

/*
 * The ASCII letters and digits among the 64 bytes at s, a bit per byte
 * (bit i for s[i]); *high: the bytes of 0x80 or more.  For the
 * tokenizer's chunks (td_words.c): SSE2 16 bytes at a time, elsewhere
 * eight at a time in a register, the high bits packed by a multiply.
 */
static inline uint64_t
td_alnum64(const char *s, uint64_t *high)
{
	uint64_t	alnum = 0,
				hi = 0;

#if defined(__SSE2__) && !defined(TD_NO_SIMD)
	__m128i		v0 = _mm_loadu_si128((const __m128i *) s),
				v1 = _mm_loadu_si128((const __m128i *) (s + 16)),
				v2 = _mm_loadu_si128((const __m128i *) (s + 32)),
				v3 = _mm_loadu_si128((const __m128i *) (s + 48));

	/* written out: the shifts are constants */
	alnum = (uint64_t) (unsigned) _mm_movemask_epi8(td_alnum_lanes(v0)) |
		(uint64_t) (unsigned) _mm_movemask_epi8(td_alnum_lanes(v1)) << 16 |
		(uint64_t) (unsigned) _mm_movemask_epi8(td_alnum_lanes(v2)) << 32 |
		(uint64_t) (unsigned) _mm_movemask_epi8(td_alnum_lanes(v3)) << 48;
	hi = (uint64_t) (unsigned) _mm_movemask_epi8(v0) | (uint64_t) (unsigned) _mm_movemask_epi8(v1) << 16 |
		(uint64_t) (unsigned) _mm_movemask_epi8(v2) << 32 | (uint64_t) (unsigned) _mm_movemask_epi8(v3) << 48;
#else
	for (int k = 0; k < 8; k++)
	{
		uint64_t	x = td_load_le(s + 8 * k, 8);

		/* the multiply moves the high bit of byte i to bit 56 + i (the partial products never overlap) */
		alnum |= ((td_ascii_alnum_bytes(x) >> 7) * UINT64_C(0x0102040810204080)) >> 56 << (8 * k);
		hi |= (((x & TD_HIGHS) >> 7) * UINT64_C(0x0102040810204080)) >> 56 << (8 * k);
	}
#endif
	*high = hi;
	return alnum;
}

#endif							/* TD_SWAR_H */
