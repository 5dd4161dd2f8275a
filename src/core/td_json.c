/*
 * td_json.c — JSON (RFC 8259) parser and writer of the pure C cores.
 *
 * The parser is recursive descent with a depth limit, so hostile input can
 * neither overflow the stack nor take more than linear time.  It accepts
 * exactly RFC 8259 (no comments, no trailing commas, no NaN) and rejects
 * invalid UTF-8, lone surrogate escapes and \u0000 (which text cannot hold).
 */
#include "td_json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "td_text.h"
#include "td_utf8.h"

/* Parser state over one input. */
typedef struct parser
{
	td_arena   *arena;
	const char *s;
	size_t		len;
	size_t		pos;
	int			depth;
	td_json_error *err;
} parser;

static td_json *parse_value(parser *p);

/* Record the first error; always returns NULL. */
static td_json *
fail(parser *p, const char *message)
{
	if (p->err->message == NULL)
	{
		p->err->message = message;
		p->err->offset = p->pos;
	}
	return NULL;
}

/* Skip JSON whitespace. */
static void
skip_ws(parser *p)
{
	while (p->pos < p->len)
	{
		char		c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		TD_CHECK_FOR_INTERRUPTS();
		p->pos++;
	}
}

/* A fresh node of the given type. */
static td_json *
new_node(parser *p, td_json_type type)
{
	td_json    *v = td_arena_alloc(p->arena, sizeof(td_json));

	v->type = type;
	return v;
}

/* Match a literal keyword (true, false, null). */
static td_json *
parse_keyword(parser *p, const char *word, td_json_type type)
{
	size_t		n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return fail(p, "invalid token");
	p->pos += n;
	return new_node(p, type);
}

/* Count consecutive digits at the current position. */
static size_t
skip_digits(parser *p)
{
	size_t		start = p->pos;

	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9' && TD_CHECK_FOR_INTERRUPTS_EXPR())
		p->pos++;
	return p->pos - start;
}

/* number = [ "-" ] int [ frac ] [ exp ] */
static td_json *
parse_number(parser *p)
{
	size_t		start = p->pos;
	td_json    *v;
	char	   *copy;

	if (p->s[p->pos] == '-')
		p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '0')
		p->pos++;
	else if (skip_digits(p) == 0)
		return fail(p, "invalid number");
	if (p->pos < p->len && p->s[p->pos] == '.')
	{
		p->pos++;
		if (skip_digits(p) == 0)
			return fail(p, "invalid number");
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E'))
	{
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (skip_digits(p) == 0)
			return fail(p, "invalid number");
	}
	v = new_node(p, TD_JSON_NUMBER);
	copy = td_arena_strndup(p->arena, p->s + start, p->pos - start);
	v->str = copy;
	v->len = p->pos - start;
	v->num = strtod(copy, NULL);
	return v;
}

/* Four hex digits of a \u escape, or -1. */
static long
parse_hex4(parser *p)
{
	long		value = 0;

	if (p->len - p->pos < 4)
		return -1;
	for (int i = 0; i < 4; i++)
	{
		char		c = p->s[p->pos + i];

		value <<= 4;
		if (c >= '0' && c <= '9')
			value |= c - '0';
		else if (c >= 'a' && c <= 'f')
			value |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			value |= c - 'A' + 10;
		else
			return -1;
	}
	p->pos += 4;
	return value;
}

