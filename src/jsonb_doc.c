/*
 * jsonb_doc.c — the jsonb document writer (see jsonb_doc.h).
 *
 * Each open container is a frame: its members in the order written (an
 * object's key, and for every member the type bits of its value and where
 * the value's bytes lie in the frame's data) and those bytes, unpadded.
 * When a container ends, its keys are put in jsonb's order (shorter
 * first, then bytewise; the last of equal keys kept) and it is laid out
 * the way convertJsonbValue lays one out: a header (the count and the
 * kind), one entry per key and per value (every JB_OFFSET_STRIDE'th an
 * end offset, the others lengths), the keys, then the values, each
 * numeric and container preceded by the zero bytes that align it to 4
 * (counted in its length).  It is laid out relative to its own start,
 * into its parent's data, and the parent aligns that start when it is
 * laid out in turn; the outermost container goes right after the varlena
 * header (at 4).  So the bytes are jsonb's own, each value's copied once
 * per level of nesting.
 */
#include "postgres.h"

#include <math.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "jsonb_doc.h"

typedef td_jb_bytes jb_bytes;

/* A member of a container (an object's pair, an array's element). */
typedef struct jb_member
{
	const char *key;			/* objects: the key's bytes (a constant, or a converted copy) */
	uint32		keylen;
	uint32		type;			/* the value's JENTRY_IS* bits */
	uint32		off;			/* the value's bytes in the frame's data */
	uint32		len;
} jb_member;

/*
 * An open container.  Gathered (the usual case): its members and their
 * bytes, laid out when it ends.  Laid out as written (an object whose keys
 * came first, begin_object_keys): its header, entries and keys written at
 * once into the bytes of the container that holds it (or the result), each
 * value appended there and its entry filled in.
 */
typedef struct jb_frame
{
	bool		object;
	bool		inplace;		/* laid out as written */
	/* gathered */
	jb_member  *m;
	int			n;
	int			cap;
	jb_bytes	b;
	/* laid out as written */
	int			bufframe;		/* whose data it is written into: a frame's index, -1 the result */
	uint32		start;			/* its first byte there */
	uint32		lead;			/* the pad before it, in a container also laid out as written */
	const char *const *keys;
	const uint32 *lens;			/* their lengths */
	uint32		nkeys;
	uint32		next;			/* members written */
	uint32		total;			/* entry lengths so far (every JB_OFFSET_STRIDE'th entry an end offset) */
	bool		pending;		/* the next member's key was written, not its value */
} jb_frame;

#define ALIGNED_TYPE(t) ((t) == JENTRY_ISNUMERIC || (t) == JENTRY_ISCONTAINER)

/* The error of a document larger than a jsonb value can hold. */
static void
too_large(uint64 bytes)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("jsonb document exceeds the maximum of %d bytes", JENTRY_OFFLENMASK),
			 errdetail("The document needs at least " UINT64_FORMAT " bytes.", bytes)));
}

/* Grow b for need bytes (never past what an entry can measure); a first allocation in cxt. */
static void
bytes_grow(jb_bytes *b, uint64 need, MemoryContext cxt)
{
	uint64		size;

	if (need > JENTRY_OFFLENMASK + (uint64) VARHDRSZ)
		too_large(need);
	size = Max(need, (uint64) b->size * 2);
	size = Max(size, 1024);
	size = Min(size, JENTRY_OFFLENMASK + (uint64) VARHDRSZ);
	b->data = b->data ? repalloc(b->data, size) : MemoryContextAlloc(cxt, size);
	b->size = (uint32) size;
}

/* Room for more bytes at the end of b: the check inline, the growth out of line. */
static inline void
bytes_reserve(jb_bytes *b, uint64 more, MemoryContext cxt)
{
	if ((uint64) b->len + more > b->size)
		bytes_grow(b, (uint64) b->len + more, cxt);
}

/*
 * Copy len bytes: a document's keys and most of its values are short, and
 * a call to memcpy costs more than copying them inline (two overlapping
 * words for 4 to 16 bytes; never a byte read outside src[0..len)).
 */
