/*
 * td_md5.c — MD5 as RFC 1321 defines it (see td_md5.h): 64-byte blocks,
 * four rounds of sixteen steps, the message padded with 0x80, zeros and its
 * length in bits (little endian).
 */
#include "td_md5.h"

#include <math.h>
#include <string.h>

/* The sine table: K[i] = floor(|sin(i + 1)| * 2^32), filled on first use. */
static uint32_t K[64];
static int	k_ready;

/* Per step: the left rotation. */
static const unsigned char S[64] = {
	7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
	5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
	4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
	6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};

/* Fill the sine table once (doubles hold the 32 bits exactly). */
static void
fill_k(void)
{
	for (int i = 0; i < 64; i++)
		K[i] = (uint32_t) floor(fabs(sin((double) (i + 1))) * 4294967296.0);
	k_ready = 1;
}

static inline uint32_t
rotl(uint32_t x, unsigned s)
{
	return (x << s) | (x >> (32 - s));
}

/* Absorb one 64-byte block. */
static void
transform(uint32_t h[4], const unsigned char *p)
{
	uint32_t	w[16],
				a = h[0],
				b = h[1],
				c = h[2],
				d = h[3];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t) p[4 * i] | (uint32_t) p[4 * i + 1] << 8 | (uint32_t) p[4 * i + 2] << 16 |
			(uint32_t) p[4 * i + 3] << 24;
	for (int i = 0; i < 64; i++)
	{
		uint32_t	f,
					t;
		int			g;

		if (i < 16)
		{
			f = (b & c) | (~b & d);
			g = i;
		}
		else if (i < 32)
		{
			f = (d & b) | (~d & c);
			g = (5 * i + 1) % 16;
		}
		else if (i < 48)
		{
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
		}
		else
		{
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
		}
		t = d;
		d = c;
		c = b;
		b = b + rotl(a + f + K[i] + w[g], S[i]);
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
}

/* See td_md5.h. */
void
td_md5_init(td_md5 *m)
{
	if (!k_ready)
		fill_k();
	m->h[0] = 0x67452301;
	m->h[1] = 0xefcdab89;
	m->h[2] = 0x98badcfe;
	m->h[3] = 0x10325476;
	m->bytes = 0;
	m->fill = 0;
}

/* See td_md5.h. */
void
td_md5_update(td_md5 *m, const void *data, size_t len)
{
	const unsigned char *p = data;

	m->bytes += len;
	if (m->fill > 0)
	{
		size_t		take = 64 - m->fill < len ? 64 - m->fill : len;

		memcpy(m->block + m->fill, p, take);
		m->fill += take;
		p += take;
		len -= take;
		if (m->fill < 64)
			return;
		transform(m->h, m->block);
		m->fill = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		transform(m->h, p);
	memcpy(m->block, p, len);
	m->fill = len;
}

/* See td_md5.h. */
void
td_md5_final(td_md5 *m, unsigned char out[16])
{
	uint64_t	bits = m->bytes * 8;
	unsigned char pad[72] = {0x80};
	size_t		padlen = (m->fill < 56 ? 56 : 120) - m->fill;

	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char) (bits >> (8 * i));
	td_md5_update(m, pad, padlen + 8);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (unsigned char) (m->h[i] >> (8 * j));
}