/* Decode a \uXXXX escape (and its low surrogate) into out. */
static bool
parse_unicode_escape(parser *p, td_buf *out)
{
	long		cp = parse_hex4(p);
	char		utf8[4];

	if (cp < 0)
		return fail(p, "invalid \\u escape"), false;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail(p, "lone low surrogate in \\u escape"), false;
	if (cp >= 0xD800 && cp <= 0xDBFF)
	{
		long		lo;

		if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
			return fail(p, "high surrogate not followed by a low surrogate"), false;
		p->pos += 2;
		lo = parse_hex4(p);
		if (lo < 0xDC00 || lo > 0xDFFF)
			return fail(p, "high surrogate not followed by a low surrogate"), false;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	if (cp == 0)
		return fail(p, "\\u0000 cannot be converted to text"), false;
	td_buf_append(out, utf8, td_utf8_encode((unsigned int) cp, utf8));
	return true;
}

/*
 * Length of the run of string characters at p->pos that are copied as they
 * are (valid UTF-8, no quote, backslash or control character), so that a
 * string is copied a run at a time rather than a character at a time; 0
 * when the character there is not valid UTF-8.  A run stops after 64 kB
 * (the caller's loop checks for interrupts between runs).
 */
static size_t
plain_run(const parser *p)
{
	const unsigned char *u = (const unsigned char *) p->s;
	size_t		end = p->pos;
	size_t		limit = p->len - p->pos > 65536 ? p->pos + 65536 : p->len;

	while (end < limit)
	{
		unsigned char c = u[end];
		size_t		n;

		if (c == '"' || c == '\\' || c < 0x20)
			break;
		if (c < 0x80)
		{
			end++;
			continue;
		}
		n = td_utf8_seq_len(u + end, p->len - end);
		if (n == 0)
			break;
		end += n;
	}
	return end - p->pos;
}

/* Decode a string literal (the opening quote is current) into arena text. */
static bool
parse_string_text(parser *p, const char **text, size_t *text_len)
{
	td_buf		out;
	const unsigned char *u = (const unsigned char *) p->s;

	p->pos++;					/* opening quote */
	td_buf_init(&out);
	while (p->pos < p->len)
	{
		unsigned char c = u[p->pos];

		TD_CHECK_FOR_INTERRUPTS();
		if (c == '"')
		{
			p->pos++;
			*text = td_arena_strndup(p->arena, out.data, out.len);
			*text_len = out.len;
			td_buf_free(&out);
			return true;
		}
		if (c == '\\')
		{
			char		e;

			if (++p->pos >= p->len)
				break;
			e = p->s[p->pos++];
			switch (e)
			{
				case '"':
				case '\\':
				case '/':
					td_buf_putc(&out, e);
					break;
				case 'b':
					td_buf_putc(&out, '\b');
					break;
				case 'f':
					td_buf_putc(&out, '\f');
					break;
				case 'n':
					td_buf_putc(&out, '\n');
					break;
				case 'r':
					td_buf_putc(&out, '\r');
					break;
				case 't':
					td_buf_putc(&out, '\t');
					break;
				case 'u':
					if (!parse_unicode_escape(p, &out))
					{
						td_buf_free(&out);
						return false;
					}
					break;
				default:
					p->pos--;
					td_buf_free(&out);
					return fail(p, "invalid escape sequence"), false;
			}
			continue;
		}
		if (c < 0x20)
		{
			td_buf_free(&out);
			return fail(p, "control character in string"), false;
		}
		{
			size_t		run = plain_run(p);

			if (run == 0)
			{
				td_buf_free(&out);
				return fail(p, "invalid UTF-8"), false;
			}
			td_buf_append(&out, p->s + p->pos, run);
			p->pos += run;
		}
	}
	td_buf_free(&out);
	return fail(p, "unterminated string"), false;
}

/* A string value. */
static td_json *
parse_string(parser *p)
{
	td_json    *v = new_node(p, TD_JSON_STRING);

	if (!parse_string_text(p, &v->str, &v->len))
		return NULL;
	return v;
}

/* Growable pointer list used while an array or object is read. */
typedef struct ptr_list
{
	void	  **items;
	size_t		count;
	size_t		cap;
} ptr_list;

/* Append to a pointer list. */
static void
ptr_list_push(ptr_list *l, void *item)
{
	if (l->count == l->cap)
	{
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = td_realloc(l->items, l->cap * sizeof(void *));
	}
	l->items[l->count++] = item;
}

/* array = "[" [ value *( "," value ) ] "]" */
static td_json *
parse_array(parser *p)
{
	td_json    *v = new_node(p, TD_JSON_ARRAY);
	ptr_list	list = {0};

	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']')
		p->pos++;
	else
	{
		for (;;)
		{
			td_json    *item;

			TD_CHECK_FOR_INTERRUPTS();
			item = parse_value(p);

			if (item == NULL)
			{
				td_free(list.items);
				return NULL;
			}
			ptr_list_push(&list, item);
			skip_ws(p);
			if (p->pos < p->len && p->s[p->pos] == ',')
			{
				p->pos++;
				continue;
			}
			if (p->pos < p->len && p->s[p->pos] == ']')
			{
				p->pos++;
				break;
			}
			td_free(list.items);
			return fail(p, "expected \",\" or \"]\" in array");
		}
	}
	v->count = list.count;
	v->items = td_arena_alloc(p->arena, list.count * sizeof(td_json *));
	if (list.count)
		memcpy(v->items, list.items, list.count * sizeof(td_json *));
	td_free(list.items);
	return v;
}

