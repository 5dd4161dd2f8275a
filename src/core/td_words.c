/*
 * td_words.c — normalised words of a text (see td_words.h).
 *
 * The hash of a word is taken over the UTF-8 of its lower-cased code points
 * (apostrophes left out) eight bytes at a time (td_word_hash_block: xor,
 * multiply, rotate, a bijection of the state per block), finished with its
 * length and td_mix64 (td_word_hash_end).
 */
#include "td_words.h"

#include "td_fold.h"
#include "td_mem.h"
#include "td_swar.h"
#include "td_utf8.h"

/* A word's hash being computed: whole blocks absorbed, the last partial one. */
typedef struct word_hash
{
	uint64_t	h;
	uint64_t	block;
	unsigned	nbytes;			/* in block */
	uint64_t	total;			/* bytes */
} word_hash;

/* Feed one byte. */
static inline void
hash_byte(word_hash *wh, unsigned char c)
{
	wh->block |= (uint64_t) c << (8 * wh->nbytes);
	if (++wh->nbytes == 8)
	{
		wh->h = td_word_hash_block(wh->h, wh->block);
		wh->block = 0;
		wh->nbytes = 0;
	}
	wh->total++;
}

/* The finished hash. */
static inline uint64_t
hash_end(const word_hash *wh)
{
	return td_word_hash_end(wh->h, wh->block, wh->total);
}

/* See td_words.h. */
size_t
td_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		n = td_utf8_seq_len(p, len);

	switch (n)
	{
		case 1:
			*cp = p[0];
			return 1;
		case 2:
			*cp = ((uint32_t) (p[0] & 0x1F) << 6) | (p[1] & 0x3F);
			return 2;
		case 3:
			*cp = ((uint32_t) (p[0] & 0x0F) << 12) | ((uint32_t) (p[1] & 0x3F) << 6) | (p[2] & 0x3F);
			return 3;
		case 4:
			*cp = ((uint32_t) (p[0] & 0x07) << 18) | ((uint32_t) (p[1] & 0x3F) << 12) |
				((uint32_t) (p[2] & 0x3F) << 6) | (p[3] & 0x3F);
			return 4;
		default:
			*cp = 0xFFFD;
			return 1;
	}
}

/* See td_words.h. */
bool
td_is_unicode_space(uint32_t cp)
{
	if (cp < 0x80)
		return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
	return cp == 0x85 || cp == 0xA0 || cp == 0xAD || cp == 0x1680 || cp == 0x180E ||
		(cp >= 0x2000 && cp <= 0x200F) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
		(cp >= 0x205F && cp <= 0x2064) || cp == 0x3000 || cp == 0xFEFF;
}

/* See td_words.h. */
uint32_t
td_lower_cp(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
	if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
		return cp + 32;
	if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177))
		return cp | 1;
	if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
		return (cp & 1) ? cp + 1 : cp;
	if (cp == 0x178)
		return 0xFF;
	if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2)
		return cp + 32;
	if (cp == 0x386)
		return 0x3AC;
	if (cp >= 0x388 && cp <= 0x38A)
		return cp + 37;
	if (cp == 0x38C)
		return 0x3CC;
	if (cp == 0x38E || cp == 0x38F)
		return cp + 63;
	if (cp >= 0x410 && cp <= 0x42F)
		return cp + 32;
	if (cp >= 0x400 && cp <= 0x40F)
		return cp + 80;
	return cp;
}

/* Apostrophes: dropped from words, never separate them. */
static bool
is_apostrophe(uint32_t cp)
{
	return cp == '\'' || cp == '`' || cp == 0xB4 || cp == 0x2018 || cp == 0x2019 || cp == 0x02BC;
}

