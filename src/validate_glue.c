/*
 * validate_glue.c — validate_training_line() and training_line_warnings():
 * the OpenAI-style checks and warnings of core/validate.c on one line of a
 * training file.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "json_glue.h"
#include "validate.h"

PG_FUNCTION_INFO_V1(train_data_validate_training_line);
PG_FUNCTION_INFO_V1(train_data_training_line_warnings);

/*
 * validate_training_line(line text) returns text[] — the names of the checks
 * the line fails, in the cookbook's order; empty for a good example.
 */
Datum
train_data_validate_training_line(PG_FUNCTION_ARGS)
{
	size_t		len;
	char	   *line = td_text_to_utf8(PG_GETARG_TEXT_PP(0), &len);
	unsigned	errors = td_validate_line(line, len, NULL);
	Datum		names[TD_LINE_ERROR_COUNT];
	int			n = 0;

	for (int i = 0; i < TD_LINE_ERROR_COUNT; i++)
		if (errors & (1u << i))
			names[n++] = CStringGetTextDatum(td_line_error_name(i));
	PG_RETURN_ARRAYTYPE_P(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * training_line_warnings(line text, token_limit integer) returns text[] —
 * what the cookbook warns of in a line with messages, in its order:
 * missing_system_message, missing_user_message, over_token_limit (more
 * estimated tokens than token_limit); empty for a line without messages,
 * which its errors cover.
 */
Datum
train_data_training_line_warnings(PG_FUNCTION_ARGS)
{
	int32		token_limit = PG_GETARG_INT32(1);
	size_t		len;
	char	   *line;
	td_line_facts facts;
	Datum		names[3];
	int			n = 0;

	if (token_limit < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("token limit must be at least 1, not %d", token_limit),
				 errhint("Give the longest example, in tokens, that the model is trained on.")));
	line = td_text_to_utf8(PG_GETARG_TEXT_PP(0), &len);
	(void) td_validate_line(line, len, &facts);
	if (facts.messages)
	{
		if (!facts.system)
			names[n++] = CStringGetTextDatum("missing_system_message");
		if (!facts.user)
			names[n++] = CStringGetTextDatum("missing_user_message");
		if (facts.tokens > token_limit)
			names[n++] = CStringGetTextDatum("over_token_limit");
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
}