/* One "key": value member into list (as an arena member). */
static bool
parse_member(parser *p, ptr_list *list)
{
	td_json_member *m = td_arena_alloc(p->arena, sizeof(td_json_member));

	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != '"')
		return fail(p, "expected a member name"), false;
	if (!parse_string_text(p, &m->key, &m->key_len))
		return false;
	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != ':')
		return fail(p, "expected \":\" after a member name"), false;
	p->pos++;
	if ((m->value = parse_value(p)) == NULL)
		return false;
	ptr_list_push(list, m);
	return true;
}

/* object = "{" [ member *( "," member ) ] "}" */
static td_json *
parse_object(parser *p)
{
	td_json    *v = new_node(p, TD_JSON_OBJECT);
	ptr_list	list = {0};

	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}')
		p->pos++;
	else
	{
		for (;;)
		{
			TD_CHECK_FOR_INTERRUPTS();
			if (!parse_member(p, &list))
			{
				td_free(list.items);
				return NULL;
			}
			skip_ws(p);
			if (p->pos < p->len && p->s[p->pos] == ',')
			{
				p->pos++;
				continue;
			}
			if (p->pos < p->len && p->s[p->pos] == '}')
			{
				p->pos++;
				break;
			}
			td_free(list.items);
			return fail(p, "expected \",\" or \"}\" in object");
		}
	}
	v->count = list.count;
	v->members = td_arena_alloc(p->arena, list.count * sizeof(td_json_member));
	for (size_t i = 0; i < list.count; i++)
	{
		TD_CHECK_FOR_INTERRUPTS();
		v->members[i] = *(td_json_member *) list.items[i];
	}
	td_free(list.items);
	return v;
}

/* Any value, with the depth limit on containers. */
static td_json *
parse_value(parser *p)
{
	td_json    *v;

	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, "unexpected end of input");
	switch (p->s[p->pos])
	{
		case '{':
		case '[':
			if (++p->depth > TD_JSON_MAX_DEPTH)
				return fail(p, "nesting too deep");
			v = p->s[p->pos] == '{' ? parse_object(p) : parse_array(p);
			p->depth--;
			return v;
		case '"':
			return parse_string(p);
		case 't':
			return parse_keyword(p, "true", TD_JSON_TRUE);
		case 'f':
			return parse_keyword(p, "false", TD_JSON_FALSE);
		case 'n':
			return parse_keyword(p, "null", TD_JSON_NULL);
		default:
			if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
				return parse_number(p);
			return fail(p, "invalid token");
	}
}

/* Parse one value at the start of s; *consumed is the bytes it spans. */
td_json *
td_json_parse_prefix(td_arena *arena, const char *s, size_t len,
					 size_t *consumed, td_json_error *err)
{
	parser		p = {arena, s, len, 0, 0, err};
	td_json    *v;

	err->message = NULL;
	err->offset = 0;
	v = parse_value(&p);
	*consumed = p.pos;
	return v;
}

