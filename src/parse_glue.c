/*
 * parse_glue.c — SQL entry points of the response parser:
 * parse_generation_response(), and its form for the SQL of 1.0 and 1.1.
 * The parsing itself is the pure core in core/parse_response.c; this file
 * maps its outcomes to SQLSTATEs.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "json_glue.h"
#include "jsonb_doc.h"
#include "parse_response.h"

PG_FUNCTION_INFO_V1(train_data_parse_generation_response);
PG_FUNCTION_INFO_V1(train_data_parse_generation_response_1_1);

/*
 * The largest response read, in bytes of its jsonb (read from the value's
 * header, before anything is converted): 8 MB, some thirty times what a
 * model's longest answer to one request takes.  Reading one costs about
 * nine times its size (a review of inputs 1,000 times larger: 993 MB for a
 * 111 MB response of a million turns, stored whole).
 */
#define RESPONSE_MAX_BYTES ((Size) 8 * 1024 * 1024)

/* SQLSTATE of a parse failure. */
static int
parse_errcode(td_parse_status status)
{
	switch (status)
	{
		case TD_PARSE_TRUNCATED:
			return ERRCODE_STRING_DATA_RIGHT_TRUNCATION;
		case TD_PARSE_BAD_INPUT:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		default:
			return ERRCODE_INVALID_TEXT_REPRESENTATION;
	}
}

/*
 * parse_generation_response(response, parameters) of fcinfo, its tokens
 * read as 1.0 and 1.1 read them when as_1_1.
 */
static Datum
parse_call(FunctionCallInfo fcinfo, bool as_1_1)
{
	td_arena	arena;
	td_json    *response;
	td_json    *params = NULL;
	td_parse_error err;
	td_jsonb_doc out;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("response must not be null")));
	if (toast_raw_datum_size(PG_GETARG_DATUM(0)) > RESPONSE_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("response is %zu bytes; the limit is 8 MB", (size_t) toast_raw_datum_size(PG_GETARG_DATUM(0))),
				 errdetail("A model's answer to one request is far smaller; a larger response is not read.")));
	td_arena_init(&arena);
	response = td_jsonb_to_core(&arena, PG_GETARG_JSONB_P(0));
	if (!PG_ARGISNULL(1))
		params = td_jsonb_to_core(&arena, PG_GETARG_JSONB_P(1));

	/* the result built as jsonb directly: no JSON text to parse back */
	td_jsonb_doc_init(&out);
	if (!td_parse_response_doc_as(response, params, as_1_1, &out.doc, &err))
		ereport(ERROR,
				(errcode(parse_errcode(err.status)),
				 errmsg("%s", td_message_to_server(err.message.data)),
				 err.detail.len ? errdetail("%s", td_message_to_server(err.detail.data)) : 0));
	td_error_free(&err);
	td_arena_free(&arena);
	PG_RETURN_DATUM(td_jsonb_doc_finish(&out));
}

/*
 * parse_generation_response(response jsonb, parameters jsonb) returns jsonb
 */
Datum
train_data_parse_generation_response(PG_FUNCTION_ARGS)
{
	return parse_call(fcinfo, false);
}

/*
 * The same for the SQL of 1.0 and 1.1 (legacy_symbols.c), which stores
 * input_tokens as the response reports it and knows no cache counts: a
 * database not yet updated logs what it did before (a review of 1.2: a
 * 1.1 database on this library billed a million cached tokens as input).
 */
Datum
train_data_parse_generation_response_1_1(PG_FUNCTION_ARGS)
{
	return parse_call(fcinfo, true);
}
