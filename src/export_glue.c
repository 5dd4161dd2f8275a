/*
 * export_glue.c — export_jsonl(): training-file lines streamed one per call.
 *
 * The first call checks the arguments and opens one cursor: the conversations
 * in scope, in export order (created_at, id), each joined to its turns
 * through the (conversation_id, turn_number) index.  Rows are fetched a batch
 * at a time straight into a receiver of our own (no intermediate tuples),
 * which gathers each conversation's turns, sorts them by turn number and
 * queues the finished line, written by the pure core in core/export.c.
 * Memory stays flat whatever the export size: one batch of lines and one
 * conversation at a time.  The query runs as the caller, so row-level
 * security decides what is exported.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "tcop/pquery.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "export.h"

PG_FUNCTION_INFO_V1(td_export_jsonl_sql);
PG_FUNCTION_INFO_V1(td_export_conversations_sql);

/*
 * The rows of the export, one per turn (a conversation without turns gives
 * one row with NULL turn columns): conversation columns, then turn_number,
 * role, content.  The scope's condition and export_join follow.
 */
static const char *const export_select =
"SELECT c.id, c.conversation_id, c.title, c.tier, c.quality_score, c.created, c.updated,"
" c.review_history, c.parent_id, c.parent_type, c.persona, c.emotion, c.topic,"
" t.turn_number, t.role, t.content"
" FROM (SELECT c.id, c.conversation_id, c.title, c.tier::text AS tier, c.quality_score::text AS quality_score,"
"  c.created_at AS created, c.updated_at AS updated,"
"  c.review_history::text AS review_history, c.parent_id::text AS parent_id, c.parent_type, c.persona,"
"  c.emotion, c.topic, c.created_at"
"  FROM train_data.conversations c WHERE ";

/*
 * After the condition.  Only the conversations are ordered: their rows come
 * together, and the receiver puts each one's turns in turn order itself.
 */
static const char *const export_join =
") c LEFT JOIN LATERAL (SELECT t.turn_number, t.role, t.content FROM train_data.conversation_turns t"
"  WHERE t.conversation_id OPERATOR(pg_catalog.=) c.id) t ON true"
" ORDER BY c.created_at, c.id";

/* Rows fetched from the cursor at a time. */
#define EXPORT_BATCH 2000

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

/* A turn being gathered, with its number for sorting. */
typedef struct numbered_turn
{
	int32		number;
	td_export_turn turn;
} numbered_turn;

/* The arguments of an export, wherever they sit in the SQL call. */
typedef struct export_args
{
	td_export_shape shape;
	text	   *scope;
	Datum		ids;			/* uuid[], or 0 for NULL */
	Jsonb	   *filters;		/* or NULL */
	Jsonb	   *options;
	text	   *format;			/* export_conversations: log the export as this format; NULL: no log */
} export_args;