/* Parse s[0..len) as exactly one JSON value with optional whitespace around. */
td_json *
td_json_parse(td_arena *arena, const char *s, size_t len, td_json_error *err)
{
	parser		p = {arena, s, len, 0, 0, err};
	td_json    *v;

	err->message = NULL;
	err->offset = 0;
	v = parse_value(&p);
	if (v == NULL)
		return NULL;
	skip_ws(&p);
	if (p.pos != len)
		return fail(&p, "unexpected text after the JSON value");
	return v;
}

/* Member by key, the last of duplicates; NULL when absent or not an object. */
td_json *
td_json_get(const td_json *obj, const char *key)
{
	size_t		key_len;

	if (obj == NULL || obj->type != TD_JSON_OBJECT)
		return NULL;
	key_len = strlen(key);
	for (size_t i = obj->count; i-- > 0;)
	{
		const td_json_member *m = &obj->members[i];

		TD_CHECK_FOR_INTERRUPTS();
		if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
			return m->value;
	}
	return NULL;
}

/* Order of member pointers: by key, then by position (ties keep input order). */
static int
member_ptr_cmp(const void *a, const void *b)
{
	const td_json_member *x = *(const td_json_member *const *) a;
	const td_json_member *y = *(const td_json_member *const *) b;
	int			c = td_bytes_cmp(x->key, x->key_len, y->key, y->key_len);

	TD_CHECK_FOR_INTERRUPTS();
	return c != 0 ? c : (x > y) - (x < y);
}

/* See td_json.h. */
void
td_json_index_build(td_arena *arena, const td_json *obj, td_json_index *ix)
{
	size_t		n = (obj != NULL && obj->type == TD_JSON_OBJECT) ? obj->count : 0;

	ix->members = td_arena_alloc(arena, n * sizeof(td_json_member *));
	ix->count = 0;
	for (size_t i = 0; i < n; i++)
		ix->members[i] = &obj->members[i];
	if (n > 1)
		td_sort(ix->members, n, sizeof(td_json_member *), member_ptr_cmp);
	for (size_t i = 0; i < n; i++)	/* keep the last of equal keys */
	{
		const td_json_member *m = ix->members[i];

		TD_CHECK_FOR_INTERRUPTS();
		if (i + 1 < n && td_bytes_cmp(m->key, m->key_len, ix->members[i + 1]->key, ix->members[i + 1]->key_len) == 0)
			continue;
		ix->members[ix->count++] = m;
	}
}

