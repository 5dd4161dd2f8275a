/*
 * render.c — prompt template rendering (pure C core of render_template).
 *
 * One pass finds the placeholders (linear: the position of the next "}" is
 * remembered between candidate starts), a second substitutes them, a third
 * looks for placeholders left in the output.  Parameter lookups go through
 * a sorted index, so the cost is linear in the template size whatever the
 * number of parameters.  See render.h for the grammar and the rules.
 */
#include "render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_text.h"
#include "td_utf8.h"

typedef enum var_type
{
	VAR_TEXT,
	VAR_NUMBER,
	VAR_DROPDOWN
} var_type;

static const char *const var_type_names[] = {"text", "number", "dropdown"};

/* One declared variable. */
typedef struct variable
{
	const char *name;
	size_t		name_len;
	var_type	type;
	const td_json *default_value;	/* non-empty string, or NULL */
	const td_json *options;		/* dropdown: array of strings */
} variable;

/* A parameter of the effective set (given, or filled from a default). */
typedef struct param
{
	const char *key;
	size_t		key_len;
	const td_json *value;
	td_json_index *members;		/* an object value's index, built on first use */
} param;

typedef enum ph_kind
{
	PH_SIMPLE,
	PH_PATH,
	PH_TERNARY,
	PH_UNSAFE
} ph_kind;

/* One placeholder found in a text. */
typedef struct placeholder
{
	size_t		start;			/* "{{" */
	size_t		end;			/* just past "}}" */
	ph_kind		kind;
	const char *name;
	size_t		name_len;
	const char *member;			/* PH_PATH */
	size_t		member_len;
	const char *yes;			/* PH_TERNARY */
	size_t		yes_len;
	const char *no;
	size_t		no_len;
} placeholder;

/* Scanner over a text; remembers the next "}" to stay linear. */
typedef struct scanner
{
	const char *s;
	size_t		len;
	size_t		pos;
	size_t		close;			/* first '}' at or after close_from, or len */
	size_t		close_from;
	bool		close_valid;
} scanner;

/* Everything one render works with. */
typedef struct render_ctx
{
	td_arena	arena;
	variable   *vars;
	size_t		nvars;
	const variable **by_name;	/* the variables sorted by name */
	param	   *params;			/* sorted by key, unique */
	size_t		nparams;
	bool		html_escape;
	td_buf		errors;			/* JSON array body */
	size_t		nerrors;
	td_buf		missing;
	size_t		nmissing;
	td_buf		warnings;
	size_t		nwarnings;
	size_t		nunresolved;	/* the template's placeholders left as text */
	const char *unresolved[20];	/* the first REPORTED_MAX (20) distinct ones, in the template */
	size_t		unresolved_len[20];
} render_ctx;

/* --- small helpers ------------------------------------------------------ */

/* First character of an identifier: [A-Za-z_]. */
static bool
is_ident_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

/* Later character of an identifier: [A-Za-z0-9_]. */
static bool
is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/*
 * A dropdown's options a message lists at most (the rest counted): a
 * dropdown may have thousands.
 */
#define OPTIONS_LISTED 10

/*
 * Start a message "parameter "<name>" " about a variable, its name clipped
 * (a template's variables are another user's to name, at any length: the
 * message goes into errors the caller sees).
 */
static void
param_msg(td_buf *msg, const variable *var, const char *rest)
{
	td_buf_init(msg);
	td_buf_puts(msg, "parameter \"");
	td_buf_put_clipped(msg, var->name, var->name_len);
	td_buf_puts(msg, "\" ");
	td_buf_puts(msg, rest);
}

/* Append a JSON array element separator when needed. */
static void
list_sep(td_buf *list, size_t *count)
{
	if ((*count)++ > 0)
		td_buf_putc(list, ',');
}

/* See render.h. */
const char *
td_html_entity(char c)
{
	switch (c)
	{
		case '&':
			return "&amp;";
		case '<':
			return "&lt;";
		case '>':
			return "&gt;";
		case '"':
			return "&quot;";
		case '\'':
			return "&#x27;";
		case '/':
			return "&#x2F;";
		default:
			return NULL;
	}
}

/*
 * Append text, HTML-escaped when asked.  Past the limit of a rendered
 * template only the first bytes are appended, enough to pass it (the
 * rendering then fails with TD_RENDER_TOO_LONG), so that one long value
 * never grows the output far beyond the limit first.
 */
static void
append_value_text(td_buf *out, const char *s, size_t len, bool html)
{
	size_t		run = 0,
				room = out->len <= TD_RENDER_MAX_BYTES ? TD_RENDER_MAX_BYTES + 1 - out->len : 0;

	if (len > room)
		len = room;
	if (!html)
	{
		td_buf_append(out, s, len);
		return;
	}
	for (size_t i = 0; i < len; i++)
	{
		const char *entity = td_html_entity(s[i]);

		TD_CHECK_FOR_INTERRUPTS();
		if (entity == NULL)
			continue;
		td_buf_append(out, s + run, i - run);
		td_buf_puts(out, entity);
		run = i + 1;
	}
	td_buf_append(out, s + run, len - run);
}

