/*
 * td_mem.h — memory for the pure C cores: an allocator that the backend glue
 * replaces with palloc, a growable byte buffer and an arena.
 *
 * The cores never see a NULL from td_malloc: the default allocator aborts
 * when memory runs out (unit tests, fuzzers), the backend one raises an
 * error.  Callers therefore need no NULL checks.
 */
#ifndef TD_MEM_H
#define TD_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* Allocator hooks; td_set_allocator(NULL, NULL, NULL) restores malloc. */
typedef void *(*td_alloc_fn) (size_t size);
typedef void *(*td_realloc_fn) (void *ptr, size_t size);
typedef void (*td_free_fn) (void *ptr);

extern void td_set_allocator(td_alloc_fn alloc, td_realloc_fn realloc_fn, td_free_fn free_fn);
extern void *td_malloc(size_t size);
extern void *td_realloc(void *ptr, size_t size);
extern void td_free(void *ptr);

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
} td_arena;

extern void td_arena_init(td_arena *arena);
extern void *td_arena_alloc(td_arena *arena, size_t size);
extern char *td_arena_strndup(td_arena *arena, const char *s, size_t len);
extern void td_arena_free(td_arena *arena);

#endif							/* TD_MEM_H */
