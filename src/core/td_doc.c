/*
 * td_doc.c — the JSON text writer of td_doc.h and the shorthands.
 */
#include "td_doc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "td_json.h"

/* A comma before every member or element but the first. */
static void
separate(td_doc_text *t)
{
	if (!t->first)
		td_buf_putc(t->out, ',');
	t->first = false;
}

/* { */
static void
text_begin_object(td_doc *d)
{
	td_doc_text *t = (td_doc_text *) d;

	separate(t);
	td_buf_putc(t->out, '{');
	t->first = true;
}

/* { with its keys known: written as any object. */
static void
text_begin_object_keys(td_doc *d, const char *const *keys, size_t n)
{
	(void) keys;
	(void) n;
	text_begin_object(d);
}

/* } */
static void
text_end_object(td_doc *d)
{
	td_doc_text *t = (td_doc_text *) d;

	td_buf_putc(t->out, '}');
	t->first = false;
}

/* [ */
static void
text_begin_array(td_doc *d)
{
	td_doc_text *t = (td_doc_text *) d;

	separate(t);
	td_buf_putc(t->out, '[');
	t->first = true;
}

/* ] */
static void
text_end_array(td_doc *d)
{
	td_doc_text *t = (td_doc_text *) d;

	td_buf_putc(t->out, ']');
	t->first = false;
}

/* "key": (the value follows without a comma) */
static void
text_key(td_doc *d, const char *key, size_t len)
{
	td_doc_text *t = (td_doc_text *) d;

	separate(t);
	td_json_write_string(t->out, key, len);
	td_buf_putc(t->out, ':');
	t->first = true;
}

/* A string value. */
static void
text_string(td_doc *d, const char *s, size_t len)
{
	td_doc_text *t = (td_doc_text *) d;

	separate(t);
	td_json_write_string(t->out, s, len);
}

/* See td_doc.h. */
void
td_doc_number_text(double x, char *buf, size_t size)
{
	if (x == floor(x) && fabs(x) < 1e15)
		snprintf(buf, size, "%.0f", x);
	else
		snprintf(buf, size, "%.10g", x);
}

/* A number value. */
static void
text_number(td_doc *d, double x)
{
	td_doc_text *t = (td_doc_text *) d;
	char		buf[32];

	separate(t);
	td_doc_number_text(x, buf, sizeof(buf));
	td_buf_puts(t->out, buf);
}

/* A whole number value. */
static void
text_integer(td_doc *d, long long x)
{
	td_doc_text *t = (td_doc_text *) d;

	separate(t);
	td_buf_put_long(t->out, x);
}

/* true or false. */
static void
text_boolean(td_doc *d, bool b)
{
	td_doc_text *t = (td_doc_text *) d;

	separate(t);
	td_buf_puts(t->out, b ? "true" : "false");
}

/* null. */
static void
text_null(td_doc *d)
{
	td_doc_text *t = (td_doc_text *) d;

	separate(t);
	td_buf_puts(t->out, "null");
}

static const td_doc_ops text_ops = {
	text_begin_object, text_begin_object_keys, text_end_object, text_begin_array, text_end_array, text_key, text_string,
	text_number, text_integer, text_boolean, text_null
};

/* See td_doc.h. */
void
td_doc_text_init(td_doc_text *t, td_buf *out)
{
	t->doc.ops = &text_ops;
	t->out = out;
	t->first = true;
}