/* What the calls share. */
typedef struct export_state
{
	DestReceiver dest;			/* first: the receiver the cursor feeds */
	td_export_options options;
	char	   *portal_name;
	bool		exhausted;		/* the cursor has no more rows */
	MemoryContext lines_cxt;	/* finished lines not yet returned */
	List	   *lines;
	int			next_line;
	MemoryContext conv_cxt;		/* the conversation being gathered */
	Datum		log_id;			/* export_logs.id of a logged export, or 0 */
	int64		count;			/* lines returned */
	int64		bytes;			/* their size, one "\n" between lines */
	bool		have;
	pg_uuid_t	id;
	td_export_conversation conv;
	numbered_turn *turns;
	long		nturns;
	long		cap;
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
open_cursor(const export_args *a, const char *scope)
{
	StringInfoData query;
	Oid			type = UUIDARRAYOID;
	Datum		value = (Datum) 0;
	int			nargs = 0;

	initStringInfo(&query);
	appendStringInfoString(&query, export_select);
	if (strcmp(scope, "selected") == 0)
	{
		appendStringInfoString(&query, selected_condition);
		value = a->ids;
		nargs = 1;
	}
	else if (strcmp(scope, "filtered") == 0)
	{
		appendStringInfoString(&query, filtered_condition);
		type = JSONBOID;
		value = JsonbPGetDatum(a->filters);
		nargs = 1;
	}
	else
		appendStringInfoString(&query, all_condition);
	appendStringInfoString(&query, export_join);
	return SPI_cursor_open_with_args(NULL, query.data, nargs, &type, &value, NULL, true, 0)->name;
}

/* Text attribute i (0-based) of a slot, copied into the current context; NULL stays NULL. */
static td_text
slot_text(TupleTableSlot *slot, int i)
{
	text	   *t;
	size_t		len;
	char	   *copy;

	if (slot->tts_isnull[i])
		return (td_text) {NULL, 0};
	t = DatumGetTextPP(slot->tts_values[i]);
	len = VARSIZE_ANY_EXHDR(t);
	if ((Pointer) t != DatumGetPointer(slot->tts_values[i]))
		return (td_text) {VARDATA_ANY(t), len};	/* detoasted: a copy already */
	copy = palloc(len);
	memcpy(copy, VARDATA_ANY(t), len);
	return (td_text) {copy, len};
}

/* Append n as exactly width digits. */
static char *
put_digits(char *p, int n, int width)
{
	for (int i = width - 1; i >= 0; i--, n /= 10)
		p[i] = (char) ('0' + n % 10);
	return p + width;
}

/*
 * Timestamptz attribute i (0-based) of a slot as ISO 8601 in UTC with
 * microseconds ("2025-01-01T10:00:00.000000Z"), in the current context.
 */
static td_text
iso_timestamp(TupleTableSlot *slot, int i)
{
	TimestampTz ts;
	struct pg_tm tm;
	fsec_t		fsec;
	char	   *out,
			   *p;

	if (slot->tts_isnull[i])
		return (td_text) {NULL, 0};
	ts = DatumGetTimestampTz(slot->tts_values[i]);
	out = palloc(40);
	if (TIMESTAMP_NOT_FINITE(ts) || timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0 ||
		tm.tm_year < 1 || tm.tm_year > 9999)
	{
		char	   *text = DatumGetCString(DirectFunctionCall1(timestamptz_out, slot->tts_values[i]));

		return (td_text) {text, strlen(text)};	/* outside ISO's four-digit years */
	}
	p = put_digits(out, tm.tm_year, 4);
	*p++ = '-';
	p = put_digits(p, tm.tm_mon, 2);
	*p++ = '-';
	p = put_digits(p, tm.tm_mday, 2);
	*p++ = 'T';
	p = put_digits(p, tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_sec, 2);
	*p++ = '.';
	p = put_digits(p, fsec, 6);
	*p++ = 'Z';
	return (td_text) {out, (size_t) (p - out)};
}

/* Order turns by number. */
static int
turn_cmp(const void *a, const void *b)
{
	int32		x = ((const numbered_turn *) a)->number,
				y = ((const numbered_turn *) b)->number;

	return (x > y) - (x < y);
}

/* Queue the line of the gathered conversation, then forget it. */
static void
finish_conversation(export_state *st)
{
	MemoryContext old = MemoryContextSwitchTo(st->conv_cxt);
	td_export_turn *turns = palloc((st->nturns ? st->nturns : 1) * sizeof(td_export_turn));
	td_buf		out;
	text	   *line;

	qsort(st->turns, st->nturns, sizeof(numbered_turn), turn_cmp);
	for (long i = 0; i < st->nturns; i++)
		turns[i] = st->turns[i].turn;
	st->conv.turns = turns;
	st->conv.nturns = st->nturns;
	td_buf_init(&out);
	td_export_line(&st->conv, &st->options, &out);
	MemoryContextSwitchTo(st->lines_cxt);
	line = palloc(VARHDRSZ + out.len);
	SET_VARSIZE(line, VARHDRSZ + out.len);
	memcpy(VARDATA(line), out.data, out.len);
	st->lines = lappend(st->lines, line);
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->conv_cxt);
	st->have = false;
}

