/*
 * validate_glue.c — validate_training_line(): the OpenAI-style checks of
 * core/validate.c on one line of a training file.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "json_glue.h"
#include "validate.h"

PG_FUNCTION_INFO_V1(train_data_validate_training_line);

/*
 * validate_training_line(line text) returns text[] — the names of the checks
 * the line fails, in the cookbook's order; empty for a good example.
 */
Datum
train_data_validate_training_line(PG_FUNCTION_ARGS)
{
	size_t		len;
	char	   *line = td_text_to_utf8(PG_GETARG_TEXT_PP(0), &len);
	unsigned	errors = td_validate_line(line, len);
	Datum		names[TD_LINE_ERROR_COUNT];
	int			n = 0;

	for (int i = 0; i < TD_LINE_ERROR_COUNT; i++)
		if (errors & (1u << i))
			names[n++] = CStringGetTextDatum(td_line_error_name(i));
	PG_RETURN_ARRAYTYPE_P(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
}