static inline void
copy_bytes(char *dst, const char *src, uint32 len)
{
	if (len >= 8 && len <= 16)
	{
		uint64		a,
					b;

		memcpy(&a, src, 8);
		memcpy(&b, src + len - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + len - 8, &b, 8);
	}
	else if (len >= 4 && len < 8)
	{
		uint32		a,
					b;

		memcpy(&a, src, 4);
		memcpy(&b, src + len - 4, 4);
		memcpy(dst, &a, 4);
		memcpy(dst + len - 4, &b, 4);
	}
	else if (len < 4)
		for (uint32 i = 0; i < len; i++)
			dst[i] = src[i];
	else
		memcpy(dst, src, len);
}

/* Append len bytes; returns where they start. */
static inline uint32
bytes_append(jb_bytes *b, const void *src, uint32 len, MemoryContext cxt)
{
	uint32		at;

	bytes_reserve(b, len, cxt);
	at = b->len;
	copy_bytes(b->data + at, src, len);
	b->len += len;
	return at;
}

/* Room for one more member in f (a first array allocated in cxt). */
static inline void
frame_grow(jb_frame *f, MemoryContext cxt)
{
	if (f->n < f->cap)
		return;
	if (f->cap >= (int) Min(MaxAllocSize / sizeof(jb_member) / 2, JB_CMASK / 2))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("jsonb document has too many members: %d", f->n)));
	f->cap = f->cap ? f->cap * 2 : 16;
	f->m = f->m ? repalloc(f->m, f->cap * sizeof(jb_member)) : MemoryContextAlloc(cxt, f->cap * sizeof(jb_member));
}

/* Order of jsonb object keys: shorter first, then bytewise (short keys compared inline). */
static inline int
key_cmp(const jb_member *a, const jb_member *b)
{
	if (a->keylen != b->keylen)
		return a->keylen < b->keylen ? -1 : 1;
	if (a->keylen > 32)
		return memcmp(a->key, b->key, a->keylen);
	for (uint32 i = 0; i < a->keylen; i++)
		if (a->key[i] != b->key[i])
			return (unsigned char) a->key[i] < (unsigned char) b->key[i] ? -1 : 1;
	return 0;
}

/*
 * Put an object's members in key order, keeping the last of equal keys:
 * a stable insertion sort (objects of a document have few members; a
 * cancel is checked for each), then, if it met two equal keys (they meet:
 * a key stops where an equal one ends the sorted part), one pass.
 */
static void
order_keys(jb_frame *f)
{
	jb_member  *m = f->m;
	int			out = 0;
	bool		equal = false;

	for (int i = 1; i < f->n; i++)
	{
		jb_member	x = m[i];
		int			j = i,
					c = 1;

		CHECK_FOR_INTERRUPTS();
		while (j > 0 && (c = key_cmp(&m[j - 1], &x)) > 0)
		{
			m[j] = m[j - 1];
			j--;
		}
		equal |= j > 0 && c == 0;
		m[j] = x;
	}
	if (!equal)
		return;
	for (int i = 0; i < f->n; i++)
	{
		if (i + 1 < f->n && key_cmp(&m[i], &m[i + 1]) == 0)
			continue;			/* a later member has the same key: it wins */
		m[out++] = m[i];
	}
	f->n = out;
}

/*
 * Store entry number i of a container whose entries start at je, lengths
 * so far in *total (the container's size was checked against what an
 * entry can measure before: no sum of lengths passes it).
 */
static inline void
put_entry(char *je, uint32 i, uint32 type, uint32 len, uint32 *total)
{
	JEntry		e = type | len;

	*total += len;
	if (i % JB_OFFSET_STRIDE == 0)
		e = type | *total | JENTRY_HAS_OFF;
	memcpy(je + (size_t) i * sizeof(JEntry), &e, sizeof(JEntry));
}

/* The bytes a container laid out as written goes into (frame index, or -1: the result). */
static inline jb_bytes *
inplace_bytes(td_jsonb_doc *w, int bufframe)
{
	return bufframe < 0 ? &w->root : &w->frames[bufframe].b;
}

/* Where those bytes are first allocated: the result's in the caller's context. */
static inline MemoryContext
inplace_cxt(const td_jsonb_doc *w, int bufframe)
{
	return bufframe < 0 ? CurrentMemoryContext : w->cxt;
}

/*
 * Zeros aligning the end of b to 4 from start, with room for extra bytes
 * after them (one reservation); returns how many zeros.
 */