/* Start gathering the conversation of slot (in conv_cxt). */
static void
start_conversation(export_state *st, TupleTableSlot *slot)
{
	td_export_conversation *c = &st->conv;

	memcpy(&st->id, DatumGetUUIDP(slot->tts_values[0]), sizeof(pg_uuid_t));
	memset(c, 0, sizeof(*c));
	c->conversation_id = slot_text(slot, 1);
	c->title = slot_text(slot, 2);
	c->tier = slot_text(slot, 3);
	c->quality_score = slot_text(slot, 4);
	if (st->options.include_timestamps)
	{
		c->created_at = iso_timestamp(slot, 5);
		c->updated_at = iso_timestamp(slot, 6);
	}
	c->review_history = slot_text(slot, 7);
	c->parent_id = slot_text(slot, 8);
	c->parent_type = slot_text(slot, 9);
	c->persona = slot_text(slot, 10);
	c->emotion = slot_text(slot, 11);
	c->topic = slot_text(slot, 12);
	st->nturns = 0;
	st->cap = 16;
	st->turns = palloc(st->cap * sizeof(numbered_turn));
	st->have = true;
}

/* The receiver: one row of the cursor. */
static bool
receive_row(TupleTableSlot *slot, DestReceiver *self)
{
	export_state *st = (export_state *) self;
	MemoryContext old;

	slot_getallattrs(slot);
	if (st->have && memcmp(&st->id, DatumGetUUIDP(slot->tts_values[0]), sizeof(pg_uuid_t)) != 0)
		finish_conversation(st);
	old = MemoryContextSwitchTo(st->conv_cxt);
	if (!st->have)
		start_conversation(st, slot);
	if (!slot->tts_isnull[13])	/* not a conversation without turns */
	{
		if (st->nturns == st->cap)
		{
			st->cap *= 2;
			st->turns = repalloc(st->turns, st->cap * sizeof(numbered_turn));
		}
		st->turns[st->nturns].number = DatumGetInt32(slot->tts_values[13]);
		st->turns[st->nturns].turn.role = slot_text(slot, 14);
		st->turns[st->nturns].turn.content = slot_text(slot, 15);
		st->nturns++;
	}
	MemoryContextSwitchTo(old);
	return true;
}

/* Receiver callbacks with nothing to do. */
static void
receive_startup(DestReceiver *self, int operation, TupleDesc desc)
{
}

static void
receive_shutdown(DestReceiver *self)
{
}

static void
receive_destroy(DestReceiver *self)
{
}

/* Queue the next batch of lines; false when there are none left. */
static bool
fetch_lines(export_state *st)
{
	Portal		portal;

	MemoryContextReset(st->lines_cxt);
	st->lines = NIL;
	st->next_line = 0;
	while (st->lines == NIL && !st->exhausted)
	{
		portal = GetPortalByName(st->portal_name);
		if (!PortalIsValid(portal))
			elog(ERROR, "export cursor \"%s\" is gone", st->portal_name);
		if (PortalRunFetch(portal, FETCH_FORWARD, EXPORT_BATCH, &st->dest) == 0)
		{
			st->exhausted = true;
			if (st->have)
				finish_conversation(st);
			PortalDrop(portal, false);
		}
	}
	return st->lines != NIL;
}

/*
 * Insert the export's log row ('processing'), as the caller (the row is
 * theirs under row-level security); returns its id.
 */
static Datum
log_export(const export_args *a)
{
	Oid			types[2] = {TEXTOID, JSONBOID};
	Datum		values[2] = {PointerGetDatum(a->format), JsonbPGetDatum(a->options)};
	bool		isnull;

	if (SPI_execute_with_args("INSERT INTO train_data.export_logs (format, config, conversation_count, status)"
							  " VALUES ($1, $2, 0, 'processing') RETURNING id",
							  2, types, values, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not log the export");
	return SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), false, UUID_LEN);
}

/* The first call: check the arguments, open the cursor. */
static void
start_export(const export_args *a, FuncCallContext *funcctx)
{
	MemoryContext old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
	export_state *st = palloc0(sizeof(export_state));
	char	   *scope = text_to_cstring(a->scope);

	check_scope(scope, a->ids == (Datum) 0, a->filters == NULL);
	if (strcmp(scope, "filtered") == 0)
		check_filters(a->filters);
	st->options = parse_options(a->options, a->shape);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	st->portal_name = MemoryContextStrdup(funcctx->multi_call_memory_ctx, open_cursor(a, scope));
	if (a->format != NULL)
		st->log_id = log_export(a);
	SPI_finish();
	st->dest.receiveSlot = receive_row;
	st->dest.rStartup = receive_startup;
	st->dest.rShutdown = receive_shutdown;
	st->dest.rDestroy = receive_destroy;
	st->dest.mydest = DestNone;
	st->lines_cxt = AllocSetContextCreate(funcctx->multi_call_memory_ctx, "export lines", ALLOCSET_DEFAULT_SIZES);
	st->conv_cxt = AllocSetContextCreate(funcctx->multi_call_memory_ctx, "export conversation", ALLOCSET_DEFAULT_SIZES);
	funcctx->user_fctx = st;
	MemoryContextSwitchTo(old);
}

