/*
 * uuid_text_test.c — unit tests of the UUID text parser (src/core/uuid_text.c).
 */
#include <string.h>

#include "unit.h"
#include "uuid_text.h"

/* Parse a NUL-terminated string. */
static int
parses(const char *s, unsigned char out[TD_UUID_LEN])
{
	return td_uuid_parse(s, strlen(s), out);
}

int
main(void)
{
	unsigned char u[TD_UUID_LEN];
	static const unsigned char expect[TD_UUID_LEN] = {
		0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8,
		0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11
	};

	ok(parses("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", u) && memcmp(u, expect, 16) == 0,
	   "canonical form");
	ok(parses("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", u) && memcmp(u, expect, 16) == 0,
	   "upper case");
	ok(parses("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", u) && memcmp(u, expect, 16) == 0,
	   "braces");
	ok(parses("a0eebc999c0b4ef8bb6d6bb9bd380a11", u) && memcmp(u, expect, 16) == 0,
	   "no hyphens");
	ok(parses("a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", u) && memcmp(u, expect, 16) == 0,
	   "hyphen after every group of four");
	ok(!parses("", u), "empty string");
	ok(!parses("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", u), "31 digits");
	ok(!parses("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111", u), "33 digits");
	ok(!parses("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-", u), "trailing hyphen");
	ok(!parses("-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", u), "leading hyphen");
	ok(!parses("a0eeb-c99-9c0b-4ef8-bb6d-6bb9bd380a11", u), "hyphen inside a group");
	ok(!parses("a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11", u), "double hyphen");
	ok(!parses("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", u), "unclosed brace");
	ok(!parses("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", u), "stray closing brace");
	ok(!parses("g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", u), "non-hex digit");
	ok(!parses(" a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", u), "leading space");
	ok(!td_uuid_parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 35, u), "length bound respected");
	ok(!parses("{}", u), "empty braces");
	return unit_done();
}