static inline uint32
pad_to_int(jb_bytes *b, uint32 start, uint32 extra, MemoryContext cxt)
{
	uint32		pad = (start - b->len) & 3;

	bytes_reserve(b, (uint64) pad + extra, cxt);
	if (pad)
	{
		memset(b->data + b->len, 0, pad);
		b->len += pad;
	}
	return pad;
}

/*
 * An object laid out as written takes a value for the key written last:
 * a value without its key is a caller's mistake, an internal error (never
 * a corrupt document).
 */
static inline void
take_key(jb_frame *f)
{
	if (!f->pending)
		elog(ERROR, "jsonb document: a value without its key in an object of declared keys");
	f->pending = false;
}

/* Fill in the entry of the next member of f (laid out as written in b): its type and length (pad included). */
static inline void
inplace_entry(jb_bytes *b, jb_frame *f, uint32 type, uint32 len)
{
	uint32		i = f->nkeys + f->next++;
	JEntry		e;

	f->total += len;
	e = i % JB_OFFSET_STRIDE == 0 ? type | f->total | JENTRY_HAS_OFF : type | len;
	memcpy(b->data + f->start + sizeof(uint32) + (size_t) i * sizeof(JEntry), &e, sizeof(JEntry));
}

/*
 * The loops over a container's members check for a cancel once per 65,536
 * members: a parse that builds a million-element array spent up to a second
 * here unable to be cancelled (a review of inputs 1,000 times larger).
 */
#define LAYOUT_CHECK_EVERY 0xFFFF

/*
 * Lay f out at the end of out (first allocated in cxt), relative to where
 * it starts there (its parent aligns that start to 4); flags: JB_FSCALAR
 * for a scalar document.  Returns its length in bytes.
 */
static uint32
layout(jb_frame *f, jb_bytes *out, uint32 flags, MemoryContext cxt)
{
	uint32		nkeys,
				header,
				start,
				pos,
				total = 0;
	uint64		room;
	char	   *je,
			   *data;

	if (f->object)
		order_keys(f);
	nkeys = f->object ? (uint32) f->n : 0;
	header = (uint32) f->n | (f->object ? JB_FOBJECT : JB_FARRAY) | flags;
	room = sizeof(uint32) + (uint64) (nkeys + (uint32) f->n) * sizeof(JEntry);	/* exactly: the alignment as below */
	for (uint32 i = 0; i < nkeys; i++)
		room += f->m[i].keylen;
	for (int i = 0; i < f->n; i++)
	{
		if ((i & LAYOUT_CHECK_EVERY) == LAYOUT_CHECK_EVERY)
			CHECK_FOR_INTERRUPTS();
		room = (ALIGNED_TYPE(f->m[i].type) ? INTALIGN(room) : room) + f->m[i].len;
	}
	if (room > JENTRY_OFFLENMASK)
		too_large(room);
	bytes_reserve(out, room, cxt);
	start = out->len;
	data = out->data + start;	/* the container, from its own start */
	memcpy(data, &header, sizeof(uint32));
	je = data + sizeof(uint32);
	pos = sizeof(uint32) + (nkeys + (uint32) f->n) * sizeof(JEntry);
	for (uint32 i = 0; i < nkeys; i++)
	{
		if ((i & LAYOUT_CHECK_EVERY) == LAYOUT_CHECK_EVERY)
			CHECK_FOR_INTERRUPTS();
		copy_bytes(data + pos, f->m[i].key, f->m[i].keylen);
		pos += f->m[i].keylen;
		put_entry(je, i, JENTRY_ISSTRING, f->m[i].keylen, &total);
	}
	for (int i = 0; i < f->n; i++)
	{
		const jb_member *m = &f->m[i];
		uint32		pad = 0;

		if ((i & LAYOUT_CHECK_EVERY) == LAYOUT_CHECK_EVERY)
			CHECK_FOR_INTERRUPTS();

		if (ALIGNED_TYPE(m->type) && (pad = (uint32) (-pos & 3)) != 0)
		{
			uint32		zero = 0;

			if (m->len >= sizeof(uint32))	/* (always: a header) the value overwrites what the pad did not take */
				memcpy(data + pos, &zero, sizeof(uint32));
			else
				memset(data + pos, 0, pad);
			pos += pad;
		}
		if (m->len > 0)			/* (a frame with only empty values may have no data) */
			copy_bytes(data + pos, f->b.data + m->off, m->len);
		pos += m->len;
		put_entry(je, nkeys + (uint32) i, m->type, pad + m->len, &total);
	}
	Assert(pos == room);
	out->len = start + pos;
	return pos;
}

