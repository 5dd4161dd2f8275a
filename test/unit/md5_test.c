/*
 * md5_test.c — unit tests of MD5 (src/core/td_md5.c): the test suite of
 * RFC 1321, the same digests whatever pieces the input comes in, and a
 * state finished on a copy that goes on.
 */
#include <stdio.h>
#include <string.h>

#include "td_md5.h"
#include "unit.h"

/* The hexadecimal digest of s fed in pieces of at most piece bytes. */
static const char *
md5_of(const char *s, size_t piece)
{
	static char hex[33];
	td_md5		m;
	unsigned char out[16];
	size_t		len = strlen(s),
				pos = 0;

	td_md5_init(&m);
	while (pos < len)
	{
		size_t		n = len - pos < piece ? len - pos : piece;

		td_md5_update(&m, s + pos, n);
		pos += n;
	}
	td_md5_final(&m, out);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
	return hex;
}

int
main(void)
{
	static const struct
	{
		const char *in;
		const char *md5;
	}			rfc[] = {
		{"", "d41d8cd98f00b204e9800998ecf8427e"},
		{"a", "0cc175b9c0f1b6a831c399e269772661"},
		{"abc", "900150983cd24fb0d6963f7d28e17f72"},
		{"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
		{"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"},
		{"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
		"57edf4a22be3c955ac49da2e2107b67a"},
	};
	static const size_t pieces[] = {1, 3, 55, 56, 63, 64, 65, 1000};
	char		longer[3000];
	td_md5		m,
				copy;
	unsigned char a[16],
				b[16];

	for (size_t i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++)
		for (size_t p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++)
		{
			char		desc[160];

			snprintf(desc, sizeof(desc), "RFC 1321 \"%.20s\" in pieces of %zu", rfc[i].in, pieces[p]);
			ok(strcmp(md5_of(rfc[i].in, pieces[p]), rfc[i].md5) == 0, desc);
		}

	/* lengths around the padding's boundaries give the same digest however fed */
	{
		int			agree = 0;

		for (int len = 0; len < 200; len++)
		{
			char		one[33];

			memset(longer, 'x', (size_t) len);
			longer[len] = '\0';
			strcpy(one, md5_of(longer, 1));
			agree += strcmp(one, md5_of(longer, 1000)) == 0;
		}
		ok(agree == 200, "lengths 0 to 199 fed a byte at a time and at once agree");
	}

	/* finishing a copy leaves the state to go on */
	td_md5_init(&m);
	td_md5_update(&m, "message ", 8);
	copy = m;
	td_md5_final(&copy, a);
	td_md5_update(&m, "digest", 6);
	td_md5_final(&m, b);
	ok(memcmp(a, b, 16) != 0, "a copy finished early differs");
	{
		char		hex[33];

		for (int i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", b[i]);
		ok(strcmp(hex, "f96b697d7cb7938d525a2f31aaf161d0") == 0, "the state went on after its copy was finished");
		for (int i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", a[i]);
		ok(strcmp(hex, "9b10c9985311d8a19afc271140d7258e") == 0, "the copy's digest is the prefix's");
	}
	return unit_done();
}
