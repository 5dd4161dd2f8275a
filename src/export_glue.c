/*
 * export_glue.c — export_jsonl(): training-file lines streamed one per call.
 *
 * The first call checks the arguments and opens a cursor over the
 * conversations in scope (ordered by created_at, id); every call fetches the
 * next conversation, reads its turns in turn order through the
 * (conversation_id, turn_number) index and returns its line, written by the
 * pure core in core/export.c.  Memory stays flat whatever the export size:
 * each call's work is freed with its SPI connection.  Both queries run as
 * the caller, so row-level security decides what is exported.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "export.h"

PG_FUNCTION_INFO_V1(td_export_jsonl_sql);

/* The conversations of the export, before the scope's condition. */
static const char *const conversations_select =
"SELECT c.id, c.conversation_id, c.title, c.tier::text, c.quality_score::text,"
" pg_catalog.to_char(pg_catalog.timezone('UTC', c.created_at), 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
" pg_catalog.to_char(pg_catalog.timezone('UTC', c.updated_at), 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
" c.review_history::text, c.parent_id::text, c.parent_type, c.persona, c.emotion, c.topic"
" FROM train_data.conversations c WHERE ";

/* Scope "selected": $1 the ids. */
static const char *const selected_condition = "c.id OPERATOR(pg_catalog.=) ANY ($1)";

/* Scope "all": the approved conversations (an ordered scan of their index). */
static const char *const all_condition = "c.status OPERATOR(pg_catalog.=) 'approved'";

/* Scope "filtered": $1 the FilterConfig; an absent key filters nothing. */
static const char *const filtered_condition =
"(NOT $1 OPERATOR(pg_catalog.?) 'tier' OR c.tier::text OPERATOR(pg_catalog.=) ANY"
"   (ARRAY(SELECT pg_catalog.jsonb_array_elements_text($1 OPERATOR(pg_catalog.->) 'tier'))))"
" AND (NOT $1 OPERATOR(pg_catalog.?) 'status' OR c.status::text OPERATOR(pg_catalog.=) ANY"
"   (ARRAY(SELECT pg_catalog.jsonb_array_elements_text($1 OPERATOR(pg_catalog.->) 'status'))))"
" AND (NOT $1 OPERATOR(pg_catalog.?) 'qualityScoreMin' OR c.quality_score OPERATOR(pg_catalog.>=)"
"   ($1 OPERATOR(pg_catalog.->>) 'qualityScoreMin')::numeric)"
" AND (NOT $1 OPERATOR(pg_catalog.?) 'qualityScoreMax' OR c.quality_score OPERATOR(pg_catalog.<=)"
"   ($1 OPERATOR(pg_catalog.->>) 'qualityScoreMax')::numeric)"
" AND (NOT $1 OPERATOR(pg_catalog.?) 'dateFrom' OR c.created_at OPERATOR(pg_catalog.>=)"
"   ($1 OPERATOR(pg_catalog.->>) 'dateFrom')::timestamptz)"
" AND (NOT $1 OPERATOR(pg_catalog.?) 'dateTo' OR c.created_at OPERATOR(pg_catalog.<=)"
"   ($1 OPERATOR(pg_catalog.->>) 'dateTo')::timestamptz)"
" AND (NOT $1 OPERATOR(pg_catalog.?) 'categories' OR c.category OPERATOR(pg_catalog.&&)"
"   ARRAY(SELECT pg_catalog.jsonb_array_elements_text($1 OPERATOR(pg_catalog.->) 'categories')))"
" AND (NOT $1 OPERATOR(pg_catalog.?) 'searchQuery'"
"   OR pg_catalog.strpos(pg_catalog.lower(c.title), pg_catalog.lower($1 OPERATOR(pg_catalog.->>) 'searchQuery')) > 0"
"   OR pg_catalog.strpos(pg_catalog.lower(c.topic), pg_catalog.lower($1 OPERATOR(pg_catalog.->>) 'searchQuery')) > 0)";

/* The deterministic order of every export. */
static const char *const conversations_order = " ORDER BY c.created_at, c.id";

/* The turns of one conversation, in order. */
static const char *const turns_query =
"SELECT t.role, t.content FROM train_data.conversation_turns t"
" WHERE t.conversation_id OPERATOR(pg_catalog.=) $1 ORDER BY t.turn_number";

/* What the calls share. */
typedef struct export_state
{
	td_export_options options;
	char	   *portal_name;
} export_state;

/* A jsonb member of options, or NULL. */
static JsonbValue *
option(Jsonb *options, const char *key)
{
	return getKeyJsonValueFromContainer(&options->root, key, strlen(key), NULL);
}

/* A boolean option; the default when absent. */
static bool
bool_option(Jsonb *options, const char *key, bool dflt, int *found)
{
	JsonbValue *v = option(options, key);

	if (v == NULL)
		return dflt;
	(*found)++;
	if (v->type != jbvBool)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("export option \"%s\" must be a boolean", key)));
	return v->val.boolean;
}