/* The frame of a new container at the current depth (its arrays kept from an earlier one). */
static jb_frame *
frame_push(td_jsonb_doc *w, bool object)
{
	jb_frame   *f;

	CHECK_FOR_INTERRUPTS();
	if (w->depth == w->nframes)
	{
		int			more = w->nframes ? w->nframes * 2 : 4;

		if (more > (int) (MaxAllocSize / sizeof(jb_frame)))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("jsonb document nests too deeply: %d levels", w->depth)));
		w->frames = w->frames ? repalloc(w->frames, more * sizeof(jb_frame)) :
			MemoryContextAlloc(w->cxt, more * sizeof(jb_frame));
		memset(w->frames + w->nframes, 0, (more - w->nframes) * sizeof(jb_frame));
		w->nframes = more;
	}
	f = &w->frames[w->depth++];
	f->object = object;
	f->inplace = false;
	f->n = 0;
	f->b.len = 0;
	return f;
}

/* The member that takes the next value of the innermost container. */
static inline jb_member *
value_slot(td_jsonb_doc *w)
{
	jb_frame   *f = &w->frames[w->depth - 1];

	if (f->object)
	{
		Assert(f->n > 0);
		return &f->m[f->n - 1];
	}
	frame_grow(f, w->cxt);
	f->m[f->n].key = NULL;
	f->m[f->n].keylen = 0;
	return &f->m[f->n++];
}

/* The result: a varlena header, then the outermost container laid out. */
static void
finish_root(td_jsonb_doc *w, jb_frame *f, uint32 flags)
{
	jb_bytes	out = {NULL, VARHDRSZ, 0};	/* layout allocates the header's room with its own */

	layout(f, &out, flags, CurrentMemoryContext);
	SET_VARSIZE(out.data, out.len);
	w->result = (struct varlena *) out.data;
}

/*
 * Add a value (type bits and bytes) where put_value cannot lay it out as
 * written: at the top, a scalar document (a one-element array marked
 * scalar, as jsonb keeps one); in a gathered container, a member's value
 * or an element.  Out of line: the usual value goes into an object laid
 * out as written (put_value), whose path stays short.
 */
static pg_noinline void
put_value_gathered(td_jsonb_doc *w, uint32 type, const void *bytes, uint32 len)
{
	jb_member  *m;
	jb_frame   *f;

	if (w->depth == 0)
	{
		f = frame_push(w, false);
		put_value_gathered(w, type, bytes, len);
		w->depth--;
		finish_root(w, f, JB_FSCALAR);
		return;
	}
	f = &w->frames[w->depth - 1];
	m = value_slot(w);
	m->type = type;
	m->len = len;
	m->off = len ? bytes_append(&f->b, bytes, len, w->cxt) : f->b.len;
}

/*
 * Add a value (type bits and bytes): in an object laid out as written,
 * appended where the object goes (aligned to 4 for a numeric) and its
 * entry filled in; anywhere else, put_value_gathered.
 */
static void
put_value(td_jsonb_doc *w, uint32 type, const void *bytes, uint32 len)
{
	jb_frame   *f;
	jb_bytes   *b;
	uint32		pad = 0;

	if (unlikely(w->depth == 0) || !(f = &w->frames[w->depth - 1])->inplace)
	{
		put_value_gathered(w, type, bytes, len);
		return;
	}
	b = inplace_bytes(w, f->bufframe);
	take_key(f);
	if (ALIGNED_TYPE(type))
		pad = pad_to_int(b, f->start, len, inplace_cxt(w, f->bufframe));
	else
		bytes_reserve(b, len, inplace_cxt(w, f->bufframe));
	if (len > 0)
		copy_bytes(b->data + b->len, bytes, len);
	b->len += len;
	inplace_entry(b, f, type, pad + len);
}

/*
 * A declared key set (begin_object_keys), checked and laid out once per
 * session: the keys' lengths, and the object's header, the keys' entries,
 * room for the values' entries and the keys, copied as one block into each
 * object that declares it.
 */