/*
 * Text of a value as substituted: strings raw, numbers as written, booleans
 * as true/false, arrays and objects as JSON.  False for null.
 */
static bool
value_text(const td_json *v, td_buf *out)
{
	switch (v->type)
	{
		case TD_JSON_NULL:
			return false;
		case TD_JSON_STRING:
			td_buf_append(out, v->str, v->len);
			return true;
		default:
			if (v->type == TD_JSON_NUMBER)
				td_buf_append(out, v->str, v->len);
			else if (v->type == TD_JSON_TRUE || v->type == TD_JSON_FALSE)
				td_buf_puts(out, v->type == TD_JSON_TRUE ? "true" : "false");
			else
				td_json_write(out, v);
			return true;
	}
}

/* A value that counts as not given: absent, null or the empty string. */
static bool
is_missing(const td_json *v)
{
	return v == NULL || v->type == TD_JSON_NULL ||
		(v->type == TD_JSON_STRING && v->len == 0);
}

/* JavaScript truthiness. */
static bool
is_truthy(const td_json *v)
{
	if (v == NULL)
		return false;
	switch (v->type)
	{
		case TD_JSON_NULL:
		case TD_JSON_FALSE:
			return false;
		case TD_JSON_NUMBER:
			return v->num != 0 && !isnan(v->num);
		case TD_JSON_STRING:
			return v->len > 0;
		default:
			return true;
	}
}

/* --- placeholders ------------------------------------------------------- */

/* Read an identifier at s[*i..end); false if there is none. */
static bool
read_ident(const char *s, size_t end, size_t *i, const char **name, size_t *len)
{
	size_t		start = *i;

	if (*i >= end || !is_ident_start(s[*i]))
		return false;
	while (*i < end && is_ident_char(s[*i]) && TD_CHECK_FOR_INTERRUPTS_EXPR())
		(*i)++;
	*name = s + start;
	*len = *i - start;
	return true;
}

/* Skip whitespace in s[*i..end). */
static void
skip_spaces(const char *s, size_t end, size_t *i)
{
	while (*i < end && td_is_space(s[*i]) && TD_CHECK_FOR_INTERRUPTS_EXPR())
		(*i)++;
}

/* Read a single-quoted literal without embedded quotes. */
static bool
read_literal(const char *s, size_t end, size_t *i, const char **text, size_t *len)
{
	size_t		start;

	if (*i >= end || s[*i] != '\'')
		return false;
	start = ++(*i);
	while (*i < end && s[*i] != '\'' && TD_CHECK_FOR_INTERRUPTS_EXPR())
		(*i)++;
	if (*i >= end)
		return false;
	*text = s + start;
	*len = *i - start;
	(*i)++;
	return true;
}

/* Classify the content s[b..e) of a placeholder. */
static void
classify(const char *s, size_t b, size_t e, placeholder *ph)
{
	size_t		i;

	td_trim(s, &b, &e);
	i = b;
	ph->kind = PH_UNSAFE;
	if (!read_ident(s, e, &i, &ph->name, &ph->name_len))
		return;
	if (i == e)
	{
		ph->kind = PH_SIMPLE;
		return;
	}
	if (s[i] == '.')
	{
		i++;
		if (read_ident(s, e, &i, &ph->member, &ph->member_len) && i == e)
			ph->kind = PH_PATH;
		return;
	}
	skip_spaces(s, e, &i);
	if (i >= e || s[i] != '?')
		return;
	i++;
	skip_spaces(s, e, &i);
	if (!read_literal(s, e, &i, &ph->yes, &ph->yes_len))
		return;
	skip_spaces(s, e, &i);
	if (i >= e || s[i] != ':')
		return;
	i++;
	skip_spaces(s, e, &i);
	if (!read_literal(s, e, &i, &ph->no, &ph->no_len))
		return;
	if (i == e)
		ph->kind = PH_TERNARY;
}

/* Start scanning s[0..len). */
static void
scanner_init(scanner *sc, const char *s, size_t len)
{
	sc->s = s;
	sc->len = len;
	sc->pos = 0;
	sc->close_valid = false;
}

/* Position of the first '}' at or after from (cached across calls). */
static size_t
next_close(scanner *sc, size_t from)
{
	if (!sc->close_valid || from < sc->close_from || from > sc->close)
	{
		const char *p = from < sc->len ? memchr(sc->s + from, '}', sc->len - from) : NULL;

		sc->close = p ? (size_t) (p - sc->s) : sc->len;
		sc->close_from = from;
		sc->close_valid = true;
	}
	return sc->close;
}