/* Record the end of a logged export: completed, with its count and size. */
static void
finish_log(const export_state *st)
{
	Oid			types[3] = {UUIDOID, INT8OID, INT8OID};
	Datum		values[3] = {st->log_id, Int64GetDatum(st->count), Int64GetDatum(st->bytes)};

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("UPDATE train_data.export_logs SET status = 'completed',"
							  " conversation_count = $2::integer, file_size = $3,"
							  " expires_at = pg_catalog.now() OPERATOR(pg_catalog.+) interval '24 hours'"
							  " WHERE id OPERATOR(pg_catalog.=) $1",
							  3, types, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not complete the export log");
	SPI_finish();
}

/* The shared body of the export functions: the next line, or the end. */
static Datum
export_next(FunctionCallInfo fcinfo, const export_args *a)
{
	FuncCallContext *funcctx;
	export_state *st;
	text	   *line;

	if (SRF_IS_FIRSTCALL())
		start_export(a, SRF_FIRSTCALL_INIT());
	funcctx = SRF_PERCALL_SETUP();
	st = funcctx->user_fctx;
	if (st->next_line == list_length(st->lines) && !fetch_lines(st))
	{
		if (st->log_id != (Datum) 0)
			finish_log(st);
		SRF_RETURN_DONE(funcctx);
	}
	line = list_nth(st->lines, st->next_line++);
	st->bytes += VARSIZE(line) - VARHDRSZ + (st->count++ > 0 ? 1 : 0);
	SRF_RETURN_NEXT(funcctx, PointerGetDatum(pg_detoast_datum_copy((struct varlena *) line)));
}

/* Fail on a NULL argument. */
static void
require(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("export %s must not be null", what)));
}

/*
 * export_jsonl(shape text, scope text, ids uuid[], filters jsonb, options
 * jsonb) returns setof text — one training-file line per conversation.
 */
Datum
td_export_jsonl_sql(PG_FUNCTION_ARGS)
{
	export_args a = {0};

	if (SRF_IS_FIRSTCALL())
	{
		require(fcinfo, 0, "shape");
		require(fcinfo, 1, "scope");
		require(fcinfo, 4, "options");
		a.shape = parse_shape(PG_GETARG_TEXT_PP(0));
		a.scope = PG_GETARG_TEXT_PP(1);
		a.ids = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
		a.filters = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
		a.options = PG_GETARG_JSONB_P(4);
	}
	return export_next(fcinfo, &a);
}

/*
 * export_conversations(format text, scope text, config jsonb, ids uuid[],
 * filters jsonb) returns setof text — the lines of an export in the
 * original shape, recorded in export_logs: 'processing' from the first
 * line, 'completed' with the count, the size and a 24-hour expiry after the
 * last.  Only the jsonl format exists so far.
 */
Datum
td_export_conversations_sql(PG_FUNCTION_ARGS)
{
	export_args a = {0};

	if (SRF_IS_FIRSTCALL())
	{
		char	   *format;

		require(fcinfo, 0, "format");
		require(fcinfo, 1, "scope");
		require(fcinfo, 2, "config");
		format = text_to_cstring(PG_GETARG_TEXT_PP(0));
		if (strcmp(format, "jsonl") != 0)
			ereport(ERROR,
					(errcode(strcmp(format, "json") == 0 || strcmp(format, "csv") == 0 ||
							 strcmp(format, "markdown") == 0 ? ERRCODE_FEATURE_NOT_SUPPORTED :
							 ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("export format \"%s\" is not available", format),
					 errhint("This version exports jsonl; json, csv and markdown are planned.")));
		a.shape = TD_SHAPE_ORIGINAL;
		a.scope = PG_GETARG_TEXT_PP(1);
		a.options = PG_GETARG_JSONB_P(2);
		a.ids = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
		a.filters = PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4);
		a.format = PG_GETARG_TEXT_PP(0);
	}
	return export_next(fcinfo, &a);
}
