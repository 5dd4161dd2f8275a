/*
 * td_utf8.c — UTF-8 validation, counting and encoding (RFC 3629).
 */
#include "td_utf8.h"

#include <stdint.h>
#include <string.h>

#include "td_mem.h"
#include "td_swar.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/*
 * Length of the valid UTF-8 sequence at s, or 0: rejects stray continuation
 * bytes, overlong forms, surrogates (U+D800..DFFF) and values past U+10FFFF.
 */
size_t
td_utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (len >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF)
	{
		if (len < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0;			/* overlong */
		if (c == 0xED && s[1] >= 0xA0)
			return 0;			/* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4)
	{
		if (len < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
			(s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0;			/* overlong */
		if (c == 0xF4 && s[1] >= 0x90)
			return 0;			/* past U+10FFFF */
		return 4;
	}
	return 0;
}

/* True if the whole of s[0..len) is valid UTF-8. */
bool
td_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;

	while (i < len)
	{
		size_t		n = td_utf8_seq_len(p + i, len - i);

		TD_CHECK_FOR_INTERRUPTS();
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* See td_utf8.h: every byte that is not a continuation byte, counted by the survey (its marks unused). */
size_t
td_utf8_count(const char *s, size_t len)
{
	size_t		chars;

	(void) td_utf8_survey(s, len, &chars);
	return chars;
}

#if defined(__SSE2__) && !defined(TD_NO_SIMD)

/* Or the lanes of v equal to each mark into its accumulator. */
static inline void
survey_marks(__m128i v, __m128i *brace, __m128i *angle, __m128i *bracket, __m128i *backquote)
{
	*brace = _mm_or_si128(*brace, _mm_cmpeq_epi8(v, _mm_set1_epi8('{')));
	*angle = _mm_or_si128(*angle, _mm_cmpeq_epi8(v, _mm_set1_epi8('<')));
	*bracket = _mm_or_si128(*bracket, _mm_cmpeq_epi8(v, _mm_set1_epi8('[')));
	*backquote = _mm_or_si128(*backquote, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('`')),
													   _mm_cmpeq_epi8(v, _mm_set1_epi8('~'))));
}

/*
 * 0xFF in each lane of v (bytes at offset at of the step) that is a
 * continuation byte (0x80..0xBF: below -64 as signed bytes) at an offset
 * past first.
 */
static inline __m128i
survey_continuations(__m128i v, char at, __m128i first)
{
	__m128i		lane = _mm_add_epi8(_mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
									_mm_set1_epi8(at));

	return _mm_and_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(-64)), _mm_cmpgt_epi8(lane, first));
}

/*
 * td_utf8_survey with SSE2, 64 bytes a step: the bytes compared with each
 * mark sixteen at a time into an accumulator per mark (read once, at the
 * end), the continuation bytes (10xxxxxx: below -64 as signed bytes)
 * counted only in the steps that have a byte of 0x80 or more.  The last
 * step reads the text's last 64 bytes, its lanes before skip (read by the
 * step before) not counted; a text shorter than 64 bytes is read from a
 * copy padded with zeros (neither a mark nor a continuation byte).
 */