/* See td_json.h. */
const td_json_member *
td_json_index_find(const td_json_index *ix, const char *key, size_t key_len)
{
	size_t		lo = 0,
				hi = ix->count;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		const td_json_member *m = ix->members[mid];
		int			c = td_bytes_cmp(key, key_len, m->key, m->key_len);

		if (c == 0)
			return m;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* See td_json.h. */
const td_json *
td_json_merge(td_arena *arena, const td_json *base, const td_json *patch)
{
	td_json    *out;
	td_json_index bix,
				pix;
	size_t		n = 0;

	if (patch == NULL)
		return base;
	if (base == NULL || base->type != TD_JSON_OBJECT || patch->type != TD_JSON_OBJECT)
		return patch;
	td_json_index_build(arena, base, &bix);
	td_json_index_build(arena, patch, &pix);
	out = td_arena_alloc(arena, sizeof(td_json));
	out->type = TD_JSON_OBJECT;
	out->members = td_arena_alloc(arena, (bix.count + pix.count) * sizeof(td_json_member));
	for (size_t i = 0; i < base->count; i++)	/* base keys, merged with patch */
	{
		const td_json_member *m = &base->members[i];
		const td_json_member *pm;

		TD_CHECK_FOR_INTERRUPTS();
		if (td_json_index_find(&bix, m->key, m->key_len) != m)
			continue;			/* a duplicate: the last one counts */
		out->members[n] = *m;
		if ((pm = td_json_index_find(&pix, m->key, m->key_len)) != NULL)
			out->members[n].value = (td_json *) td_json_merge(arena, m->value, pm->value);
		n++;
	}
	for (size_t i = 0; i < patch->count; i++)	/* keys only patch has */
	{
		const td_json_member *m = &patch->members[i];

		TD_CHECK_FOR_INTERRUPTS();
		if (td_json_index_find(&pix, m->key, m->key_len) == m &&
			td_json_index_find(&bix, m->key, m->key_len) == NULL)
			out->members[n++] = *m;
	}
	out->count = n;
	return out;
}

/* True when v is a string equal to s. */
bool
td_json_string_is(const td_json *v, const char *s)
{
	size_t		n = strlen(s);

	return v != NULL && v->type == TD_JSON_STRING && v->len == n &&
		memcmp(v->str, s, n) == 0;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * The high bit of each byte of w below n (n <= 128).  The lowest marked byte
 * is exact; above it a borrow may mark bytes that are not below n.
 */
#define BELOW(w, n) (((w) - ONES * (n)) & ~(w) & HIGHS)

/* Does byte c need escaping in a JSON string? */
#define NEEDS_ESCAPE(c) ((unsigned char) (c) < 0x20 || (c) == '"' || (c) == '\\')

/*
 * The offset of the first of the 8 bytes of w (in memory order) that needs
 * escaping in a JSON string (a control character, '"' or a backslash), or 8
 * when none does.
 */
static size_t
escape_offset8(uint64_t w)
{
	uint64_t	marks = BELOW(w, 0x20) | BELOW(w ^ (ONES * '"'), 1) | BELOW(w ^ (ONES * '\\'), 1);

	if (marks == 0)
		return 8;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
	return (size_t) __builtin_ctzll(marks) >> 3;	/* the lowest mark is the first byte */
#else
	{
		char		bytes[8];

		memcpy(bytes, &w, 8);
		for (size_t k = 0; k < 8; k++)
			if (NEEDS_ESCAPE(bytes[k]))
				return k;
		return 8;
	}
#endif
}

/* The escapes of the bytes that need one, by byte. */
static const struct
{
	char		text[7];
	unsigned char len;
}			escapes[0x5D] = {
	{"\\u0000", 6}, {"\\u0001", 6}, {"\\u0002", 6}, {"\\u0003", 6},
	{"\\u0004", 6}, {"\\u0005", 6}, {"\\u0006", 6}, {"\\u0007", 6},
	{"\\b", 2}, {"\\t", 2}, {"\\n", 2}, {"\\u000b", 6},
	{"\\f", 2}, {"\\r", 2}, {"\\u000e", 6}, {"\\u000f", 6},
	{"\\u0010", 6}, {"\\u0011", 6}, {"\\u0012", 6}, {"\\u0013", 6},
	{"\\u0014", 6}, {"\\u0015", 6}, {"\\u0016", 6}, {"\\u0017", 6},
	{"\\u0018", 6}, {"\\u0019", 6}, {"\\u001a", 6}, {"\\u001b", 6},
	{"\\u001c", 6}, {"\\u001d", 6}, {"\\u001e", 6}, {"\\u001f", 6},
	['"'] = {"\\\"", 2}, ['\\'] = {"\\\\", 2},
};

/* Write the escape of byte c (one that needs it) at dst; returns its end. */
static inline char *
put_escape(char *dst, unsigned char c)
{
	memcpy(dst, escapes[c].text, 6);
	return dst + escapes[c].len;
}

#ifdef __SSE2__
/*
 * The offset of the first of the 16 bytes at s that needs escaping in a
 * JSON string, or 16 when none does.
 */
static inline size_t
escape_offset16(const char *s)
{
	__m128i		v = _mm_loadu_si128((const __m128i *) s);
	__m128i		control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
	__m128i		quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
	__m128i		backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
	unsigned	marks = (unsigned) _mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(quote, backslash)));

	return marks == 0 ? 16 : (size_t) __builtin_ctz(marks);
}
#endif