/* Find the next placeholder; false at the end of the text. */
static bool
scanner_next(scanner *sc, placeholder *ph)
{
	const char *s = sc->s;

	while (sc->pos + 1 < sc->len)
	{
		const char *p = memchr(s + sc->pos, '{', sc->len - sc->pos - 1);
		size_t		i,
					j;

		TD_CHECK_FOR_INTERRUPTS();
		if (p == NULL)
			break;
		i = (size_t) (p - s);
		if (s[i + 1] != '{')
		{
			sc->pos = i + 1;
			continue;
		}
		j = next_close(sc, i + 2);
		if (j > i + 2 && j + 1 < sc->len && s[j + 1] == '}')
		{
			memset(ph, 0, sizeof(*ph));
			ph->start = i;
			ph->end = j + 2;
			classify(s, i + 2, j, ph);
			sc->pos = j + 2;
			return true;
		}
		sc->pos = i + 1;
	}
	sc->pos = sc->len;
	return false;
}

/* --- variables and parameters ------------------------------------------- */

/* Fail with message "<before>N<after>", N the 1-based position of a variable. */
static bool
numbered_error(td_render_error *err, size_t index, const char *after, const char *detail)
{
	td_buf_puts(&err->message, "variable ");
	td_buf_put_long(&err->message, (long long) index + 1);
	return td_error_set(err, TD_RENDER_BAD_ARGUMENT, after, detail);
}

/* Fail with message "<before>"<name>"<after>", the name clipped. */
static bool
named_error(td_render_error *err, const char *before, const td_json *name,
			const char *after, const char *detail)
{
	td_buf_puts(&err->message, before);
	td_buf_putc(&err->message, '"');
	td_buf_put_clipped(&err->message, name->str, name->len);
	td_buf_putc(&err->message, '"');
	return td_error_set(err, TD_RENDER_BAD_ARGUMENT, after, detail);
}

/* Order of variable pointers by name. */
static int
variable_cmp(const void *a, const void *b)
{
	const variable *x = *(const variable *const *) a;
	const variable *y = *(const variable *const *) b;

	TD_CHECK_FOR_INTERRUPTS();
	return td_bytes_cmp(x->name, x->name_len, y->name, y->name_len);
}

/* The declared variable named key[0..len), or NULL (binary search). */
static const variable *
variable_find(const render_ctx *ctx, const char *key, size_t len)
{
	variable	probe = {key, len, VAR_TEXT, NULL, NULL};
	const variable *p = &probe;
	const variable **found = ctx->nvars ? bsearch(&p, ctx->by_name, ctx->nvars, sizeof(variable *), variable_cmp) : NULL;

	return found ? *found : NULL;
}

/* A variable's name and position, for finding repeated names. */
typedef struct named
{
	const char *name;
	size_t		len;
	size_t		pos;
} named;

