/*
 * td_doc.h — a writer of a JSON document, so that a core can build one
 * without knowing where it goes: as JSON text into a td_buf (td_doc_text,
 * here) or straight into a jsonb value (the backend glue's writer, no text
 * to parse back).
 *
 * The core calls the operations in document order; keys and strings are
 * UTF-8, not NUL-terminated.  Keys are constants (static storage): a writer
 * may keep them without a copy; strings may be reused once written.  A number is a double written the way
 * JavaScript prints it: no fraction when it is a whole number below 1e15,
 * else 10 significant digits (td_doc_number_text).
 */
#ifndef TD_DOC_H
#define TD_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "td_mem.h"

typedef struct td_doc td_doc;

/* The operations of a writer. */
typedef struct td_doc_ops
{
	void		(*begin_object) (td_doc *d);

	/*
	 * An object whose keys are known before its values: keys[0..n), in
	 * jsonb's order (shorter first, then bytewise) and distinct; the core
	 * then writes exactly those members, in that order, each with its key
	 * as usual.  A writer may lay the object out as it goes (the jsonb
	 * writer: no members gathered, sorted and copied); the text writer
	 * writes it as any object.  keys is an array in static storage, as the
	 * strings are (a writer may find a key set again by its address).
	 */
	void		(*begin_object_keys) (td_doc *d, const char *const *keys, size_t n);
	void		(*end_object) (td_doc *d);
	void		(*begin_array) (td_doc *d);
	void		(*end_array) (td_doc *d);
	void		(*key) (td_doc *d, const char *key, size_t len);
	void		(*string) (td_doc *d, const char *s, size_t len);
	void		(*number) (td_doc *d, double x);
	void		(*integer) (td_doc *d, long long x);
	void		(*boolean) (td_doc *d, bool b);
	void		(*null) (td_doc *d);
} td_doc_ops;

/* A writer: its operations and its state (each writer extends this). */
struct td_doc
{
	const td_doc_ops *ops;
};

/* A writer of JSON text: members separated by commas, no spaces. */
typedef struct td_doc_text
{
	td_doc		doc;
	td_buf	   *out;
	bool		first;			/* the next member or element is the first of its container */
} td_doc_text;

/* Start a text writer appending to out. */
extern void td_doc_text_init(td_doc_text *t, td_buf *out);

/* The text of a number as td_doc writes it, into buf (at least 32 bytes). */
extern void td_doc_number_text(double x, char *buf, size_t size);

/* begin_object_keys for an array of keys (the array itself, not a pointer). */
#define td_doc_begin_keyed(d, keys) \
	((d)->ops->begin_object_keys((d), (keys), sizeof(keys) / sizeof((keys)[0])))

/*
 * Shorthands for NUL-terminated keys and strings (inline: a constant's
 * length is known where it is written).
 */
static inline void
td_doc_key(td_doc *d, const char *key)
{
	d->ops->key(d, key, strlen(key));
}

static inline void
td_doc_string(td_doc *d, const char *s)
{
	d->ops->string(d, s, strlen(s));
}

#endif							/* TD_DOC_H */
