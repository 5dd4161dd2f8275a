/*
 * render.h — prompt template rendering (pure C core of render_template).
 *
 * Grammar: a placeholder is "{{" one or more characters other than "}" "}}";
 * its trimmed content must be one of
 *     name                     a parameter
 *     name.member              a member of an object parameter
 *     name ? 'yes' : 'no'      a literal chosen by the parameter's truthiness
 * with name = [A-Za-z_][A-Za-z0-9_]*.  Any other content is an unsafe
 * expression and fails the whole render.
 *
 * Variables (a JSON array of {name, type, defaultValue, options, helpText})
 * declare typed parameters: text (non-empty, at most 10,000 characters),
 * number (finite, |x| <= 1e15), dropdown (one of options).  A variable
 * without a non-empty defaultValue is required.
 */
#ifndef TD_RENDER_H
#define TD_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "td_json.h"
#include "td_mem.h"
#include "td_text.h"

#define TD_TEXT_MAX_CHARS 10000
#define TD_NUMBER_MAX_ABS 1e15

/*
 * Longest rendered text, in bytes: 4 MB, far more than any model's context
 * window holds, and small enough that a template repeating a large
 * parameter fails before it uses much memory.
 */
#define TD_RENDER_MAX_BYTES ((size_t) 4 * 1024 * 1024)
#define TD_RENDER_MAX_TEXT "4 MB"

/* Why a render failed (the status of a td_render_error). */
typedef enum td_render_status
{
	TD_RENDER_OK,
	TD_RENDER_BAD_ARGUMENT,		/* variables or parameters malformed, unsafe template */
	TD_RENDER_TOO_LONG,			/* the rendered text would pass TD_RENDER_MAX_BYTES */
} td_render_status;

/*
 * A structural problem with the arguments (not with a parameter value);
 * status is a td_render_status.  The caller frees it with td_error_free.
 */
typedef td_error td_render_error;

/*
 * Render template[0..len) with parameters (an object, or NULL for none) and
 * variables (an array, or NULL for none).  On success appends the result
 * object {resolved, parameters, missing_required, errors, warnings, success}
 * to out and returns true; returns false with err filled when variables or
 * parameters are malformed, or when the rendered text would be longer than
 * TD_RENDER_MAX_BYTES (stopping as soon as it is).
 */
extern bool td_render(const char *tmpl, size_t len, const td_json *parameters,
					  const td_json *variables, bool html_escape,
					  td_buf *out, td_render_error *err);

/*
 * The HTML entity that stands for c (& < > " ' /, the characters escaped
 * in values when html_escape is asked for), or NULL when c stands for
 * itself.  Every other byte, of any server encoding, is left as it is.
 */
extern const char *td_html_entity(char c);

/*
 * Check a template for storage: its variables are well-formed, each default
 * passes its variable's own check, and it has no
 * unsafe expression.  Returns false with err filled otherwise.
 */
extern bool td_render_check_template(const char *tmpl, size_t len,
									 const td_json *variables, td_render_error *err);

#endif							/* TD_RENDER_H */
