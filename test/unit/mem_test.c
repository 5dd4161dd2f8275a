/*
 * mem_test.c — unit tests of the cores' memory helpers (src/core/td_mem.c):
 * the growable buffer, the integer writer and the arena.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include "td_mem.h"
#include "unit.h"

/* The buffer grows by appends of every size and stays NUL-terminated. */
static void
test_buffer(void)
{
	td_buf		b;
	size_t		total = 0;
	int			intact = 1;

	td_buf_init(&b);
	ok(b.len == 0 && b.data != NULL && b.data[0] == '\0', "a new buffer is empty and terminated");
	for (size_t n = 0; n < 3000; n += 7)
	{
		char		chunk[3000];

		memset(chunk, 'a' + (int) (n % 26), n);
		td_buf_append(&b, chunk, n);
		total += n;
	}
	ok(b.len == total && b.data[b.len] == '\0' && b.cap > b.len, "appends of 0 to 2,996 bytes add up, terminated");
	for (size_t n = 0, at = 0; n < 3000; at += n, n += 7)
		for (size_t k = 0; k < n; k++)
			intact &= b.data[at + k] == 'a' + (int) (n % 26);
	ok(intact, "every appended byte is where it was put");
	td_buf_free(&b);

	td_buf_init(&b);
	td_buf_puts(&b, "ab");
	td_buf_putc(&b, '\0');
	td_buf_putc(&b, 'c');
	ok(b.len == 4 && memcmp(b.data, "ab\0c", 4) == 0, "putc keeps embedded NUL bytes");
	td_buf_free(&b);
}

/* put_long writes every long long, the extremes included. */
static void
test_put_long(void)
{
	static const struct
	{
		long long	v;
		const char *text;
	}			cases[] = {
		{0, "0"}, {7, "7"}, {-7, "-7"}, {10, "10"}, {1000000, "1000000"},
		{LLONG_MAX, "9223372036854775807"}, {LLONG_MIN, "-9223372036854775808"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		td_buf		b;

		td_buf_init(&b);
		td_buf_putc(&b, '[');
		td_buf_put_long(&b, cases[i].v);
		td_buf_putc(&b, ']');
		ok(b.len == strlen(cases[i].text) + 2 && memcmp(b.data + 1, cases[i].text, b.len - 2) == 0
		   && b.data[b.len - 1] == ']', cases[i].text);
		td_buf_free(&b);
	}
}

/* Arena allocations are aligned, distinct, and may exceed a block. */
static void
test_arena(void)
{
	td_arena	a;
	char	   *prev = NULL;
	int			aligned = 1,
				distinct = 1;
	char	   *big;
	char	   *copy;

	td_arena_init(&a);
	for (int i = 0; i < 5000; i++)
	{
		char	   *p = td_arena_alloc(&a, (size_t) (i % 40));

		aligned &= ((uintptr_t) p % 16) == 0;
		if (prev != NULL)
			distinct &= p != prev;
		memset(p, 0x5a, (size_t) (i % 40));
		prev = p;
	}
	ok(aligned, "5,000 small allocations, zero-sized ones included, are 16-byte aligned");
	ok(distinct, "consecutive allocations never share an address");
	big = td_arena_alloc(&a, 100000);
	memset(big, 1, 100000);
	ok(big != NULL && big[99999] == 1, "an allocation larger than a block is whole");
	copy = td_arena_strndup(&a, "abcdef", 3);
	ok(strcmp(copy, "abc") == 0, "strndup copies n bytes and terminates");
	td_arena_free(&a);
	ok(a.head == NULL, "a freed arena is empty");
	td_arena_free(&a);
	ok(a.head == NULL, "freeing an empty arena is harmless");
}

static jmp_buf limit_jump;
static size_t limit_requested;

/* A limit handler that returns to the test through longjmp. */
static void
limit_handler(size_t requested)
{
	limit_requested = requested;
	longjmp(limit_jump, 1);
}

static size_t arena_requested;

/* An arena limit handler that returns to the test through longjmp. */
static void
arena_limit_handler(size_t requested)
{
	arena_requested = requested;
	longjmp(limit_jump, 1);
}

/* Every way of allocating refuses more than TD_MAX_ALLOC through the handler. */
static void
test_limit(void)
{
	td_buf		b;
	td_arena	a;

	td_set_limit_handler(limit_handler);
	td_buf_init(&b);
	td_buf_append(&b, "abc", 3);
	limit_requested = 0;
	if (setjmp(limit_jump) == 0)
		td_buf_reserve(&b, TD_MAX_ALLOC);
	ok(limit_requested == TD_MAX_ALLOC + 4, "a buffer never grows past 1 GB: the handler gets the size");
	ok(b.len == 3 && strcmp(b.data, "abc") == 0, "the refused buffer is unchanged");
	limit_requested = 0;
	if (setjmp(limit_jump) == 0)
		td_buf_reserve(&b, (size_t) -2);
	ok(limit_requested == (size_t) -2, "a size that would wrap around is refused, not wrapped");
	td_buf_free(&b);

	limit_requested = 0;
	if (setjmp(limit_jump) == 0)
		td_free(td_malloc(TD_MAX_ALLOC + 1));
	ok(limit_requested == TD_MAX_ALLOC + 1, "malloc over the limit calls the handler");
	td_arena_init(&a);
	limit_requested = 0;
	if (setjmp(limit_jump) == 0)
		(void) td_arena_alloc(&a, TD_MAX_ALLOC + 1);
	ok(limit_requested == TD_MAX_ALLOC + 1, "an arena allocation over the limit calls the handler");
	td_arena_free(&a);

	/* the blocks together: bounded as one allocation is */
	td_arena_init(&a);
	ok(a.limit == TD_MAX_ALLOC, "an arena's blocks are bounded at 1 GB together");
	a.limit = 100000;
	limit_requested = 0;
	if (setjmp(limit_jump) == 0)
		for (int i = 0; i < 100000; i++)
			(void) td_arena_alloc(&a, 48);
	ok(limit_requested > 100000 && limit_requested <= 100000 + 8192 + 64,
	   "small allocations past the arena's limit call the handler with the total");
	ok(a.total <= 100000, "the refused block is not counted");
	td_arena_free(&a);
	ok(a.total == 0 && a.head == NULL, "a freed arena starts again from nothing");
	(void) td_arena_alloc(&a, 48);
	ok(a.total > 0 && a.total <= 8192 + 64, "and counts its blocks again");
	td_arena_free(&a);
	td_set_arena_limit_handler(arena_limit_handler);
	limit_requested = 0;
	td_arena_init(&a);
	a.limit = 1000;
	if (setjmp(limit_jump) == 0)
		(void) td_arena_alloc(&a, 48);
	ok(arena_requested > 1000 && limit_requested == 0, "the arena's own handler, when set, is called instead");
	td_arena_free(&a);
	td_set_arena_limit_handler(NULL);
	td_set_limit_handler(NULL);
}

int
main(void)
{
	test_buffer();
	test_put_long();
	test_arena();
	test_limit();
	return unit_done();
}