typedef struct declared_keys
{
	const char *const *keys;	/* static storage: found again by its address */
	const char **ptrs;			/* the key strings it named when declared */
	size_t		n;
	uint32	   *lens;
	char	   *block;
	uint32		block_len;
	uint32		keys_len;		/* the keys' bytes */
} declared_keys;

#define ROOT_SIZE 2048			/* bytes first allocated for a result laid out as written (most documents) */
#define DECLARED_MAX 64			/* key sets a session keeps (the cores declare a handful) */
#define DECLARED_KEYS_MAX 64	/* keys a set may declare */

static declared_keys declared[DECLARED_MAX];
static int	ndeclared;

/*
 * Check that declared keys are distinct, ASCII (the same bytes in every
 * server encoding) and in jsonb's order, which the layout relies on (an
 * object laid out with keys out of order would be found wrong by every
 * lookup), and lay out their block in cxt.
 */
static void
declare_keys(declared_keys *dk, const char *const *keys, size_t n, MemoryContext cxt)
{
	uint32		checked[DECLARED_KEYS_MAX],
			   *lens = checked;	/* checked before anything is allocated */
	uint32		keys_len = 0,
				at;
	char	   *block;
	uint32		header = (uint32) n | JB_FOBJECT;

	if (n > DECLARED_KEYS_MAX)
		elog(ERROR, "jsonb document: %zu declared keys, more than %d", n, DECLARED_KEYS_MAX);
	for (size_t i = 0; i < n; i++)
	{
		size_t		len = strlen(keys[i]);

		for (size_t k = 0; k < len; k++)
			if ((unsigned char) keys[i][k] >= 0x80)
				elog(ERROR, "jsonb document: declared key \"%s\" is not ASCII", keys[i]);
		if (i > 0 && (len < lens[i - 1] || (len == lens[i - 1] && memcmp(keys[i - 1], keys[i], len) >= 0)))
			elog(ERROR, "jsonb document: declared key \"%s\" is not after \"%s\" in jsonb's order",
				 keys[i], keys[i - 1]);
		lens[i] = (uint32) len;
		keys_len += (uint32) len;
	}
	lens = MemoryContextAlloc(cxt, (n ? n : 1) * sizeof(uint32));
	memcpy(lens, checked, n * sizeof(uint32));
	dk->block_len = sizeof(uint32) + 2 * (uint32) n * sizeof(JEntry) + keys_len;
	block = MemoryContextAllocZero(cxt, dk->block_len);
	memcpy(block, &header, sizeof(uint32));
	at = sizeof(uint32) + 2 * (uint32) n * sizeof(JEntry);
	for (uint32 i = 0, total = 0; i < (uint32) n; i++)
	{
		JEntry		e;

		total += lens[i];
		e = i % JB_OFFSET_STRIDE == 0 ? JENTRY_ISSTRING | total | JENTRY_HAS_OFF : JENTRY_ISSTRING | lens[i];
		memcpy(block + sizeof(uint32) + i * sizeof(JEntry), &e, sizeof(JEntry));
		memcpy(block + at, keys[i], lens[i]);
		at += lens[i];
	}
	dk->ptrs = MemoryContextAlloc(cxt, (n ? n : 1) * sizeof(const char *));
	for (size_t i = 0; i < n; i++)
		dk->ptrs[i] = keys[i];
	dk->keys = keys;
	dk->n = n;
	dk->lens = lens;
	dk->block = block;
	dk->keys_len = keys_len;
}

/*
 * Does the kept set still name the same key strings?  (The array is found
 * by its address: one that was reused for other keys is declared anew.)
 */
static bool
same_key_pointers(const declared_keys *dk, const char *const *keys)
{
	for (size_t i = 0; i < dk->n; i++)
		if (dk->ptrs[i] != keys[i])
			return false;
	return true;
}

/* The declared key set of keys[0..n): kept for the session (in TopMemoryContext), or made for this object. */
static const declared_keys *
declared_of(const char *const *keys, size_t n, declared_keys *local)
{
	for (int i = 0; i < ndeclared; i++)
		if (declared[i].keys == keys && declared[i].n == n && same_key_pointers(&declared[i], keys))
			return &declared[i];
	if (ndeclared == DECLARED_MAX)
	{
		declare_keys(local, keys, n, CurrentMemoryContext);
		return local;
	}
	declare_keys(&declared[ndeclared], keys, n, TopMemoryContext);	/* kept once complete */
	return &declared[ndeclared++];
}

