/*
 * td_mem.h — memory for the pure C cores: an allocator that the backend glue
 * replaces with palloc, a growable byte buffer and an arena.
 *
 * The cores never see a NULL from td_malloc: the default allocator aborts
 * when memory runs out (unit tests, fuzzers), the backend one raises an
 * error.  Callers therefore need no NULL checks.
 *
 * No single allocation or buffer grows past TD_MAX_ALLOC: a larger request
 * calls the limit handler, which does not return (the backend one raises
 * SQLSTATE 54000, the default one aborts).
 *
 * Loops over input call TD_CHECK_FOR_INTERRUPTS(): every
 * TD_INTERRUPT_INTERVAL calls it runs the interrupt handler the backend
 * installs (CHECK_FOR_INTERRUPTS, which may not return); without one it
 * does nothing.
 */
#ifndef TD_MEM_H
#define TD_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* Largest allocation: PostgreSQL's MaxAllocSize, 1 GB less one byte. */
#define TD_MAX_ALLOC ((size_t) 0x3fffffff)

/* Called with the size of a request over TD_MAX_ALLOC; must not return. */
typedef void (*td_limit_fn) (size_t requested);

/* Install the limit handler (NULL restores the default, abort). */
extern void td_set_limit_handler(td_limit_fn fn);

/*
 * Called instead, when set, with the bytes an arena's blocks would take
 * together past its limit (NULL: the limit handler); must not return.
 */
extern void td_set_arena_limit_handler(td_limit_fn fn);

/* Interrupt handler (may not return); NULL: none. */
typedef void (*td_interrupt_fn) (void);

extern td_interrupt_fn td_interrupt_handler;
extern unsigned int td_interrupt_ticks;

#define TD_INTERRUPT_INTERVAL 1024

/* Cheap enough for every iteration of a loop over input. */
#define TD_CHECK_FOR_INTERRUPTS() ((void) TD_CHECK_FOR_INTERRUPTS_EXPR())

/* The same as an expression that is always true, for a loop's condition. */
#define TD_CHECK_FOR_INTERRUPTS_EXPR() \
	(((++td_interrupt_ticks & (TD_INTERRUPT_INTERVAL - 1)) != 0 || td_interrupt_handler == NULL || \
	  (td_interrupt_handler(), true)))

/*
 * The sort of the cores (qsort's contract): the C library's qsort, or the
 * one the backend glue installs, PostgreSQL's.  A comparator that checks
 * for a cancel may leave the sort by a jump, which glibc's qsort cannot
 * survive without leaking the buffer it took with malloc; pg_qsort takes
 * none.
 */
typedef void (*td_sort_fn) (void *base, size_t n, size_t size, int (*cmp) (const void *, const void *));

extern td_sort_fn td_sort;

/* td_sort's order of uint64_t values, ascending; checks for a cancel. */
extern int	td_u64_cmp(const void *a, const void *b);

/* Allocator hooks; td_set_allocator(NULL, NULL, NULL) restores malloc. */
typedef void *(*td_alloc_fn) (size_t size);
typedef void *(*td_realloc_fn) (void *ptr, size_t size);
typedef void (*td_free_fn) (void *ptr);

extern void td_set_allocator(td_alloc_fn alloc, td_realloc_fn realloc_fn, td_free_fn free_fn);
extern void *td_malloc(size_t size);
extern void *td_realloc(void *ptr, size_t size);
extern void td_free(void *ptr);

/*
 * Memory kept across calls (a core's scratch tables, reused by the next
 * call instead of allocated again): the backend gives it from a context
 * that lives as long as the session, the default is malloc.  The same
 * guarantees as td_malloc: never NULL, never past TD_MAX_ALLOC.
 */
extern void td_set_keep_allocator(td_realloc_fn realloc_fn, td_free_fn free_fn);
extern void *td_keep_realloc(void *ptr, size_t size);
extern void td_keep_free(void *ptr);

/* A growable byte string, always NUL-terminated after td_buf_init. */
typedef struct td_buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} td_buf;

extern void td_buf_init(td_buf *buf);
extern void td_buf_free(td_buf *buf);
extern void td_buf_reserve(td_buf *buf, size_t more);
extern void td_buf_append(td_buf *buf, const char *s, size_t len);
extern void td_buf_puts(td_buf *buf, const char *s);
extern void td_buf_putc(td_buf *buf, char c);
extern void td_buf_put_long(td_buf *buf, long long value);

/* An arena: many small allocations released together. */
typedef struct td_arena_block td_arena_block;
typedef struct td_arena
{
	td_arena_block *head;
	size_t		total;			/* bytes of its blocks */
	size_t		limit;			/* the most they may take: TD_MAX_ALLOC */
} td_arena;

extern void td_arena_init(td_arena *arena);
extern void *td_arena_alloc(td_arena *arena, size_t size);
extern char *td_arena_strndup(td_arena *arena, const char *s, size_t len);
extern void td_arena_free(td_arena *arena);

#endif							/* TD_MEM_H */
