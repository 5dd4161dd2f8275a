/*
 * td_json.h — a small JSON reader and writer for the pure C cores.
 *
 * Values are parsed into an arena (freed all at once).  Strings are decoded
 * UTF-8 and never contain NUL; numbers keep their literal text beside their
 * double value.  Objects may hold duplicate keys; lookups return the last
 * one, as jsonb does.  The writer escapes exactly what RFC 8259 requires
 * (quote, backslash, control characters) and keeps every other character.
 */
#ifndef TD_JSON_H
#define TD_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "td_mem.h"

#define TD_JSON_MAX_DEPTH 256

typedef enum td_json_type
{
	TD_JSON_NULL,
	TD_JSON_FALSE,
	TD_JSON_TRUE,
	TD_JSON_NUMBER,
	TD_JSON_STRING,
	TD_JSON_ARRAY,
	TD_JSON_OBJECT
} td_json_type;

typedef struct td_json td_json;

typedef struct td_json_member
{
	const char *key;
	size_t		key_len;
	td_json    *value;
} td_json_member;

struct td_json
{
	td_json_type type;
	const char *str;			/* STRING: decoded text; NUMBER: literal */
	size_t		len;
	double		num;			/* NUMBER */
	size_t		count;			/* ARRAY, OBJECT: number of elements */
	td_json   **items;			/* ARRAY */
	td_json_member *members;	/* OBJECT */
};

/* Where and why parsing stopped. */
typedef struct td_json_error
{
	size_t		offset;			/* byte offset of the problem */
	const char *message;		/* static English text */
} td_json_error;

/* Parse s[0..len) (the whole input must be one value); NULL on error. */
extern td_json *td_json_parse(td_arena *arena, const char *s, size_t len, td_json_error *err);

/* Parse one value at the start of s[0..len); *consumed is its length. */
extern td_json *td_json_parse_prefix(td_arena *arena, const char *s, size_t len,
									 size_t *consumed, td_json_error *err);

/* Member of an object by key (last one wins), or NULL. */
extern td_json *td_json_get(const td_json *obj, const char *key);

/*
 * An object's members sorted by key, only the last of duplicate keys: a
 * lookup in O(log n) instead of a scan, for code that looks up many keys.
 */
typedef struct td_json_index
{
	const td_json_member **members;
	size_t		count;
} td_json_index;

/* Index obj (an object, else the index is empty) in arena: O(n log n). */
extern void td_json_index_build(td_arena *arena, const td_json *obj, td_json_index *ix);

/* The member named key[0..key_len) (the last one), or NULL. */
extern const td_json_member *td_json_index_find(const td_json_index *ix, const char *key, size_t key_len);

/* True for a string value equal to s. */
extern bool td_json_string_is(const td_json *v, const char *s);

/*
 * Merge patch into base: objects member by member (recursively), anything
 * else replaced by patch.  Either may be NULL (absent).  The result shares
 * nodes with the inputs and lives in arena.  O(n log n) in the members.
 */
extern const td_json *td_json_merge(td_arena *arena, const td_json *base, const td_json *patch);

/* Append v as JSON. */
extern void td_json_write(td_buf *buf, const td_json *v);

/*
 * Input bytes td_json_write_string escapes per reservation, and the room it
 * reserves for them (each byte may become a 6-byte escape): a buffer with
 * this much room to spare beyond its contents is never grown for a string
 * shorter than the chunk.
 */
#define TD_JSON_ESCAPE_CHUNK 256
#define TD_JSON_ESCAPE_ROOM (6 * TD_JSON_ESCAPE_CHUNK + 2)

/* Append s[0..len) as a JSON string literal, quotes included. */
extern void td_json_write_string(td_buf *buf, const char *s, size_t len);

/* Append a JSON member name and colon ("key":), preceded by a comma unless first. */
extern void td_json_write_key(td_buf *buf, const char *key, bool first);

#endif							/* TD_JSON_H */
