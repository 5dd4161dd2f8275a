/*
 * slug_test.c — unit tests of the persona slug of readable conversation ids
 * (src/core/slug.c).
 */
#include <string.h>

#include "slug.h"
#include "unit.h"

/* The slug of s fed in pieces of at most piece bytes (cut only between characters by the caller's choice). */
static const char *
slug_of(const char *s, size_t piece)
{
	static td_slug slug;
	size_t		len = strlen(s);
	size_t		pos = 0;

	td_slug_init(&slug);
	while (pos < len)
	{
		size_t		n = len - pos < piece ? len - pos : piece;

		if (td_slug_add(&slug, s + pos, n))
			break;
		pos += n;
	}
	return td_slug_finish(&slug);
}

int
main(void)
{
	char		longer[200];

	ok(strcmp(slug_of("anxious investor", 100), "anxious_investor") == 0, "a space becomes _");
	ok(strcmp(slug_of("  first-time home buyer!! ", 100), "first_time_home_buyer") == 0,
	   "a run of other characters is one _, trimmed at both ends");
	ok(strcmp(slug_of("àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿ", 100), "aaaaaaaceeeeiiiinoooooouuuuyy") == 0,
	   "the accented letters of Latin-1 become their base letter");
	ok(strcmp(slug_of("ð÷þ", 100), "") == 0, "ð, ÷ and þ are other characters");
	ok(strcmp(slug_of("überängstlicher rentner", 100), "uberangstlicher_rentner") == 0, "umlauts");
	ok(strcmp(slug_of("привет мир", 100), "") == 0, "Cyrillic only: empty");
	ok(strcmp(slug_of("a\xffz", 100), "a_z") == 0, "an invalid byte is an other character");
	ok(strcmp(slug_of("***", 100), "") == 0, "nothing left: empty");
	ok(strcmp(slug_of("", 100), "") == 0, "empty persona");
	memset(longer, 'x', 39);
	strcpy(longer + 39, "é!yz");
	ok(strcmp(slug_of(longer, 100), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxe") == 0, "cut at 40 characters");
	memset(longer, 'x', 39);
	strcpy(longer + 39, "!!yz");
	ok(strlen(slug_of(longer, 100)) == 39, "a _ at the cut is trimmed");
	ok(strcmp(slug_of("ab  cd", 1), "ab_cd") == 0 && strcmp(slug_of("ab  cd", 3), "ab_cd") == 0,
	   "a run split between pieces is still one _");
	ok(strcmp(slug_of("a  b", 1), slug_of("a  b", 100)) == 0, "pieces do not change the slug");
	return unit_done();
}