/* Order of names, then of positions. */
static int
named_cmp(const void *a, const void *b)
{
	const named *x = a,
			   *y = b;
	int			c = td_bytes_cmp(x->name, x->len, y->name, y->len);

	TD_CHECK_FOR_INTERRUPTS();
	return c != 0 ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/*
 * Position of the first element of variables whose string "name" repeats
 * that of an earlier one, or variables->count when none does (by sorting).
 */
static size_t
first_repeated_name(td_arena *arena, const td_json *variables)
{
	size_t		n = 0,
				first = variables->count;
	named	   *names = td_arena_alloc(arena, variables->count * sizeof(named));

	for (size_t i = 0; i < variables->count; i++)
	{
		const td_json *name = td_json_get(variables->items[i], "name");

		if (name != NULL && name->type == TD_JSON_STRING && name->len > 0)
			names[n++] = (named) {name->str, name->len, i};
	}
	if (n > 1)
		td_sort(names, n, sizeof(named), named_cmp);
	for (size_t i = 1; i < n; i++)	/* a later one of equal names repeats */
		if (td_bytes_cmp(names[i].name, names[i].len, names[i - 1].name, names[i - 1].len) == 0 &&
			names[i].pos < first)
			first = names[i].pos;
	return first;
}

/* Index the loaded variables by name. */
static void
index_variables(render_ctx *ctx)
{
	ctx->by_name = td_arena_alloc(&ctx->arena, ctx->nvars * sizeof(variable *));
	for (size_t k = 0; k < ctx->nvars; k++)
		ctx->by_name[k] = &ctx->vars[k];
	if (ctx->nvars > 1)
		td_sort(ctx->by_name, ctx->nvars, sizeof(variable *), variable_cmp);
}

/* Parse the variables array into ctx->vars. */
static bool
load_variables(render_ctx *ctx, const td_json *variables, td_render_error *err)
{
	size_t		repeated;

	if (variables == NULL || variables->type == TD_JSON_NULL)
		return true;
	if (variables->type != TD_JSON_ARRAY)
		return td_error_set(err, TD_RENDER_BAD_ARGUMENT, "variables must be a JSON array",
							"Each element is an object {name, type, defaultValue, options, helpText}.");
	ctx->vars = td_arena_alloc(&ctx->arena, variables->count * sizeof(variable));
	repeated = first_repeated_name(&ctx->arena, variables);
	for (size_t i = 0; i < variables->count; i++)
	{
		const td_json *v = variables->items[i];
		const td_json *name = td_json_get(v, "name");
		const td_json *type = td_json_get(v, "type");
		const td_json *def = td_json_get(v, "defaultValue");
		variable   *var = &ctx->vars[ctx->nvars];
		int			t;

		if (v->type != TD_JSON_OBJECT)
			return numbered_error(err, i, " is not a JSON object", NULL);
		if (name == NULL || name->type != TD_JSON_STRING || name->len == 0)
			return numbered_error(err, i, " has no name", "Give each variable a non-empty string \"name\".");
		var->name = name->str;
		var->name_len = name->len;
		if (i == repeated)
			return named_error(err, "variable ", name, " is declared twice", NULL);
		for (t = 0; t < 3; t++)
			if (td_json_string_is(type, var_type_names[t]))
				break;
		if (t == 3)
			return named_error(err, "variable ", name, " has no valid type",
							   "The type must be \"text\", \"number\" or \"dropdown\".");
		var->type = (var_type) t;
		if (def != NULL && (def->type == TD_JSON_ARRAY || def->type == TD_JSON_OBJECT))
			return named_error(err, "variable ", name, " has a defaultValue that is not a scalar", NULL);
		var->default_value = is_missing(def) ? NULL : def;
		if (var->type == VAR_DROPDOWN)
		{
			const td_json *opts = td_json_get(v, "options");
			bool		ok = opts != NULL && opts->type == TD_JSON_ARRAY && opts->count > 0;

			for (size_t k = 0; ok && k < opts->count; k++)
				ok = opts->items[k]->type == TD_JSON_STRING;
			if (!ok)
				return named_error(err, "dropdown variable ", name, " has no options",
								   "A dropdown needs \"options\": a non-empty array of strings.");
			var->options = opts;
		}
		ctx->nvars++;
	}
	index_variables(ctx);
	return true;
}

/* Order of parameters by key (keys are unique). */
static int
param_cmp(const void *a, const void *b)
{
	const param *x = a,
			   *y = b;

	TD_CHECK_FOR_INTERRUPTS();
	return td_bytes_cmp(x->key, x->key_len, y->key, y->key_len);
}

/* Binary search of the first n effective parameters. */
static param *
param_find_in(render_ctx *ctx, size_t n, const char *key, size_t len)
{
	param		probe = {key, len, NULL, NULL};

	return n ? bsearch(&probe, ctx->params, n, sizeof(param), param_cmp) : NULL;
}

/* Binary search of the effective parameters. */
static param *
param_find(render_ctx *ctx, const char *key, size_t len)
{
	return param_find_in(ctx, ctx->nparams, key, len);
}

/*
 * Member of a parameter's object value (the last of duplicate keys), or
 * NULL; the first lookup indexes the object, so that many placeholders
 * naming members cost O(log n) each.
 */
static const td_json *
param_member(render_ctx *ctx, param *p, const char *key, size_t len)
{
	const td_json_member *m;

	if (p == NULL || p->value->type != TD_JSON_OBJECT)
		return NULL;
	if (p->members == NULL)
	{
		p->members = td_arena_alloc(&ctx->arena, sizeof(td_json_index));
		td_json_index_build(&ctx->arena, p->value, p->members);
	}
	m = td_json_index_find(p->members, key, len);
	return m ? m->value : NULL;
}

/* The effective value of a parameter, or NULL. */
static const td_json *
param_value(render_ctx *ctx, const char *key, size_t len)
{
	param	   *p = param_find(ctx, key, len);

	return p ? p->value : NULL;
}

/* Build the sorted, de-duplicated parameter set with defaults applied. */
static bool
load_parameters(render_ctx *ctx, const td_json *parameters, td_render_error *err)
{
	td_json_index given;
	size_t		added = 0;

	if (parameters != NULL && parameters->type != TD_JSON_NULL &&
		parameters->type != TD_JSON_OBJECT)
		return td_error_set(err, TD_RENDER_BAD_ARGUMENT, "parameters must be a JSON object", NULL);
	td_json_index_build(&ctx->arena, parameters, &given);	/* sorted, last of equal keys */
	ctx->params = td_arena_alloc(&ctx->arena, (given.count + ctx->nvars) * sizeof(param));
	for (size_t i = 0; i < given.count; i++)
		ctx->params[i] = (param) {given.members[i]->key, given.members[i]->key_len, given.members[i]->value, NULL};
	ctx->nparams = given.count;

	/* defaults for declared variables that were not given */
	for (size_t k = 0; k < ctx->nvars; k++)
	{
		variable   *var = &ctx->vars[k];
		param	   *p;

		if (var->default_value == NULL)
			continue;
		p = param_find(ctx, var->name, var->name_len);
		if (p != NULL && !is_missing(p->value))
			continue;
		if (p != NULL)
			p->value = var->default_value;
		else					/* appended past the sorted ones: sorted once below */
			ctx->params[ctx->nparams + added++] = (param) {var->name, var->name_len, var->default_value, NULL};
	}
	ctx->nparams += added;
	if (added > 0)
		td_sort(ctx->params, ctx->nparams, sizeof(param), param_cmp);
	return true;
}

/* --- validation --------------------------------------------------------- */

/* Record a validation error about a parameter. */
static void
add_error(render_ctx *ctx, const variable *var, const char *message, const td_json *value)
{
	td_buf	   *b = &ctx->errors;

	list_sep(b, &ctx->nerrors);
	td_buf_putc(b, '{');
	td_json_write_key(b, "parameter", true);
	td_json_write_string(b, var->name, var->name_len);
	td_json_write_key(b, "message", false);
	td_json_write_string(b, message, strlen(message));
	td_json_write_key(b, "expected_type", false);
	td_buf_puts(b, "\"");
	td_buf_puts(b, var_type_names[var->type]);
	td_buf_puts(b, "\"");
	td_json_write_key(b, "actual_value", false);
	if (value)
		td_json_write(b, value);
	else
		td_buf_puts(b, "null");
	td_buf_putc(b, '}');
}

/* Record a warning. */
static void
add_warning(render_ctx *ctx, const char *text, size_t len)
{
	list_sep(&ctx->warnings, &ctx->nwarnings);
	td_json_write_string(&ctx->warnings, text, len);
}

/*
 * JavaScript Number() of a string, restricted to decimal notation and
 * [+-]Infinity: *out is the value; false means NaN.
 */
static bool
string_to_number(const char *s, size_t len, double *out)
{
	char		buf[512];
	size_t		b = 0,
				e = len,
				i;
	bool		digits = false;

	td_trim(s, &b, &e);
	if (e - b >= sizeof(buf))
		return false;
	memcpy(buf, s + b, e - b);
	buf[e - b] = '\0';
	i = (buf[0] == '+' || buf[0] == '-') ? 1 : 0;
	if (strcmp(buf + i, "Infinity") == 0)
	{
		*out = buf[0] == '-' ? -INFINITY : INFINITY;
		return true;
	}
	for (; buf[i] >= '0' && buf[i] <= '9'; i++)
		digits = true;
	if (buf[i] == '.')
		for (i++; buf[i] >= '0' && buf[i] <= '9'; i++)
			digits = true;
	if (!digits)
		return false;
	if (buf[i] == 'e' || buf[i] == 'E')
	{
		bool		exp_digits = false;

		i++;
		if (buf[i] == '+' || buf[i] == '-')
			i++;
		for (; buf[i] >= '0' && buf[i] <= '9'; i++)
			exp_digits = true;
		if (!exp_digits)
			return false;
	}
	if (buf[i] != '\0')
		return false;
	*out = strtod(buf, NULL);
	return true;
}

/*
 * The problems of a value of each type, for a parameter or a default: false
 * when it passes, else true with *msg started (param_msg) and *show set when
 * the value goes into the error entry.
 */

/* A text value: a scalar of at most 10,000 characters. */
static bool
text_problem(const variable *var, const td_json *value, td_buf *msg, bool *show)
{
	*show = true;
	if (value->type == TD_JSON_ARRAY || value->type == TD_JSON_OBJECT)
		param_msg(msg, var, "must be text");
	/* a number is substituted as its literal: counted as text too (100,000
	 * digits passed the limit a string of them met) */
	else if ((value->type == TD_JSON_STRING || value->type == TD_JSON_NUMBER)
			 && td_utf8_count(value->str, value->len) > TD_TEXT_MAX_CHARS)
	{
		param_msg(msg, var, "is longer than 10000 characters");
		*show = false;
	}
	else
		return false;
	return true;
}

/* A number value: a JSON number or a numeric string, finite, within 1e15. */
static bool
number_problem(const variable *var, const td_json *value, td_buf *msg, bool *show)
{
	double		x = 0;
	bool		ok;

	*show = true;
	if (value->type == TD_JSON_NUMBER)
	{
		x = value->num;
		ok = true;
	}
	else if (value->type == TD_JSON_STRING)
		ok = string_to_number(value->str, value->len, &x);
	else
		ok = false;

	if (!ok)
		param_msg(msg, var, "must be a number");
	else if (!isfinite(x))
		param_msg(msg, var, "must be a finite number");
	else if (fabs(x) > TD_NUMBER_MAX_ABS)
		param_msg(msg, var, "must be between -1e15 and 1e15");
	else
		return false;
	return true;
}

/* A dropdown value: a scalar whose text is one of the options. */
static bool
dropdown_problem(const variable *var, const td_json *value, td_buf *msg, bool *show)
{
	td_buf		text;
	bool		found = false;

	*show = true;
	td_buf_init(&text);
	if (value->type != TD_JSON_ARRAY && value->type != TD_JSON_OBJECT)
	{
		value_text(value, &text);
		for (size_t i = 0; i < var->options->count && !found; i++)
		{
			const td_json *o = var->options->items[i];

			found = o->len == text.len && memcmp(o->str, text.data, text.len) == 0;
		}
	}
	td_buf_free(&text);
	if (found)
		return false;
	param_msg(msg, var, "must be one of: ");
	for (size_t i = 0; i < var->options->count && i < OPTIONS_LISTED; i++)
	{
		if (i)
			td_buf_puts(msg, ", ");
		td_buf_put_clipped(msg, var->options->items[i]->str, var->options->items[i]->len);
	}
	if (var->options->count > OPTIONS_LISTED)
	{
		char		more[40];

		snprintf(more, sizeof(more), " and %zu more", var->options->count - OPTIONS_LISTED);
		td_buf_puts(msg, more);
	}
	return true;
}

/* The problem of a value given to (or defaulted for) var, by its type. */
static bool
value_problem(const variable *var, const td_json *value, td_buf *msg, bool *show)
{
	if (var->type == VAR_TEXT)
		return text_problem(var, value, msg, show);
	if (var->type == VAR_NUMBER)
		return number_problem(var, value, msg, show);
	return dropdown_problem(var, value, msg, show);
}

/* Validate every declared variable against the effective parameters. */
static void
validate(render_ctx *ctx)
{
	for (size_t k = 0; k < ctx->nvars; k++)
	{
		const variable *var = &ctx->vars[k];
		const td_json *value = param_value(ctx, var->name, var->name_len);

		if (is_missing(value))
		{
			td_buf		msg;

			param_msg(&msg, var, "is required but was not provided");
			add_error(ctx, var, msg.data, NULL);
			td_buf_free(&msg);
			list_sep(&ctx->missing, &ctx->nmissing);
			td_json_write_string(&ctx->missing, var->name, var->name_len);
		}
		else
		{
			td_buf		msg;
			bool		show;

			if (value_problem(var, value, &msg, &show))
			{
				add_error(ctx, var, msg.data, show ? value : NULL);
				td_buf_free(&msg);
			}
		}
	}
}

/*
 * Problems of one kind reported one by one at most (the rest counted in one
 * more entry): a template or parameters of many small problems must not
 * make a result many times their size.
 */
#define REPORTED_MAX 20

/* The entry that counts the problems of one kind past REPORTED_MAX: "<n> more <what>". */
static void
count_more(td_buf *msg, size_t n, const char *what)
{
	char		digits[24];

	snprintf(digits, sizeof(digits), "%zu", n);
	td_buf_init(msg);
	td_buf_puts(msg, digits);
	td_buf_puts(msg, " more ");
	td_buf_puts(msg, what);
}

/* Warn about parameters no variable declares. */
static void
warn_undeclared(render_ctx *ctx)
{
	size_t		n = 0;

	for (size_t i = 0; i < ctx->nparams; i++)
	{
		const param *p = &ctx->params[i];
		td_buf		msg;

		if (variable_find(ctx, p->key, p->key_len) != NULL)
			continue;
		if (n++ >= REPORTED_MAX)
			continue;
		td_buf_init(&msg);
		td_buf_puts(&msg, "parameter \"");
		td_buf_append(&msg, p->key, p->key_len);
		td_buf_puts(&msg, "\" is not declared by the template");
		add_warning(ctx, msg.data, msg.len);
		td_buf_free(&msg);
	}
	if (n > REPORTED_MAX)
	{
		td_buf		msg;

		count_more(&msg, n - REPORTED_MAX, "parameters are not declared by the template");
		add_warning(ctx, msg.data, msg.len);
		td_buf_free(&msg);
	}
}

/* --- substitution ------------------------------------------------------- */

/*
 * Note a placeholder of the template left as text: each distinct one once,
 * the first 20 listed (past them, repeats may count as more).
 */
static void
note_unresolved(render_ctx *ctx, const char *text, size_t len)
{
	size_t		listed = ctx->nunresolved < REPORTED_MAX ? ctx->nunresolved : REPORTED_MAX;

	for (size_t i = 0; i < listed; i++)
		if (ctx->unresolved_len[i] == len && memcmp(ctx->unresolved[i], text, len) == 0)
			return;
	if (ctx->nunresolved++ < REPORTED_MAX)
	{
		ctx->unresolved[listed] = text;
		ctx->unresolved_len[listed] = len;
	}
}

/* Append the replacement of one placeholder (or the placeholder itself). */
static void
substitute(render_ctx *ctx, const char *tmpl, const placeholder *ph, td_buf *out)
{
	param	   *p = param_find(ctx, ph->name, ph->name_len);
	const td_json *v = p ? p->value : NULL;
	td_buf		text;

	if (ph->kind == PH_TERNARY)
	{
		if (is_truthy(v))
			append_value_text(out, ph->yes, ph->yes_len, ctx->html_escape);
		else
			append_value_text(out, ph->no, ph->no_len, ctx->html_escape);
		return;
	}
	if (ph->kind == PH_PATH)
		v = param_member(ctx, p, ph->member, ph->member_len);
	td_buf_init(&text);
	if (v != NULL && value_text(v, &text))
		append_value_text(out, text.data, text.len, ctx->html_escape);
	else
	{
		td_buf_append(out, tmpl + ph->start, ph->end - ph->start);
		note_unresolved(ctx, tmpl + ph->start, ph->end - ph->start);
	}
	td_buf_free(&text);
}

/*
 * Warn, once, about the template's placeholders left as text (noted by
 * substitute()): those of the template only, not text of the values that
 * looks like one (a value quoting "{{name}}" is data; scanning the output
 * refused such an item for good, as values are not rendered again).
 */
static void
warn_unresolved(render_ctx *ctx)
{
	td_buf		msg;

	if (ctx->nunresolved == 0)
		return;
	td_buf_init(&msg);
	td_buf_puts(&msg, "unresolved placeholders: ");
	for (size_t i = 0; i < ctx->nunresolved && i < REPORTED_MAX; i++)
	{
		if (i > 0)
			td_buf_puts(&msg, ", ");
		td_buf_append(&msg, ctx->unresolved[i], ctx->unresolved_len[i]);
	}
	if (ctx->nunresolved > REPORTED_MAX)
		td_buf_puts(&msg, ", ...");
	add_warning(ctx, msg.data, msg.len);
	td_buf_free(&msg);
}

/* --- result ------------------------------------------------------------- */

/* Append the effective parameters as a JSON object. */
static void
write_parameters(render_ctx *ctx, td_buf *out)
{
	td_buf_putc(out, '{');
	for (size_t i = 0; i < ctx->nparams; i++)
	{
		if (i)
			td_buf_putc(out, ',');
		td_json_write_string(out, ctx->params[i].key, ctx->params[i].key_len);
		td_buf_putc(out, ':');
		td_json_write(out, ctx->params[i].value);
	}
	td_buf_putc(out, '}');
}

/* Append the result object; resolved may be NULL (JSON null). */
static void
write_result(render_ctx *ctx, const td_buf *resolved, td_buf *out)
{
	td_buf_putc(out, '{');
	td_json_write_key(out, "resolved", true);
	if (resolved)
		td_json_write_string(out, resolved->data, resolved->len);
	else
		td_buf_puts(out, "null");
	td_json_write_key(out, "parameters", false);
	write_parameters(ctx, out);
	td_json_write_key(out, "missing_required", false);
	td_buf_putc(out, '[');
	td_buf_append(out, ctx->missing.data, ctx->missing.len);
	td_buf_putc(out, ']');
	td_json_write_key(out, "errors", false);
	td_buf_putc(out, '[');
	td_buf_append(out, ctx->errors.data, ctx->errors.len);
	td_buf_putc(out, ']');
	td_json_write_key(out, "warnings", false);
	td_buf_putc(out, '[');
	td_buf_append(out, ctx->warnings.data, ctx->warnings.len);
	td_buf_putc(out, ']');
	td_json_write_key(out, "success", false);
	td_buf_puts(out, resolved ? "true" : "false");
	td_buf_putc(out, '}');
}

/* Record an error of the template itself. */
static void
template_error(render_ctx *ctx, const td_buf *msg)
{
	list_sep(&ctx->errors, &ctx->nerrors);
	td_buf_puts(&ctx->errors, "{\"parameter\":\"_template\",\"message\":");
	td_json_write_string(&ctx->errors, msg->data, msg->len);
	td_buf_puts(&ctx->errors, ",\"expected_type\":null,\"actual_value\":null}");
}

/* Record an error for each unsafe placeholder (the first REPORTED_MAX, then a count); true if there was any. */
static bool
check_unsafe(render_ctx *ctx, const char *tmpl, size_t len)
{
	scanner		sc;
	placeholder ph;
	size_t		n = 0;
	td_buf		msg;

	scanner_init(&sc, tmpl, len);
	while (scanner_next(&sc, &ph))
	{
		if (ph.kind != PH_UNSAFE || n++ >= REPORTED_MAX)
			continue;
		td_buf_init(&msg);
		td_buf_puts(&msg, "template contains an unsafe expression: ");
		td_buf_put_clipped(&msg, tmpl + ph.start, ph.end - ph.start);	/* (of any length: 100 MB was copied whole) */
		template_error(ctx, &msg);
		td_buf_free(&msg);
	}
	if (n > REPORTED_MAX)
	{
		count_more(&msg, n - REPORTED_MAX, "unsafe expressions in the template");
		template_error(ctx, &msg);
		td_buf_free(&msg);
	}
	return n > 0;
}

/* Set up a context. */
static void
ctx_init(render_ctx *ctx, bool html_escape)
{
	memset(ctx, 0, sizeof(*ctx));
	td_arena_init(&ctx->arena);
	ctx->html_escape = html_escape;
	td_buf_init(&ctx->errors);
	td_buf_init(&ctx->missing);
	td_buf_init(&ctx->warnings);
}

/* Release a context. */
static void
ctx_free(render_ctx *ctx)
{
	td_buf_free(&ctx->errors);
	td_buf_free(&ctx->missing);
	td_buf_free(&ctx->warnings);
	td_arena_free(&ctx->arena);
}

/* See render.h. */
bool
td_render(const char *tmpl, size_t len, const td_json *parameters,
		  const td_json *variables, bool html_escape,
		  td_buf *out, td_render_error *err)
{
	render_ctx	ctx;
	td_buf		resolved;
	scanner		sc;
	placeholder ph;
	size_t		copied = 0;
	bool		ok;

	ctx_init(&ctx, html_escape);
	td_error_init(err);
	if (!load_variables(&ctx, variables, err) || !load_parameters(&ctx, parameters, err))
	{
		ctx_free(&ctx);
		return false;
	}
	if (check_unsafe(&ctx, tmpl, len))
	{
		write_result(&ctx, NULL, out);
		ctx_free(&ctx);
		return true;
	}
	validate(&ctx);
	warn_undeclared(&ctx);
	if (ctx.nerrors > 0)
	{
		write_result(&ctx, NULL, out);
		ctx_free(&ctx);
		return true;
	}

	td_buf_init(&resolved);
	scanner_init(&sc, tmpl, len);
	while (resolved.len <= TD_RENDER_MAX_BYTES && scanner_next(&sc, &ph))
	{
		td_buf_append(&resolved, tmpl + copied, ph.start - copied);
		substitute(&ctx, tmpl, &ph, &resolved);
		copied = ph.end;
	}
	if (resolved.len <= TD_RENDER_MAX_BYTES)
		td_buf_append(&resolved, tmpl + copied, len - copied);
	ok = resolved.len <= TD_RENDER_MAX_BYTES;
	if (ok)
	{
		warn_unresolved(&ctx);
		write_result(&ctx, &resolved, out);
	}
	else
		td_error_set(err, TD_RENDER_TOO_LONG, "rendered template exceeds the limit of " TD_RENDER_MAX_TEXT,
					 "A template that repeats a long parameter many times expands past this limit.");
	td_buf_free(&resolved);
	ctx_free(&ctx);
	return ok;
}

/*
 * Every declared default passes its variable's own check: a default the
 * check refuses (a dropdown default outside its options, a number default
 * that is not one) would fail every render leaving the variable out, so the
 * template is refused when stored instead.
 */
static bool
check_defaults(render_ctx *ctx, td_render_error *err)
{
	for (size_t k = 0; k < ctx->nvars; k++)
	{
		const variable *var = &ctx->vars[k];
		td_buf		msg;
		bool		show;

		if (var->default_value == NULL || !value_problem(var, var->default_value, &msg, &show))
			continue;
		td_buf_puts(&err->message, "variable \"");
		td_buf_put_clipped(&err->message, var->name, var->name_len);
		td_buf_puts(&err->detail, "Every render that leaves it out would fail: ");
		td_buf_puts(&err->detail, msg.data);
		td_buf_putc(&err->detail, '.');
		td_buf_free(&msg);
		return td_error_set(err, TD_RENDER_BAD_ARGUMENT, "\" has a defaultValue its type refuses", NULL);
	}
	return true;
}

/* See render.h. */
bool
td_render_check_template(const char *tmpl, size_t len, const td_json *variables,
						 td_render_error *err)
{
	render_ctx	ctx;
	scanner		sc;
	placeholder ph;
	bool		ok = true;

	ctx_init(&ctx, false);
	td_error_init(err);
	if (!load_variables(&ctx, variables, err) || !check_defaults(&ctx, err))
		ok = false;
	scanner_init(&sc, tmpl, len);
	while (ok && scanner_next(&sc, &ph))
	{
		if (ph.kind == PH_UNSAFE)
		{
			td_buf_puts(&err->message, "template contains an unsafe expression: ");
			td_buf_put_clipped(&err->message, tmpl + ph.start, ph.end - ph.start);
			ok = td_error_set(err, TD_RENDER_BAD_ARGUMENT, "",
							  "Placeholders are {{name}}, {{name.member}} or {{name ? 'yes' : 'no'}}.");
		}
	}
	ctx_free(&ctx);
	return ok;
}