/* The shape argument. */
static td_export_shape
parse_shape(text *arg)
{
	char	   *shape = text_to_cstring(arg);

	if (strcmp(shape, "original") == 0)
		return TD_SHAPE_ORIGINAL;
	if (strcmp(shape, "openai") == 0)
		return TD_SHAPE_OPENAI;
	if (strcmp(shape, "sharegpt") == 0)
		return TD_SHAPE_SHAREGPT;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown export shape \"%s\"", shape),
			 errhint("The shapes are original, openai and sharegpt.")));
	return TD_SHAPE_ORIGINAL;	/* not reached */
}

/*
 * The options object: the include flags of ExportConfig, systemMessage and
 * lastTurnOnly (openai), and ExportConfig's other keys, which are accepted
 * and ignored here.  Unknown keys are an error.
 */
static td_export_options
parse_options(Jsonb *options, td_export_shape shape)
{
	static const char *const ignored[] = {"scope", "format", "includeFullContent", NULL};
	td_export_options o = td_export_defaults();
	int			found = 0;
	JsonbValue *v;

	o.shape = shape;
	if (!JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("export options must be a JSON object")));
	o.include_metadata = bool_option(options, "includeMetadata", true, &found);
	o.include_quality_scores = bool_option(options, "includeQualityScores", true, &found);
	o.include_timestamps = bool_option(options, "includeTimestamps", true, &found);
	o.include_approval_history = bool_option(options, "includeApprovalHistory", false, &found);
	o.include_parent_references = bool_option(options, "includeParentReferences", false, &found);
	o.last_turn_only = bool_option(options, "lastTurnOnly", false, &found);
	if ((v = option(options, "systemMessage")) != NULL)
	{
		found++;
		if (v->type != jbvString && v->type != jbvNull)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("export option \"systemMessage\" must be a string")));
		if (v->type == jbvString)
		{
			o.system_message.s = pnstrdup(v->val.string.val, v->val.string.len);
			o.system_message.len = (size_t) v->val.string.len;
		}
	}
	for (int i = 0; ignored[i]; i++)
		found += option(options, ignored[i]) != NULL;
	if (found != (int) JB_ROOT_COUNT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown key in export options %s", JsonbToCString(NULL, &options->root, VARSIZE(options))),
				 errhint("The options are includeMetadata, includeQualityScores, includeTimestamps, "
						 "includeApprovalHistory, includeParentReferences, systemMessage and lastTurnOnly.")));
	if ((o.system_message.s != NULL || o.last_turn_only) && shape != TD_SHAPE_OPENAI)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("export options systemMessage and lastTurnOnly need the openai shape")));
	return o;
}

/*
 * Check a FilterConfig: tier, status and categories arrays of strings,
 * qualityScoreMin / qualityScoreMax numbers, dateFrom / dateTo and
 * searchQuery strings; nothing else.
 */
static void
check_filters(Jsonb *filters)
{
	static const struct
	{
		const char *key;
		enum jbvType type;
	}			keys[] = {
		{"tier", jbvArray}, {"status", jbvArray}, {"categories", jbvArray},
		{"qualityScoreMin", jbvNumeric}, {"qualityScoreMax", jbvNumeric},
		{"dateFrom", jbvString}, {"dateTo", jbvString}, {"searchQuery", jbvString},
	};
	int			found = 0;

	if (!JB_ROOT_IS_OBJECT(filters))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("export filters must be a JSON object")));
	for (size_t i = 0; i < lengthof(keys); i++)
	{
		JsonbValue *v = option(filters, keys[i].key);
		bool		fits;

		if (v == NULL)
			continue;
		found++;
		fits = keys[i].type == jbvArray
			? v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data)
			: v->type == keys[i].type;
		for (uint32 k = 0; fits && keys[i].type == jbvArray && k < JsonContainerSize(v->val.binary.data); k++)
			fits = getIthJsonbValueFromContainer(v->val.binary.data, k)->type == jbvString;
		if (!fits)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("export filter \"%s\" must be %s", keys[i].key,
							keys[i].type == jbvArray ? "an array of strings" :
							keys[i].type == jbvNumeric ? "a number" : "a string")));
	}
	if (found != (int) JB_ROOT_COUNT(filters))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown key in export filters %s", JsonbToCString(NULL, &filters->root, VARSIZE(filters))),
				 errhint("The filters are tier, status, qualityScoreMin, qualityScoreMax, dateFrom, dateTo, "
						 "categories and searchQuery.")));
}

/* Check the scope against ids and filters. */
static void
check_scope(const char *scope, bool ids_null, bool filters_null)
{
	if (strcmp(scope, "selected") == 0 && ids_null)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("export scope \"selected\" needs conversation ids")));
	else if (strcmp(scope, "filtered") == 0 && filters_null)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("export scope \"filtered\" needs filters")));
	else if (strcmp(scope, "selected") != 0 && strcmp(scope, "filtered") != 0 && strcmp(scope, "all") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown export scope \"%s\"", scope),
				 errhint("The scopes are selected, filtered and all.")));
}