/* Han, kana: scripts written without spaces, each character a word. */
static bool
is_ideograph(uint32_t cp)
{
	return (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
		(cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
		(cp >= 0x20000 && cp <= 0x2FFFF);
}

/*
 * Thai, Lao, Myanmar, Khmer: written without spaces between words too, but
 * of words several characters long (their vowel and tone marks characters
 * of their own), so that a term said twice repeats a run of characters a
 * repetition rule would take for a loop.  Each character is a word only in
 * a walk for shingles (td_words_init_shingles): a review of the thirty-
 * sixth session found a Thai text with one word changed at similarity 0, a
 * clause being one "word".
 */
static bool
is_spaceless(uint32_t cp)
{
	return (cp >= 0x0E00 && cp <= 0x0EFF) || (cp >= 0x1000 && cp <= 0x109F) || (cp >= 0x1780 && cp <= 0x17FF);
}

/* Non-ASCII punctuation and symbols (and invalid bytes): separators. */
static bool
is_separator(uint32_t cp)
{
	if (cp >= 0x80 && cp <= 0xBF)
		return cp != 0xAA && cp != 0xB5 && cp != 0xBA;
	return cp == 0xD7 || cp == 0xF7 || td_is_unicode_space(cp) ||
		(cp >= 0x2010 && cp <= 0x2BFF) || (cp >= 0x2E00 && cp <= 0x2E7F) ||
		(cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE00 && cp <= 0xFE6F) ||
		(cp >= 0xFF00 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
		(cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65) ||
		(cp >= 0x1F000 && cp <= 0x1FAFF) || cp == 0xFFFD;
}

/* Word character class of an ASCII byte: 1 letter/digit, 2 apostrophe, 0 other. */
static const unsigned char ascii_class[128] = {
	['0'] = 1,['1'] = 1,['2'] = 1,['3'] = 1,['4'] = 1,['5'] = 1,['6'] = 1,['7'] = 1,['8'] = 1,['9'] = 1,
	['A'] = 1,['B'] = 1,['C'] = 1,['D'] = 1,['E'] = 1,['F'] = 1,['G'] = 1,['H'] = 1,['I'] = 1,
	['J'] = 1,['K'] = 1,['L'] = 1,['M'] = 1,['N'] = 1,['O'] = 1,['P'] = 1,['Q'] = 1,['R'] = 1,
	['S'] = 1,['T'] = 1,['U'] = 1,['V'] = 1,['W'] = 1,['X'] = 1,['Y'] = 1,['Z'] = 1,
	['a'] = 1,['b'] = 1,['c'] = 1,['d'] = 1,['e'] = 1,['f'] = 1,['g'] = 1,['h'] = 1,['i'] = 1,
	['j'] = 1,['k'] = 1,['l'] = 1,['m'] = 1,['n'] = 1,['o'] = 1,['p'] = 1,['q'] = 1,['r'] = 1,
	['s'] = 1,['t'] = 1,['u'] = 1,['v'] = 1,['w'] = 1,['x'] = 1,['y'] = 1,['z'] = 1,
	['\''] = 2,['`'] = 2,
};

/* Feed one code point (lower-cased). */
static void
hash_cp(word_hash *wh, uint32_t cp)
{
	char		buf[4];
	size_t		n = td_utf8_encode(cp, buf);

	for (size_t i = 0; i < n; i++)
		hash_byte(wh, (unsigned char) buf[i]);
}

/*
 * A letter of two UTF-8 bytes at s[p] (U+00C0 to U+07FF: Latin-1 and Latin
 * Extended, IPA, Greek, Cyrillic, Armenian, Hebrew, Arabic...: every one a
 * word character but for the multiplication and division signs and the
 * modifier apostrophe U+02BC) fed to the hash lower-cased, as hash_cp
 * would: returns 2, or 0 when s[p] does not start one (the general path
 * then decodes it).
 */
static inline size_t
two_byte_letter(word_hash *wh, const unsigned char *s, size_t len, size_t p)
{
	uint32_t	cp;

	if (s[p] < 0xC3 || s[p] > 0xDF || p + 1 >= len || (s[p + 1] & 0xC0) != 0x80)
		return 0;
	cp = ((uint32_t) (s[p] & 0x1F) << 6) | (s[p + 1] & 0x3F);
	if (cp == 0xD7 || cp == 0xF7 || cp == 0x02BC)
		return 0;
	if ((cp = td_fold_cp(cp)) == TD_FOLD_DROP)
		return 2;				/* a combining mark: part of the word, not of its hash */
	cp = td_lower_cp(cp);		/* ASCII (a base letter) or two bytes: at most U+07FF */
	if (cp < 0x80)
	{
		hash_byte(wh, (unsigned char) cp);
		return 2;
	}
	hash_byte(wh, (unsigned char) (0xC0 | (cp >> 6)));
	hash_byte(wh, (unsigned char) (0x80 | (cp & 0x3F)));
	return 2;
}

/* See td_words.h. */
void
td_words_init(td_word_iter *it, const char *s, size_t len)
{
	it->s = s;
	it->len = len;
	it->pos = 0;
	it->shingles = false;
}

/* See td_words.h. */
void
td_words_init_shingles(td_word_iter *it, const char *s, size_t len)
{
	td_words_init(it, s, len);
	it->shingles = true;
}

/*
 * The ASCII letters and digits at s[p..) while the hash is at a block
 * boundary, eight bytes at a time (lower-cased in the register): the same
 * hash as feeding them byte by byte.  Returns how many were taken (0 when
 * s[p] is not one, or fewer than 8 bytes are left).
 */
static inline size_t
ascii_run(word_hash *wh, const unsigned char *s, size_t len, size_t p)
{
	size_t		start = p;

	while (p + 8 <= len)
	{
		uint64_t	x = td_load_le((const char *) s + p, 8),
					alnum;
		unsigned	k;

		alnum = td_ascii_alnum_bytes(x);
		x |= 0x20 * TD_ONES;	/* the letters and digits lower-cased; the rest is masked off */
		if (alnum == TD_HIGHS)
		{
			wh->h = td_word_hash_block(wh->h, x);
			wh->total += 8;
			p += 8;
			if (((p - start) & 4095) == 0)
				TD_CHECK_FOR_INTERRUPTS();
			continue;
		}
		k = td_ctz64(~alnum & TD_HIGHS) / 8;	/* leading letters and digits */
		if (k > 0)
		{
			wh->block = x & ((1ULL << (8 * k)) - 1);
			wh->nbytes = k;
			wh->total += k;
			p += k;
		}
		break;
	}
	return p - start;
}

/*
 * The first byte at or after s[p] that may start a word (an ASCII letter
 * or digit, or any byte of 0x80 or more), or len: the ASCII separators
 * before it passed over eight at a time.
 */
static inline size_t
skip_separators(const char *s, size_t len, size_t p)
{
	size_t		start = p;

	while (p + 8 <= len)
	{
		uint64_t	x = td_load_le(s + p, 8),
					may_start = td_ascii_alnum_bytes(x) | (x & TD_HIGHS);

		if (may_start & TD_HIGHS)
			return p + td_ctz64(may_start & TD_HIGHS) / 8;
		p += 8;
		if (((p - start) & 4095) == 0)
			TD_CHECK_FOR_INTERRUPTS();
	}
	while (p < len && (unsigned char) s[p] < 0x80 && ascii_class[(unsigned char) s[p]] != 1)
		p++;
	return p;
}

/* The next word into *w; false at the end (td_words_next, and td_words_fill's way past what its chunks do not read). */
static bool
next_word(td_word_iter *it, td_word *w)
{
	const char *s = it->s;
	size_t		len = it->len,
				p = skip_separators(it->s, it->len, it->pos);
	word_hash	wh = {TD_WORD_HASH_SEED, 0, 0, 0};
	uint32_t	chars = 0;
	bool		started = false;

	while (p < len)
	{
		unsigned char c = (unsigned char) s[p];
		uint32_t	cp;
		size_t		n;

		if (c < 0x80)
		{
			unsigned char cls = ascii_class[c];

			if (cls == 1)
			{
				if (!started)
					w->begin = p;
				started = true;
				if (wh.nbytes == 0 && (n = ascii_run(&wh, (const unsigned char *) s, len, p)) > 0)
				{
					chars += (uint32_t) n;
					p += n;
					continue;
				}
				hash_byte(&wh, (unsigned char) (c >= 'A' && c <= 'Z' ? c + 32 : c));
				chars++;
				p++;
				continue;
			}
			if (cls == 2)
			{
				TD_CHECK_FOR_INTERRUPTS();	/* a run of apostrophes */
				p++;
				continue;
			}
			if (started)
				break;
			p = skip_separators(s, len, p + 1);
			continue;
		}
		TD_CHECK_FOR_INTERRUPTS();
		if ((n = two_byte_letter(&wh, (const unsigned char *) s, len, p)) > 0)
		{
			if (!started)
				w->begin = p;
			started = true;
			chars++;
			p += n;
			continue;
		}
		n = td_utf8_decode(s + p, len - p, &cp);
		if (is_apostrophe(cp))
		{
			p += n;
			continue;
		}
		if (is_separator(cp))
		{
			if (started)
				break;
			p += n;
			continue;
		}
		if (is_ideograph(cp) || (it->shingles && is_spaceless(cp)))
		{
			if (started)
				break;			/* the ideograph starts the next word */
			w->begin = p;
			hash_cp(&wh, cp);
			chars = 1;
			p += n;
			started = true;
			break;
		}
		if (!started)
			w->begin = p;
		started = true;
		if ((cp = td_fold_cp(cp)) != TD_FOLD_DROP)
			hash_cp(&wh, td_lower_cp(cp));
		chars++;
		p += n;
	}
	it->pos = p;
	if (!started)
		return false;
	w->end = p;
	w->hash = hash_end(&wh);
	w->chars = chars;
	return true;
}

/* See td_words.h. */
bool
td_words_next(td_word_iter *it, td_word *w)
{
	return next_word(it, w);
}

/*
 * The chunk path of td_words_fill.  The text is looked at 64 bytes at a
 * time through two bit masks (td_alnum64): its ASCII letters and digits,
 * and its bytes of 0x80 or more.  A word made of ASCII letters and digits,
 * with only ASCII bytes before it since the last word and ending at an
 * ASCII byte that separates words (not an apostrophe) or at the end of the
 * text, is found from the masks alone and hashed from the text: the same
 * word, span and hash next_word gives (the hash is taken over the same
 * blocks of eight bytes from the word's first byte, lower-cased by setting
 * 0x20, which ASCII digits have already).  Anything else, and a word
 * longer than 64 bytes, is left to next_word.
 */
typedef struct chunk
{
	size_t		base;			/* text offset of the chunk's first byte */
	uint64_t	alnum;			/* bit i: text[base + i] is an ASCII letter or digit */
	uint64_t	high;			/* bit i: text[base + i] is 0x80 or more */
} chunk;

/* The masks of the text's last bytes from base on, read from a copy padded with zeros (separators). */
static uint64_t
tail_masks(const char *s, size_t len, size_t base, uint64_t *high)
{
	char		pad[64] = {0};

	if (base < len)
		memcpy(pad, s + base, len - base);
	return td_alnum64(pad, high);
}

/* Load the chunk at base; bytes past the end of the text read as zeros. */
static inline void
chunk_load(chunk *c, const char *s, size_t len, size_t base)
{
	c->base = base;
	c->alnum = base + 64 <= len ? td_alnum64(s + base, &c->high) : tail_masks(s, len, base, &c->high);
}

/* The hash of the ASCII letters and digits s[b..e) (e - b at most 128). */
static inline uint64_t
ascii_word_hash(const char *s, size_t len, size_t b, size_t e)
{
	uint64_t	h = TD_WORD_HASH_SEED,
				last = 0;
	size_t		q = b;

	for (; q + 8 <= e; q += 8)
		h = td_word_hash_block(h, td_load_le(s + q, 8) | 0x20 * TD_ONES);
	if (q < e)					/* the last 1 to 7 bytes (an 8-byte load when there are 8 to read) */
		last = ((q + 8 <= len ? td_load_le(s + q, 8) : td_load_le(s + q, len - q)) | 0x20 * TD_ONES) &
			(~UINT64_C(0) >> (8 * (8 - (e - q))));
	return td_word_hash_end(h, last, e - b);
}

/* Whether text[e] ends a word of ASCII letters and digits outright (given that it is no letter or digit). */
static inline bool
ends_ascii_word(const char *s, size_t len, size_t e)
{
	return e >= len || ((unsigned char) s[e] < 0x80 && ascii_class[(unsigned char) s[e]] != 2);
}

/*
 * The next word from the chunk c, the walk being at text offset *p (in
 * the chunk, past the last word): true with the word in *w and *p past
 * it, c moved on as far as it took.  False when next_word must decide,
 * from *p.  *p == len: the end.
 */
static inline bool
chunk_word(chunk *c, const char *s, size_t len, size_t *p, td_word *w)
{
	for (;;)
	{
		uint64_t	ahead = ~UINT64_C(0) << (*p - c->base),
					starts = c->alnum & ahead,
					ends;
		size_t		b,
					e;

		if (starts == 0)
		{
			if (c->high & ahead)
				return false;	/* a non-ASCII byte: next_word reads it */
			if (c->base + 64 >= len)
			{
				*p = len;
				return false;
			}
			TD_CHECK_FOR_INTERRUPTS();	/* a chunk of separators */
			chunk_load(c, s, len, c->base + 64);
			*p = c->base;
			continue;
		}
		b = td_ctz64(starts);
		if (c->high != 0 && (c->high & ahead & ((UINT64_C(1) << b) - 1)))
			return false;		/* a non-ASCII byte before the word */
		ends = ~c->alnum & (~UINT64_C(0) << b);
		b += c->base;			/* a text offset from here on */
		if (ends != 0)
			e = c->base + td_ctz64(ends);
		else
		{
			/* the word runs into the next chunk (there is one: bytes past the end are zeros) */
			chunk	next;

			chunk_load(&next, s, len, c->base + 64);
			if (next.alnum == ~UINT64_C(0))
			{
				*p = b;			/* longer than 64 bytes */
				return false;
			}
			*c = next;			/* (no check for a cancel: a call reads at most max words, a chunk each) */
			e = c->base + td_ctz64(~c->alnum);
		}
		if (!ends_ascii_word(s, len, e))
		{
			*p = b;				/* a letter or an apostrophe may go on with the word */
			return false;
		}
		w->hash = ascii_word_hash(s, len, b, e);
		w->begin = b;
		w->end = e;
		w->chars = (uint32_t) (e - b);
		*p = e;
		return true;
	}
}

/* See td_words.h. */
size_t
td_words_fill(td_word_iter *it, td_word *out, size_t max)
{
	const char *s = it->s;
	size_t		len = it->len,
				n = 0,
				p = it->pos;
	chunk		c;				/* locals, not the iterator's fields: the stores to out[] cannot change them */

	TD_CHECK_FOR_INTERRUPTS();
	if (p >= len)
		return 0;
	chunk_load(&c, s, len, p);
	while (n < max)
	{
		td_word		w;

		if (chunk_word(&c, s, len, &p, &w))
		{
			out[n++] = w;
			continue;
		}
		it->pos = p;
		if (p >= len || !next_word(it, &out[n]))	/* (at the end: no call) */
			return n;
		n++;
		p = it->pos;
		chunk_load(&c, s, len, p);
	}
	it->pos = p;
	return n;
}