/*
 * Write the n bytes at s to dst as the inside of a JSON string (quote,
 * backslash and control characters escaped); dst has room for 6 * n bytes.
 * Returns the end of what was written.  Sixteen (SSE2) or eight bytes at a
 * time are copied whole, then the output moves on past the clean ones only:
 * the room for the rest of the input always covers the bytes stored.
 */
static char *
escape_into(char *dst, const char *s, size_t n)
{
	size_t		i = 0;

#ifdef __SSE2__
	while (i + 16 <= n)
	{
		size_t		k;

		_mm_storeu_si128((__m128i *) dst, _mm_loadu_si128((const __m128i *) (s + i)));
		k = escape_offset16(s + i);
		dst += k;
		i += k;
		if (k < 16)
			dst = put_escape(dst, (unsigned char) s[i++]);
	}
#endif
	while (i + 8 <= n)
	{
		uint64_t	w;
		size_t		k;

		memcpy(&w, s + i, 8);
		memcpy(dst, &w, 8);
		k = escape_offset8(w);
		dst += k;
		i += k;
		if (k < 8)
			dst = put_escape(dst, (unsigned char) s[i++]);
	}
	for (; i < n; i++)
	{
		if (NEEDS_ESCAPE(s[i]))
			dst = put_escape(dst, (unsigned char) s[i]);
		else
			*dst++ = s[i];
	}
	return dst;
}


/*
 * Append s as a JSON string: escape quote, backslash and control characters.
 * The buffer is grown once per chunk of input, never per character.
 */
void
td_json_write_string(td_buf *buf, const char *s, size_t len)
{
	td_buf_reserve(buf, 2);
	buf->data[buf->len++] = '"';
	for (size_t done = 0; done < len;)
	{
		size_t		n = len - done < TD_JSON_ESCAPE_CHUNK ? len - done : TD_JSON_ESCAPE_CHUNK;

		TD_CHECK_FOR_INTERRUPTS();
		td_buf_reserve(buf, 6 * n + 1);
		buf->len = (size_t) (escape_into(buf->data + buf->len, s + done, n) - buf->data);
		done += n;
	}
	buf->data[buf->len++] = '"';
	buf->data[buf->len] = '\0';
}

/* Append ,"key": (no comma before the first member). */
void
td_json_write_key(td_buf *buf, const char *key, bool first)
{
	if (!first)
		td_buf_putc(buf, ',');
	td_json_write_string(buf, key, strlen(key));
	td_buf_putc(buf, ':');
}

/* Append v as compact JSON. */
void
td_json_write(td_buf *buf, const td_json *v)
{
	switch (v->type)
	{
		case TD_JSON_NULL:
			td_buf_puts(buf, "null");
			break;
		case TD_JSON_FALSE:
			td_buf_puts(buf, "false");
			break;
		case TD_JSON_TRUE:
			td_buf_puts(buf, "true");
			break;
		case TD_JSON_NUMBER:
			td_buf_append(buf, v->str, v->len);
			break;
		case TD_JSON_STRING:
			td_json_write_string(buf, v->str, v->len);
			break;
		case TD_JSON_ARRAY:
			td_buf_putc(buf, '[');
			for (size_t i = 0; i < v->count; i++)
			{
				TD_CHECK_FOR_INTERRUPTS();
				if (i)
					td_buf_putc(buf, ',');
				td_json_write(buf, v->items[i]);
			}
			td_buf_putc(buf, ']');
			break;
		case TD_JSON_OBJECT:
			td_buf_putc(buf, '{');
			for (size_t i = 0; i < v->count; i++)
			{
				TD_CHECK_FOR_INTERRUPTS();
				if (i)
					td_buf_putc(buf, ',');
				td_json_write_string(buf, v->members[i].key, v->members[i].key_len);
				td_buf_putc(buf, ':');
				td_json_write(buf, v->members[i].value);
			}
			td_buf_putc(buf, '}');
			break;
	}
}