/* Open the cursor over the conversations in scope; returns its name. */
static const char *
open_cursor(FunctionCallInfo fcinfo, const char *scope)
{
	StringInfoData query;
	Oid			type = UUIDARRAYOID;
	Datum		value = (Datum) 0;
	int			nargs = 0;

	initStringInfo(&query);
	appendStringInfoString(&query, conversations_select);
	if (strcmp(scope, "selected") == 0)
	{
		appendStringInfoString(&query, selected_condition);
		value = PG_GETARG_DATUM(2);
		nargs = 1;
	}
	else if (strcmp(scope, "filtered") == 0)
	{
		appendStringInfoString(&query, filtered_condition);
		type = JSONBOID;
		value = PG_GETARG_DATUM(3);
		nargs = 1;
	}
	else
		appendStringInfoString(&query, all_condition);
	appendStringInfoString(&query, conversations_order);
	return SPI_cursor_open_with_args(NULL, query.data, nargs, &type, &value, NULL, true, 0)->name;
}

/* The first call: check the arguments, open the cursor. */
static void
start_export(FunctionCallInfo fcinfo, FuncCallContext *funcctx)
{
	MemoryContext old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
	export_state *st = palloc0(sizeof(export_state));
	char	   *scope;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("export shape, scope and options must not be null")));
	scope = text_to_cstring(PG_GETARG_TEXT_PP(1));
	check_scope(scope, PG_ARGISNULL(2), PG_ARGISNULL(3));
	if (strcmp(scope, "filtered") == 0)
		check_filters(PG_GETARG_JSONB_P(3));
	st->options = parse_options(PG_GETARG_JSONB_P(4), parse_shape(PG_GETARG_TEXT_PP(0)));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	st->portal_name = MemoryContextStrdup(funcctx->multi_call_memory_ctx, open_cursor(fcinfo, scope));
	SPI_finish();
	funcctx->user_fctx = st;
	MemoryContextSwitchTo(old);
}

/* Column i (1-based) of the current SPI row as text; NULL stays NULL. */
static td_text
column(int i)
{
	td_text		t = {NULL, 0};
	char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i);

	if (v != NULL)
	{
		t.s = v;
		t.len = strlen(v);
	}
	return t;
}

/* The turns of conversation id (allocated in the SPI context). */
static td_export_turn *
read_turns(Datum id, long *n)
{
	static SPIPlanPtr plan = NULL;
	td_export_turn *turns;
	bool		isnull;

	if (plan == NULL)
	{
		Oid			type = UUIDOID;
		SPIPlanPtr	p = SPI_prepare(turns_query, 1, &type);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "could not prepare the export's turns query: %s", SPI_result_code_string(SPI_result));
		plan = p;
	}
	if (SPI_execute_plan(plan, &id, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the turns of a conversation");
	*n = (long) SPI_processed;
	turns = palloc((*n ? *n : 1) * sizeof(td_export_turn));
	for (long i = 0; i < *n; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		text	   *role = DatumGetTextPP(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull));
		text	   *content = DatumGetTextPP(SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull));

		turns[i].role = (td_text) {VARDATA_ANY(role), VARSIZE_ANY_EXHDR(role)};
		turns[i].content = (td_text) {VARDATA_ANY(content), VARSIZE_ANY_EXHDR(content)};
	}
	return turns;
}

/* The line of the current conversation row, as text in the caller's context. */
static text *
conversation_line(const export_state *st)
{
	td_export_conversation c;
	td_buf		out;
	bool		isnull;
	Datum		id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	text	   *result;

	memset(&c, 0, sizeof(c));
	c.conversation_id = column(2);
	c.title = column(3);
	c.tier = column(4);
	c.quality_score = column(5);
	c.created_at = column(6);
	c.updated_at = column(7);
	c.review_history = column(8);
	c.parent_id = column(9);
	c.parent_type = column(10);
	c.persona = column(11);
	c.emotion = column(12);
	c.topic = column(13);
	c.turns = read_turns(id, &c.nturns);
	td_buf_init(&out);
	td_export_line(&c, &st->options, &out);
	result = SPI_palloc(VARHDRSZ + out.len);
	SET_VARSIZE(result, VARHDRSZ + out.len);
	memcpy(VARDATA(result), out.data, out.len);
	return result;
}

/*
 * export_jsonl(shape text, scope text, ids uuid[], filters jsonb, options
 * jsonb) returns setof text — one training-file line per conversation.
 */
Datum
td_export_jsonl_sql(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	export_state *st;
	Portal		portal;
	text	   *line = NULL;

	if (SRF_IS_FIRSTCALL())
		start_export(fcinfo, SRF_FIRSTCALL_INIT());
	funcctx = SRF_PERCALL_SETUP();
	st = funcctx->user_fctx;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = SPI_cursor_find(st->portal_name);
	if (portal == NULL)
		elog(ERROR, "export cursor \"%s\" is gone", st->portal_name);
	SPI_cursor_fetch(portal, true, 1);
	if (SPI_processed > 0)
		line = conversation_line(st);
	else
		SPI_cursor_close(portal);
	SPI_finish();
	if (line == NULL)
		SRF_RETURN_DONE(funcctx);
	SRF_RETURN_NEXT(funcctx, PointerGetDatum(line));
}