unsigned
td_utf8_survey(const char *s, size_t len, size_t *chars)
{
	__m128i		brace = _mm_setzero_si128(),
				angle = _mm_setzero_si128(),
				bracket = _mm_setzero_si128(),
				backquote = _mm_setzero_si128();
	char		pad[64] = {0};
	size_t		chars_max = len,	/* less the continuation bytes */
				cont = 0,
				i = 0,
				skip = 0;

	if (len < 64)
	{
		memcpy(pad, s, len);
		s = pad;
		len = 64;
	}
	for (;;)
	{
		__m128i		v0 = _mm_loadu_si128((const __m128i *) (s + i)),
					v1 = _mm_loadu_si128((const __m128i *) (s + i + 16)),
					v2 = _mm_loadu_si128((const __m128i *) (s + i + 32)),
					v3 = _mm_loadu_si128((const __m128i *) (s + i + 48));

		/* the lanes written out, not looped over: their vectors stay in registers */
		survey_marks(v0, &brace, &angle, &bracket, &backquote);
		survey_marks(v1, &brace, &angle, &bracket, &backquote);
		survey_marks(v2, &brace, &angle, &bracket, &backquote);
		survey_marks(v3, &brace, &angle, &bracket, &backquote);
		if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(v0, v1), _mm_or_si128(v2, v3))) != 0)
		{
			__m128i		n = _mm_setzero_si128(),	/* per byte lane: 0 to 4 */
						first = _mm_set1_epi8((char) skip - 1);	/* lanes after it are counted */

			n = _mm_sub_epi8(n, survey_continuations(v0, 0, first));
			n = _mm_sub_epi8(n, survey_continuations(v1, 16, first));
			n = _mm_sub_epi8(n, survey_continuations(v2, 32, first));
			n = _mm_sub_epi8(n, survey_continuations(v3, 48, first));
			n = _mm_sad_epu8(n, _mm_setzero_si128());	/* two sums of eight lanes */
			cont += (size_t) _mm_cvtsi128_si32(n) + (size_t) _mm_extract_epi16(n, 4);
		}
		if (i + 64 == len)
			break;
		i += 64;
		if (i + 64 > len)
		{
			skip = i + 64 - len;	/* 1 to 63 */
			i = len - 64;
		}
		if ((i & 4095) < 64)
			TD_CHECK_FOR_INTERRUPTS();	/* every 4 KiB */
	}
	*chars = chars_max - cont;
	return (_mm_movemask_epi8(brace) ? TD_MARK_BRACE : 0) | (_mm_movemask_epi8(angle) ? TD_MARK_ANGLE : 0) |
		(_mm_movemask_epi8(bracket) ? TD_MARK_BRACKET : 0) | (_mm_movemask_epi8(backquote) ? TD_MARK_BACKQUOTE : 0);
}

#else

/* td_utf8_survey eight bytes at a time in a register (no SSE2). */
unsigned
td_utf8_survey(const char *s, size_t len, size_t *chars)
{
	uint64_t	brace = 0,
				angle = 0,
				bracket = 0,
				backquote = 0;
	size_t		cont = 0;

	for (size_t i = 0; i < len; i += 8)
	{
		uint64_t	x = td_load_le(s + i, len - i < 8 ? len - i : 8);	/* missing bytes zero */

		brace |= td_bytes_zero(x ^ ('{' * TD_ONES));
		angle |= td_bytes_zero(x ^ ('<' * TD_ONES));
		bracket |= td_bytes_zero(x ^ ('[' * TD_ONES));
		backquote |= td_bytes_zero(x ^ ('`' * TD_ONES)) | td_bytes_zero(x ^ ('~' * TD_ONES));
		cont += td_continuation_bytes(x);
		if ((i & 4095) == 4088)
			TD_CHECK_FOR_INTERRUPTS();	/* every 4 KiB */
	}
	*chars = len - cont;
	return (brace ? TD_MARK_BRACE : 0) | (angle ? TD_MARK_ANGLE : 0) | (bracket ? TD_MARK_BRACKET : 0) |
		(backquote ? TD_MARK_BACKQUOTE : 0);
}

#endif

/* See td_utf8.h: count character starts (bytes that are not 10xxxxxx). */
size_t
td_utf8_prefix(const char *s, size_t len, size_t max_chars)
{
	size_t		chars = 0;

	for (size_t i = 0; i < len && TD_CHECK_FOR_INTERRUPTS_EXPR(); i++)
		if ((s[i] & 0xC0) != 0x80 && chars++ == max_chars)
			return i;
	return len;
}

/* Encode one code point; returns the number of bytes (1..4). */
size_t
td_utf8_encode(unsigned int cp, char out[4])
{
	if (cp < 0x80)
	{
		out[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		out[0] = (char) (0xC0 | (cp >> 6));
		out[1] = (char) (0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000)
	{
		out[0] = (char) (0xE0 | (cp >> 12));
		out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char) (0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char) (0xF0 | (cp >> 18));
	out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char) (0x80 | (cp & 0x3F));
	return 4;
}