/*
 * { with its keys known (see td_doc.h): the header, the keys' entries and
 * the keys copied at once where the object goes (the result, its gathered
 * parent's data, or after its in-place parent's bytes, aligned).
 */
static void
jsonb_doc_begin_object_keys(td_doc *d, const char *const *keys, size_t n)
{
	td_jsonb_doc *w = (td_jsonb_doc *) d;
	jb_frame   *parent = w->depth > 0 ? &w->frames[w->depth - 1] : NULL,
			   *f;
	int			bufframe = parent == NULL ? -1 : parent->inplace ? parent->bufframe : w->depth - 1;
	uint32		lead = 0;
	jb_bytes   *b;
	MemoryContext cxt = inplace_cxt(w, bufframe);
	declared_keys local;
	const declared_keys *dk = declared_of(keys, n, &local);

	if (parent && parent->inplace)
	{
		take_key(parent);
		lead = pad_to_int(inplace_bytes(w, bufframe), parent->start, 0, cxt);
	}
	f = frame_push(w, true);	/* (may move the frames: b is found after it) */
	f->inplace = true;
	f->bufframe = bufframe;
	f->lead = lead;
	f->keys = keys;
	f->lens = dk->lens;
	f->nkeys = (uint32) n;
	f->next = 0;
	f->total = dk->keys_len;
	f->pending = false;
	b = inplace_bytes(w, bufframe);
	if (bufframe < 0 && b->data == NULL)
		bytes_reserve(b, ROOT_SIZE, cxt);	/* the result: one allocation for most documents */
	bytes_reserve(b, dk->block_len, cxt);
	f->start = b->len;
	memcpy(b->data + b->len, dk->block, dk->block_len);
	b->len += dk->block_len;
}

/* } of an object laid out as written: its length to its parent, or the result. */
static void
inplace_end(td_jsonb_doc *w, jb_frame *f)
{
	jb_bytes   *b = inplace_bytes(w, f->bufframe);
	uint32		len = b->len - f->start;
	jb_frame   *parent;
	jb_member  *m;

	if (f->next != f->nkeys || f->pending)
		elog(ERROR, "jsonb document: %u of %u declared members written", f->next, f->nkeys);
	if (len > JENTRY_OFFLENMASK)
		too_large(len);
	if (w->depth == 0)
	{
		SET_VARSIZE(b->data, b->len);
		w->result = (struct varlena *) b->data;
		return;
	}
	parent = &w->frames[w->depth - 1];
	if (parent->inplace)
	{
		inplace_entry(b, parent, JENTRY_ISCONTAINER, f->lead + len);
		return;
	}
	m = value_slot(w);
	m->type = JENTRY_ISCONTAINER;
	m->off = f->start;
	m->len = len;
}

/* {, [. */
static void
jsonb_doc_begin_object(td_doc *d)
{
	frame_push((td_jsonb_doc *) d, true);
}

static void
jsonb_doc_begin_array(td_doc *d)
{
	frame_push((td_jsonb_doc *) d, false);
}

/* } and ]: the container laid out into its parent's data, or as the document. */
static void
jsonb_doc_end(td_doc *d)
{
	td_jsonb_doc *w = (td_jsonb_doc *) d;
	jb_frame   *f,
			   *parent;
	jb_member  *m;

	Assert(w->depth > 0);
	f = &w->frames[--w->depth];
	if (f->inplace)
	{
		inplace_end(w, f);
		return;
	}
	if (w->depth == 0)
	{
		finish_root(w, f, 0);
		return;
	}
	parent = &w->frames[w->depth - 1];
	if (parent->inplace)
	{
		jb_bytes   *b = inplace_bytes(w, parent->bufframe);
		MemoryContext cxt = inplace_cxt(w, parent->bufframe);
		uint32		pad;

		take_key(parent);
		pad = pad_to_int(b, parent->start, 0, cxt);
		pad += layout(f, b, 0, cxt);
		inplace_entry(b, parent, JENTRY_ISCONTAINER, pad);
		return;
	}
	m = value_slot(w);
	m->type = JENTRY_ISCONTAINER;
	m->off = parent->b.len;
	m->len = layout(f, &parent->b, 0, w->cxt);
}

