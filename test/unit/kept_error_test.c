/*
 * kept_error_test.c — the quality cores' memory kept across calls
 * (td_keep_realloc: the detectors' scratch, the vocabulary's and the
 * n-gram tables) after an allocation that raises an error in the middle of
 * a call, as the backend's out-of-memory or 1 GB limit does: for every
 * kept allocation of a large call in turn, that allocation fails (a
 * longjmp, like ereport), then the next calls in the "session" must give
 * the same documents as before and write no byte outside what they were
 * given (guard bytes after every kept block, checked after each call).
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quality.h"
#include "td_mem.h"
#include "unit.h"

#define GUARD 64
#define MAX_BLOCKS 256

/* A kept block: its size, then the caller's bytes, then GUARD guard bytes. */
typedef struct block
{
	size_t		size;
	size_t		pad;			/* keeps the caller's bytes 16-byte aligned */
} block;

static void *live[MAX_BLOCKS];
static jmp_buf on_error;
static long calls,
			fail_at;			/* the kept allocation that fails (0: none) */

/* Are the guard bytes after every live block intact? */
static bool
guards_intact(void)
{
	for (int i = 0; i < MAX_BLOCKS; i++)
		if (live[i])
		{
			block	   *b = live[i];
			unsigned char *g = (unsigned char *) (b + 1) + b->size;

			for (int k = 0; k < GUARD; k++)
				if (g[k] != 0xA5)
					return false;
		}
	return true;
}

/* Forget (or remember) a live block. */
static void
track(void *old, void *new)
{
	for (int i = 0; i < MAX_BLOCKS; i++)
		if (live[i] == old)
		{
			live[i] = new;
			return;
		}
	abort();					/* more than MAX_BLOCKS kept, or an unknown pointer */
}

/* The kept allocator: a new block with guard bytes, failing the fail_at-th call. */
static void *
keep_realloc(void *ptr, size_t size)
{
	block	   *b;

	if (++calls == fail_at)
		longjmp(on_error, 1);
	b = malloc(sizeof(block) + size + GUARD);
	if (b == NULL)
		abort();
	track(NULL, b);
	b->size = size;
	memset((unsigned char *) (b + 1) + size, 0xA5, GUARD);
	if (ptr)
	{
		block	   *old = (block *) ptr - 1;

		memcpy(b + 1, ptr, old->size < size ? old->size : size);
		track(old, NULL);
		free(old);
	}
	return b + 1;
}

/* Its free. */
static void
keep_free(void *ptr)
{
	if (ptr == NULL)
		return;
	track((block *) ptr - 1, NULL);
	free((block *) ptr - 1);
}

/*
 * A long assistant turn: lines, sentences and paragraphs, repeated phrases
 * (the looping detectors), contractions (the refusal phrases' expansion)
 * and many distinct words (the vocabulary's tables grow).
 */
static char *
long_text(int words)
{
	char	   *s = malloc((size_t) words * 16 + 1),
			   *p = s;

	for (int i = 0; i < words; i++)
	{
		if (i % 5 == 0)
			p += sprintf(p, "I can't help with %d", i % 7);
		else
			p += sprintf(p, "w%d", i * 7919 % 100003);
		p += sprintf(p, "%s", i % 97 == 96 ? ".\n\n" : i % 13 == 12 ? ".\n" : i % 7 == 6 ? ". " : " ");
	}
	*p = '\0';
	return s;
}

/* The metrics document of a short user turn and an assistant one. */
static char *
metrics(const char *text)
{
	td_qturn	t[2];
	td_buf		out;
	double		overall;

	memset(t, 0, sizeof(t));
	t[0] = (td_qturn) {.role = "user", .role_len = 4, .content = "Hello, could you help me with this?", .len = 35};
	t[1] = (td_qturn) {.role = "assistant", .role_len = 9, .content = text, .len = strlen(text)};
	td_buf_init(&out);
	td_quality_metrics_turns(t, 2, true, &out, &overall);
	return out.data;
}

int
main(void)
{
	char	   *small = long_text(300),
			   *large = long_text(9000),
			   *want_small,
			   *want_large;
	long		per_call;
	bool		same = true,
				intact = true;
	int			errors = 0;

	td_set_keep_allocator(keep_realloc, keep_free);
	want_small = metrics(small);
	want_large = metrics(large);	/* the large one grows every kept table */
	want_small = metrics(small);	/* and the small one after it trims them */
	calls = 0;
	free(metrics(large));
	per_call = calls;
	ok(per_call > 10, "a large call grows the kept memory");

	for (long n = 1; n <= per_call; n++)
	{
		volatile bool raised = false;
		char	   *got;

		free(metrics(small));	/* tables kept, small */
		calls = 0;
		fail_at = n;
		if (setjmp(on_error) == 0)
			free(metrics(large));
		else
			raised = true;
		fail_at = 0;
		errors += raised;
		intact = intact && guards_intact();
		got = metrics(small);
		same = same && strcmp(got, want_small) == 0;
		intact = intact && guards_intact();
		free(got);
		got = metrics(large);
		same = same && strcmp(got, want_large) == 0;
		intact = intact && guards_intact();
		free(got);
	}
	ok(errors > 0, "allocations failed in the middle of calls");
	ok(intact, "no byte written past a kept block after a failed allocation");
	ok(same, "the calls after a failed one give the same documents");
	free(small);
	free(large);
	free(want_small);
	free(want_large);
	return unit_done();
}
