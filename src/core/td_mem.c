/*
 * td_mem.c — allocator hooks, byte buffer and arena of the pure C cores.
 */
#include "td_mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Default allocator: malloc, aborting when memory runs out. */
static void *
default_alloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
		abort();
	return p;
}

/* Default reallocator: realloc, aborting when memory runs out. */
static void *
default_realloc(void *ptr, size_t size)
{
	void	   *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		abort();
	return p;
}

/* Default limit handler: a request over TD_MAX_ALLOC aborts. */
static void
default_limit(size_t requested)
{
	(void) requested;
	abort();
}

static td_alloc_fn alloc_hook = default_alloc;
static td_realloc_fn realloc_hook = default_realloc;
static td_free_fn free_hook = free;
static td_limit_fn limit_hook = default_limit;
static td_limit_fn arena_limit_hook = NULL;	/* NULL: limit_hook */

td_interrupt_fn td_interrupt_handler = NULL;
td_sort_fn	td_sort = qsort;

/* See td_mem.h. */
int
td_u64_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a,
				y = *(const uint64_t *) b;

	TD_CHECK_FOR_INTERRUPTS();
	return (x > y) - (x < y);
}
unsigned int td_interrupt_ticks = 0;

/* See td_mem.h. */
void
td_set_limit_handler(td_limit_fn fn)
{
	limit_hook = fn ? fn : default_limit;
}

/* See td_mem.h. */
void
td_set_arena_limit_handler(td_limit_fn fn)
{
	arena_limit_hook = fn;
}

/* Refuse a request over TD_MAX_ALLOC through the limit handler. */
static void
check_size(size_t size)
{
	if (size > TD_MAX_ALLOC)
	{
		limit_hook(size);
		abort();				/* a handler must not return */
	}
}

/* Install an allocator (NULLs restore the default one). */
void
td_set_allocator(td_alloc_fn alloc, td_realloc_fn realloc_fn, td_free_fn free_fn)
{
	alloc_hook = alloc ? alloc : default_alloc;
	realloc_hook = realloc_fn ? realloc_fn : default_realloc;
	free_hook = free_fn ? free_fn : free;
}

/* Allocate size bytes; never returns NULL. */
void *
td_malloc(size_t size)
{
	check_size(size);
	return alloc_hook(size);
}

/* Resize (ptr may be NULL); never returns NULL. */
void *
td_realloc(void *ptr, size_t size)
{
	check_size(size);
	return ptr ? realloc_hook(ptr, size) : alloc_hook(size);
}

/* Release (ptr may be NULL). */
void
td_free(void *ptr)
{
	if (ptr)
		free_hook(ptr);
}

static td_realloc_fn keep_realloc_hook = default_realloc;
static td_free_fn keep_free_hook = free;

/* See td_mem.h. */
void
td_set_keep_allocator(td_realloc_fn realloc_fn, td_free_fn free_fn)
{
	keep_realloc_hook = realloc_fn ? realloc_fn : default_realloc;
	keep_free_hook = free_fn ? free_fn : free;
}

/* See td_mem.h. */
void *
td_keep_realloc(void *ptr, size_t size)
{
	check_size(size);
	return keep_realloc_hook(ptr, size);
}

/* See td_mem.h. */
void
td_keep_free(void *ptr)
{
	if (ptr)
		keep_free_hook(ptr);
}

/* Start an empty buffer. */
void
td_buf_init(td_buf *buf)
{
	buf->cap = 64;
	buf->len = 0;
	buf->data = td_malloc(buf->cap);
	buf->data[0] = '\0';
}

/* Release a buffer's storage. */
void
td_buf_free(td_buf *buf)
{
	td_free(buf->data);
	buf->data = NULL;
	buf->len = buf->cap = 0;
}

/* Make room for more bytes plus the terminating NUL. */
void
td_buf_reserve(td_buf *buf, size_t more)
{
	size_t		need = buf->len + more + 1;

	TD_CHECK_FOR_INTERRUPTS();	/* every append: loops that write output */
	if (more > TD_MAX_ALLOC || need > TD_MAX_ALLOC)
		check_size(more > TD_MAX_ALLOC ? more : need);
	if (need <= buf->cap)
		return;
	while (buf->cap < need)		/* doubling, but never past the limit */
		buf->cap = buf->cap > TD_MAX_ALLOC / 2 ? TD_MAX_ALLOC : buf->cap * 2;
	buf->data = td_realloc(buf->data, buf->cap);
}

/* Append len bytes. */
void
td_buf_append(td_buf *buf, const char *s, size_t len)
{
	td_buf_reserve(buf, len);
	memcpy(buf->data + buf->len, s, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

/* Append a NUL-terminated string. */
void
td_buf_puts(td_buf *buf, const char *s)
{
	td_buf_append(buf, s, strlen(s));
}

/* Append one byte. */
void
td_buf_putc(td_buf *buf, char c)
{
	td_buf_reserve(buf, 1);
	buf->data[buf->len++] = c;
	buf->data[buf->len] = '\0';
}

/* Append a decimal integer. */
void
td_buf_put_long(td_buf *buf, long long value)
{
	char		tmp[32];
	int			n = snprintf(tmp, sizeof(tmp), "%lld", value);

	td_buf_append(buf, tmp, (size_t) n);
}

/* One block of an arena; payload follows the header. */
struct td_arena_block
{
	td_arena_block *next;
	size_t		used;
	size_t		size;
};

#define TD_ARENA_BLOCK 8192
#define TD_ALIGN(n) (((n) + 15) & ~((size_t) 15))

/* Start an empty arena, bounded at TD_MAX_ALLOC in all. */
void
td_arena_init(td_arena *arena)
{
	arena->head = NULL;
	arena->total = 0;
	arena->limit = TD_MAX_ALLOC;
}

/* Allocate size bytes from the arena, 16-byte aligned, zeroed. */
void *
td_arena_alloc(td_arena *arena, size_t size)
{
	td_arena_block *b = arena->head;
	size_t		header = TD_ALIGN(sizeof(td_arena_block));
	void	   *p;

	check_size(size);
	size = TD_ALIGN(size ? size : 1);
	if (b == NULL || b->size - b->used < size)
	{
		size_t		payload = size > TD_ARENA_BLOCK ? size : TD_ARENA_BLOCK;

		/*
		 * The blocks together stay within the limit as one allocation does:
		 * a tree of many small values takes 50 times its text (a 20 MB line
		 * of zeros took 1 GB, and the largest text 50 GB, a review of 1.2)
		 */
		if (arena->limit - arena->total < header + payload)
		{
			size_t		wanted = arena->total + header + payload;

			(arena_limit_hook ? arena_limit_hook : limit_hook) (wanted);
			abort();			/* a handler must not return */
		}
		b = td_malloc(header + payload);
		arena->total += header + payload;
		b->next = arena->head;
		b->used = 0;
		b->size = payload;
		arena->head = b;
	}
	p = (char *) b + header + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

/* Copy len bytes into the arena, NUL-terminated. */
char *
td_arena_strndup(td_arena *arena, const char *s, size_t len)
{
	char	   *p = td_arena_alloc(arena, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Release every block of the arena. */
void
td_arena_free(td_arena *arena)
{
	while (arena->head)
	{
		td_arena_block *next = arena->head->next;

		td_free(arena->head);
		arena->head = next;
	}
	arena->total = 0;
}