/* A copy of s in the server encoding (s itself in a UTF-8 database); *len updated. */
static const char *
server_string(const td_jsonb_doc *w, const char *s, size_t *len)
{
	char	   *z,
			   *conv;

	if (w->utf8)
		return s;
	z = pnstrdup(s, *len);
	conv = pg_any_to_server(z, (int) *len, PG_UTF8);
	*len = strlen(conv);
	return conv;
}

/* The length of a string, refused past what an entry can measure. */
static inline uint32
string_len(size_t len)
{
	if (len > JENTRY_OFFLENMASK)
		too_large(len);
	return (uint32) len;
}

/* A member's key in a gathered object (out of line: most keys are declared ones, jsonb_doc_key). */
static pg_noinline void
key_gathered(td_jsonb_doc *w, jb_frame *f, const char *key, size_t len)
{
	jb_member  *m;

	key = server_string(w, key, &len);
	frame_grow(f, w->cxt);
	m = &f->m[f->n++];
	m->key = key;
	m->keylen = string_len(len);
	m->type = JENTRY_ISNULL;	/* until the core writes the value */
	m->off = f->b.len;
	m->len = 0;
}

/* A member's key (a constant: kept without a copy in a UTF-8 database); declared: checked, no copy. */
static void
jsonb_doc_key(td_doc *d, const char *key, size_t len)
{
	td_jsonb_doc *w = (td_jsonb_doc *) d;
	jb_frame   *f = &w->frames[w->depth - 1];

	Assert(w->depth > 0 && f->object);
	if (!f->inplace)
	{
		key_gathered(w, f, key, len);
		return;
	}
	if (f->pending || f->next >= f->nkeys || f->lens[f->next] != len ||
		(key != f->keys[f->next] && memcmp(f->keys[f->next], key, len) != 0))	/* (the same constant, mostly) */
		elog(ERROR, "jsonb document: key \"%.*s\" is not the next declared key", (int) Min(len, 64), key);
	f->pending = true;
}

/* A string. */
static void
jsonb_doc_string(td_doc *d, const char *s, size_t len)
{
	s = server_string((td_jsonb_doc *) d, s, &len);
	put_value((td_jsonb_doc *) d, JENTRY_ISSTRING, s, string_len(len));
}

/*
 * Numerics of m / 10^s for |m| < CACHED_M and s < CACHED_S, made once per
 * session (in TopMemoryContext) and shared: a document's scores, weights
 * and counts are mostly such values.
 */
#define CACHED_M 1024
#define CACHED_S 3

static Numeric cached_numeric[CACHED_S][2 * CACHED_M];

/* The numeric of m / 10^s: int64_div_fast_to_numeric's, from the cache when there. */
static Numeric
numeric_of(int64 m, int s)
{
	Numeric    *slot;

	if (m <= -CACHED_M || m >= CACHED_M || s >= CACHED_S)
		return s == 0 ? int64_to_numeric(m) : int64_div_fast_to_numeric(m, s);
	slot = &cached_numeric[s][m + CACHED_M];
	if (*slot == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		*slot = s == 0 ? int64_to_numeric(m) : int64_div_fast_to_numeric(m, s);
		MemoryContextSwitchTo(old);
	}
	return *slot;
}

/* A numeric value. */
static void
put_numeric(td_doc *d, Numeric num)
{
	put_value((td_jsonb_doc *) d, JENTRY_ISNUMERIC, num, VARSIZE_ANY(num));
}

/*
 * A number: the numeric jsonb_in makes of td_doc_number_text's digits.  A
 * whole number, or x = m / 10^s exactly as doubles go (s up to 6, m of at
 * most 10 digits: what 10 significant digits print, the smallest such s
 * having no trailing zero) is made from its digits without text; anything
 * else goes through the text.
 */
static void
jsonb_doc_number(td_doc *d, double x)
{
	static const double pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
	Numeric		num = NULL;
	char		buf[32];

	if (x == floor(x) && fabs(x) < 1e15)
		num = numeric_of((int64) x, 0);
	for (int s = 1; num == NULL && s < (int) lengthof(pow10); s++)
	{
		double		m = rint(x * pow10[s]);

		if (fabs(m) < 1e10 && m / pow10[s] == x)
			num = numeric_of((int64) m, s);
	}
	if (num == NULL)
	{
		td_doc_number_text(x, buf, sizeof(buf));
		num = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
												  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	}
	put_numeric(d, num);
}

/* A whole number. */
static void
jsonb_doc_integer(td_doc *d, long long x)
{
	put_numeric(d, numeric_of((int64) x, 0));
}

/* true or false. */
static void
jsonb_doc_boolean(td_doc *d, bool b)
{
	put_value((td_jsonb_doc *) d, b ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE, NULL, 0);
}

/* null. */
static void
jsonb_doc_null(td_doc *d)
{
	put_value((td_jsonb_doc *) d, JENTRY_ISNULL, NULL, 0);
}

static const td_doc_ops jsonb_doc_ops = {
	jsonb_doc_begin_object, jsonb_doc_begin_object_keys, jsonb_doc_end, jsonb_doc_begin_array, jsonb_doc_end,
	jsonb_doc_key, jsonb_doc_string, jsonb_doc_number, jsonb_doc_integer, jsonb_doc_boolean, jsonb_doc_null
};

/*
 * Frames kept from one document to the next, in a context of their own
 * under TopMemoryContext: a session's documents reuse their arrays instead
 * of allocating a dozen chunks each.  A document takes them when it starts
 * and gives them back when it finishes (dropped instead when it made them
 * large).  One that ends in an error leaves them taken until the
 * transaction's abort calls td_jsonb_doc_release_kept; a document started
 * meanwhile, or while another is open, allocates its own, as before.
 */
#define KEEP_BYTES (64 * 1024)	/* a frame's data kept up to this size */
#define KEEP_MEMBERS 1024		/* a frame's members kept up to this many */

static MemoryContext kept_context;
static jb_frame *kept_frames;
static int	kept_nframes;
static bool kept_taken;

/* See jsonb_doc.h. */
void
td_jsonb_doc_release_kept(void)
{
	if (kept_context)
		MemoryContextReset(kept_context);
	kept_frames = NULL;
	kept_nframes = 0;
	kept_taken = false;
}

/* See jsonb_doc.h. */
void
td_jsonb_doc_init(td_jsonb_doc *w)
{
	w->doc.ops = &jsonb_doc_ops;
	w->depth = 0;
	w->result = NULL;
	w->root.data = NULL;
	w->root.len = VARHDRSZ;
	w->root.size = 0;
	w->utf8 = GetDatabaseEncoding() == PG_UTF8;
	w->kept = !kept_taken;
	if (w->kept)
	{
		if (kept_context == NULL)
			kept_context = AllocSetContextCreate(TopMemoryContext, "train_data jsonb document frames",
												 ALLOCSET_SMALL_SIZES);
		kept_taken = true;
		w->cxt = kept_context;
		w->frames = kept_frames;
		w->nframes = kept_nframes;
	}
	else
	{
		w->cxt = CurrentMemoryContext;
		w->frames = NULL;
		w->nframes = 0;
	}
}

/* Did the document make its frames larger than a session keeps? */
static bool
frames_large(const td_jsonb_doc *w)
{
	for (int i = 0; i < w->nframes; i++)
		if (w->frames[i].b.size > KEEP_BYTES || w->frames[i].cap > KEEP_MEMBERS)
			return true;
	return false;
}

/* See jsonb_doc.h. */
Datum
td_jsonb_doc_finish(td_jsonb_doc *w)
{
	Assert(w->result != NULL && w->depth == 0);
	if (w->kept)
	{
		if (frames_large(w))
			td_jsonb_doc_release_kept();
		else
		{
			kept_frames = w->frames;
			kept_nframes = w->nframes;
			kept_taken = false;
		}
	}
	else
	{
		for (int i = 0; i < w->nframes; i++)
		{
			if (w->frames[i].m)
				pfree(w->frames[i].m);
			if (w->frames[i].b.data)
				pfree(w->frames[i].b.data);
		}
		if (w->frames)
			pfree(w->frames);
	}
	w->frames = NULL;
	w->nframes = 0;
	return PointerGetDatum(w->result);
}
